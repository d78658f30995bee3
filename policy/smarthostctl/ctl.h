/* ctl.h - smarthostctl verbs. Each verb lives in its own file and returns the exit code. */
#ifndef SH_CTL_H
#define SH_CTL_H

struct ctl_ctx {
    const char *config_path; /* -c FILE */
};

/* exit codes */
#define CTL_OK    0
#define CTL_FAIL  1 /* the check/verb found a problem */
#define CTL_USAGE 2

int ctl_check(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_route(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_postfix_conf(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_postfix_setup(struct ctl_ctx *ctx, int argc, char **argv); /* issue 6 */

/* issue 5 */
int ctl_key(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_relay(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_import(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_probe(struct ctl_ctx *ctx, int argc, char **argv);

#endif
