/* ctl_main.c - smarthostctl: options, --help and --version, verb dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "ctl_env.h"
#include "ctl_postconf.h"
#include "ctl_usage.h"
#include "msg.h"
#include "privs.h"

#ifndef SH_VERSION
#error "SH_VERSION (the meson project version) must be defined"
#endif

static const struct verb {
    const char *name;
    int (*fn)(struct ctl_ctx *, int, char **);
    ctl_usage_fn *usage;
    const char *summary;
} verbs[] = {
    {"check", ctl_check, ctl_check_usage, "check                     validate the configuration"},
    {"route", ctl_route, ctl_route_usage,
     "route SENDER [RECIPIENT]  explain where a message goes and why"},
    {"postfix-conf", ctl_postfix_conf, ctl_postfix_conf_usage,
     "postfix-conf [ADDR [QDIR]] print the main.cf/master.cf lines that hook Postfix up"},
    {"defaults", ctl_defaults, ctl_defaults_usage,
     "defaults                  the packaged sockets, pidfiles and Postfix lines, KEY VALUE"},
    {"postfix-setup", ctl_postfix_setup, ctl_postfix_setup_usage,
     "postfix-setup --dry-run|--apply|--undo  apply those lines through postconf, reversibly"},
    {"key", ctl_key, ctl_key_usage, "key init|rotate|recover   manage the vault key"},
    {"relay", ctl_relay, ctl_relay_usage, "relay ...                 add, exclude and list relays"},
    {"import", ctl_import, ctl_import_usage, "import dms|postfix DIR    import an existing setup"},
    {"probe", ctl_probe, ctl_probe_usage, "probe RELAY|DOMAIN        test a relay end to end"},
    {"status", ctl_status, ctl_status_usage,
     "status                    what the running daemons say"},
    {"stats", ctl_stats, ctl_stats_usage,
     "stats [--prometheus]      the running daemons' counters"},
    {"ratelimit", ctl_ratelimit, ctl_ratelimit_usage,
     "ratelimit show [KEY] | reset KEY  rate-limit budgets in the running smarthostd"},
    {"report", ctl_report, ctl_report_usage,
     "report [--since D] [LOG]  deliveries per relay, deferral reasons, from Postfix's log"},
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smarthostctl [-v] [-c FILE] [--env-file FILE] VERB [ARGS]\n"
            "       smarthostctl --help | --version\n"
            "       smarthostctl VERB --help\n"
            "  default FILE: %s; -v: show postconf's own warnings too\n"
            "  --env-file: the daemons' environment file (RELAY_*), default %s\n",
            SH_DEFAULT_CONFIG, CTL_ENV_FILE);
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(out, "  %s\n", verbs[i].summary);
    fprintf(out, "exit status: 0 done; 1 the operation failed or found a problem (nothing is\n"
                 "  left half done); 2 usage error: unknown verb or option, bad argument\n");
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
        {"config", required_argument, NULL, 'c'},   {"verbose", no_argument, NULL, 'v'},
        {"env-file", required_argument, NULL, 'E'}, {NULL, 0, NULL, 0}};
    const char *names[NVERBS + 1];
    struct ctl_ctx ctx = {.config_path = SH_DEFAULT_CONFIG, .env_file = CTL_ENV_FILE};
    const char *env_file = getenv("SMARTHOSTCTL_ENV_FILE"); /* tests: "" reads none */
    int c;

    sh_privs_no_core_dumps(); /* verbs hold passwords and the vault key */
    msg_open("smarthostctl", true);
    if (env_file)
        ctx.env_file = env_file;
    opterr = 0; /* our own messages, with the exit status of a usage error */
    while ((c = getopt_long(argc, argv, "+c:hVv", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctx.config_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return CTL_OK;
        case 'V':
            printf("smarthostctl %s\n", SH_VERSION);
            return CTL_OK;
        case 'v':
            ctl_postconf_verbose = true;
            break;
        case 'E':
            ctx.env_file = optarg;
            break;
        case '?':
            if (optopt)
                ctl_usage_err("option -%c %s", optopt,
                              optopt == 'c' ? "needs a FILE" : "is not known");
            else
                ctl_usage_err("option \"%.64s\" is not known", argv[optind - 1]);
            usage(stderr);
            return CTL_USAGE;
        default:
            usage(stderr);
            return CTL_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return CTL_USAGE;
    }
    if (strcmp(argv[optind], "help") == 0 && optind + 1 == argc) {
        usage(stdout);
        return CTL_OK;
    }
    for (size_t i = 0; i < NVERBS; i++) {
        if (strcmp(argv[optind], verbs[i].name) != 0)
            continue;
        if (optind + 1 < argc && is_help(argv[optind + 1])) {
            verbs[i].usage(stdout);
            return CTL_OK;
        }
        /* Every verb but import loads the config as the daemon does: with its environment
         * file (import dms reads docker-mailserver's variables from the process instead). */
        if (strcmp(verbs[i].name, "import") != 0)
            ctl_env_apply(ctx.env_file);
        return verbs[i].fn(&ctx, argc - optind, argv + optind);
    }
    for (size_t i = 0; i < NVERBS; i++)
        names[i] = verbs[i].name;
    names[NVERBS] = NULL;
    ctl_unknown_word("verb", argv[optind], names);
    fprintf(stderr, "(smarthostctl --help lists them all)\n");
    return CTL_USAGE;
}
