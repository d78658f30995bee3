/* ctl.h - smarthostctl: the verbs, their exit statuses and the one error path. */
#ifndef SH_CTL_H
#define SH_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "msg.h" /* SH_PRINTF */

struct ctl_ctx {
    const char *config_path; /* -c FILE */
    const char *env_file;    /* --env-file FILE: the daemon's environment file */
};

/* Exit statuses, the same for every verb (listed in the usage text). */
#define CTL_OK    0
#define CTL_FAIL  1 /* the operation failed or found a problem; nothing was half done */
#define CTL_USAGE 2 /* the command line is wrong: unknown verb or option, a malformed argument */

/* "smarthostctl: TEXT" on stderr; return CTL_FAIL (ctl_err) or CTL_USAGE (ctl_usage_err). */
int ctl_err(const char *fmt, ...) SH_PRINTF(1, 2);
int ctl_usage_err(const char *fmt, ...) SH_PRINTF(1, 2);
/* "warning: TEXT" on stderr: carry on. */
void ctl_warn(const char *fmt, ...) SH_PRINTF(1, 2);

/* WORD is not one of KNOWN (NULL-terminated): name it, suggest the nearest known
 * word (edit distance) or list them all. Returns CTL_USAGE. WHAT says which kind
 * of word ("verb", "relay verb", ...). */
int ctl_unknown_word(const char *what, const char *word, const char *const *known);

/* A verb's own usage text to OUT: stderr after a usage error, stdout for --help. */
typedef void ctl_usage_fn(FILE *out);

int ctl_check(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_route(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_postfix_conf(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_defaults(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_postfix_setup(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_key(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_relay(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_import(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_probe(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_report(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_status(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_stats(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_ratelimit(struct ctl_ctx *ctx, int argc, char **argv);

#endif
