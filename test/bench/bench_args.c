/* bench_args.c - the [-c CONNS] [-d SECS] [-w SECS] TARGET command line of the load clients. */
#include "bench_args.h"

#include <stdlib.h>
#include <unistd.h>

bool bench_loop_args(int argc, char **argv, int max_conns, struct bench_loop_args *a)
{
    int ch;

    while ((ch = getopt(argc, argv, "c:d:w:")) != -1) {
        switch (ch) {
        case 'c':
            a->conns = atoi(optarg);
            break;
        case 'd':
            a->run_s = atof(optarg);
            break;
        case 'w':
            a->warm_s = atof(optarg);
            break;
        default:
            return false;
        }
    }
    if (optind != argc - 1 || a->conns < 1 || a->conns > max_conns || a->run_s <= 0 ||
        a->run_s > 600 || a->warm_s < 0 || a->warm_s > 60)
        return false;
    a->target = argv[optind];
    return true;
}
