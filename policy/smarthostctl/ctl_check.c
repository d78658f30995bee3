/* ctl_check.c - `smarthostctl check`: load exactly as the daemons do. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "ctl_env.h"
#include "ctl_snapshot.h"
#include "ctl_usage.h"

void ctl_check_usage(FILE *out)
{
    fprintf(out, "usage: smarthostctl [-c FILE] check\n"
                 "  load FILE as the daemons would; print its warnings and a summary\n");
}

int ctl_check(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct sh_snapshot *s;

    (void)argv;
    if (argc != 1) {
        ctl_check_usage(stderr);
        return CTL_USAGE;
    }
    if ((s = ctl_load(ctx->config_path)) == NULL)
        return CTL_FAIL;
    for (size_t i = 0; i < s->nwarnings; i++)
        ctl_warn("%s", s->warnings[i]);
    if (s->default_relay && strcmp(s->default_relay->origin.file, "environment") == 0) {
        const char *v = ctl_env_origin("RELAY_HOST") ? "RELAY_HOST" : "DEFAULT_RELAY_HOST";
        printf("default relay %s from %s (%s)\n", s->default_relay->nexthop, v,
               ctl_env_origin(v) ? ctl_env_origin(v) : "environment");
    }
    printf("%s: configuration OK (%zu relays, %zu credentials, %zu sender rules, %zu transports, "
           "default relay %s)\n",
           ctx->config_path, s->nrelays, s->ncreds, s->nrules, s->ntransports,
           s->default_relay ? s->default_relay->name : "none: unmatched senders go direct");
    sh_snapshot_free(s);
    return CTL_OK;
}
