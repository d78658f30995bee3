/* ctl_main.c - smarthostctl: option parsing and verb dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "msg.h"
#include "privs.h"

static const struct verb {
    const char *name;
    int (*fn)(struct ctl_ctx *, int, char **);
    const char *usage;
} verbs[] = {
    {"check", ctl_check, "check                     validate the configuration"},
    {"route", ctl_route, "route SENDER [RECIPIENT]  explain where a message goes and why"},
    {"postfix-conf", ctl_postfix_conf,
     "postfix-conf [ADDR [QDIR]] print the main.cf/master.cf lines that hook Postfix up"},
    {"postfix-setup", ctl_postfix_setup,
     "postfix-setup --dry-run|--apply|--undo  apply those lines through postconf, reversibly"},
    {"key", ctl_key, "key init|rotate           manage the vault key"},
    {"relay", ctl_relay, "relay ...                 add, exclude and list relays"},
    {"import", ctl_import, "import dms|postfix DIR    import an existing setup"},
    {"probe", ctl_probe, "probe RELAY               test a relay end to end"},
};

static int usage(void)
{
    fprintf(stderr, "usage: smarthostctl [-c FILE] VERB [ARGS]\n  default FILE: %s\n",
            SH_DEFAULT_CONFIG);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(stderr, "  %s\n", verbs[i].usage);
    return CTL_USAGE;
}

int main(int argc, char **argv)
{
    struct ctl_ctx ctx = {.config_path = SH_DEFAULT_CONFIG};
    int c;

    sh_privs_no_core_dumps(); /* verbs hold passwords and the vault key */
    msg_open("smarthostctl", true);
    while ((c = getopt(argc, argv, "+c:h")) != -1) {
        switch (c) {
        case 'c':
            ctx.config_path = optarg;
            break;
        default:
            return usage();
        }
    }
    if (optind >= argc)
        return usage();
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(argv[optind], verbs[i].name) == 0)
            return verbs[i].fn(&ctx, argc - optind, argv + optind);
    fprintf(stderr, "smarthostctl: unknown verb \"%.40s\"\n", argv[optind]);
    return usage();
}
