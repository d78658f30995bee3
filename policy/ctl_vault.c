/* ctl_vault.c - issue 5 verbs (key, relay, import, probe): not implemented yet. */
#include <stdio.h>
#include "ctl.h"

static int not_yet(const char *verb)
{
    fprintf(stderr, "smarthostctl: %s: not implemented in this version\n", verb);
    return CTL_USAGE;
}

int ctl_key(struct ctl_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc, (void)argv;
    return not_yet("key");
}

int ctl_relay(struct ctl_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc, (void)argv;
    return not_yet("relay");
}

int ctl_import(struct ctl_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc, (void)argv;
    return not_yet("import");
}

int ctl_probe(struct ctl_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc, (void)argv;
    return not_yet("probe");
}
