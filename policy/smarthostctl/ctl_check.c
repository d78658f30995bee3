/* ctl_check.c - `smarthostctl check`: load exactly as the daemons do. */
#include <stdio.h>

#include "config.h"
#include "ctl.h"

int ctl_check(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct sh_error err;
    struct sh_snapshot *s;

    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: smarthostctl [-c FILE] check\n");
        return CTL_USAGE;
    }
    if ((s = sh_config_load(ctx->config_path, &err)) == NULL) {
        fprintf(stderr, "%s\n", err.text);
        return CTL_FAIL;
    }
    for (size_t i = 0; i < s->nwarnings; i++)
        fprintf(stderr, "warning: %s\n", s->warnings[i]);
    printf("%s: configuration OK (%zu relays, %zu credentials, %zu sender rules, %zu transports, "
           "default relay %s)\n",
           ctx->config_path, s->nrelays, s->ncreds, s->nrules, s->ntransports,
           s->default_relay ? s->default_relay->name : "none: unmatched senders go direct");
    sh_snapshot_free(s);
    return CTL_OK;
}
