/* bench_args.h - the command line the closed-loop load clients share (policy_load, milter_load).
 *
 *   [-c CONNS] [-d SECS] [-w SECS] TARGET
 */
#ifndef BENCH_ARGS_H
#define BENCH_ARGS_H

#include <stdbool.h>

struct bench_loop_args {
    int conns;          /* -c: connections, one thread each; 1 to the client's maximum */
    double run_s;       /* -d: measured seconds, above 0 and at most 600 */
    double warm_s;      /* -w: warm-up seconds before measuring, 0 to 60 */
    const char *target; /* the one operand: the endpoint under load */
};

/* Parses ARGV into A, which holds the client's defaults; false when an option is unknown, a
 * value is out of its bounds (conns up to MAX_CONNS) or there is not exactly one operand. */
bool bench_loop_args(int argc, char **argv, int max_conns, struct bench_loop_args *a);

#endif
