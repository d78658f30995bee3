/* ctl_setup.c - `smarthostctl postfix-setup --dry-run | --apply | --undo`.
 *
 * Applies the lines `postfix-conf` prints (ctl_postfix.c's tables), plus the
 * policy service and the milter, to a Postfix config directory through
 * postconf(1) only. Before changing anything it records every previous value
 * (or "unset") in a state file, so --undo puts main.cf and master.cf back.
 * --apply refuses when the daemons' sockets do not answer: Postfix would
 * otherwise defer or tempfail every message.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_postconf.h"
#include "ctl_setup.h"
#include "ctl_usage.h"

/* Put back what the state says. true when every postconf call succeeded. */
static bool restore(const struct setup *s)
{
    const char *unset[MAX_PARAMS + 2] = {"-X"}, *set[MAX_PARAMS + 2] = {"-e"};
    char *assign[MAX_PARAMS] = {0}, master[MAX_VALUE + 200];
    size_t nu = 1, ns = 1;
    bool ok = true;

    for (size_t i = 0; i < s->np; i++) {
        if (s->p[i].old == NULL) {
            unset[nu++] = s->p[i].name;
        } else {
            size_t n = strlen(s->p[i].name) + strlen(s->p[i].old) + 4;
            if ((assign[i] = malloc(n)) == NULL)
                return false;
            snprintf(assign[i], n, "%s = %s", s->p[i].name, s->p[i].old);
            set[ns++] = assign[i];
        }
    }
    if (ns > 1 && ctl_postconf(s->dir, set, NULL) != 0)
        ok = false;
    if (nu > 1 && ctl_postconf(s->dir, unset, NULL) != 0)
        ok = false;
    for (size_t i = 0; i < s->np; i++)
        free(assign[i]);
    if (s->master_old) {
        snprintf(master, sizeof(master), "%s = %s", s->service, s->master_old);
        const char *args[] = {"-M", "-e", master, NULL};
        ok = ctl_postconf(s->dir, args, NULL) == 0 && ok;
    } else if (*s->service) {
        const char *args[] = {"-M", "-X", s->service, NULL};
        ok = ctl_postconf(s->dir, args, NULL) == 0 && ok;
    }
    return ok;
}

static int apply(struct setup *s, bool dry)
{
    const char *set[MAX_PARAMS + 2] = {"-e"};
    char *assign[MAX_PARAMS] = {0};
    bool up;
    int rc = CTL_OK;

    if (!dry && access(s->state, F_OK) == 0) {
        ctl_err("%s exists: already applied (--undo first)", s->state);
        return CTL_FAIL;
    }
    for (size_t i = 0; i < s->np; i++) {
        size_t n = strlen(s->p[i].name) + strlen(s->p[i].new) + 4;
        if ((assign[i] = malloc(n)) == NULL)
            return CTL_FAIL;
        snprintf(assign[i], n, "%s = %s", s->p[i].name, s->p[i].new);
        set[i + 1] = assign[i];
        if (dry)
            printf("main.cf   %s = %s    (now: %s%s)\n", s->p[i].name, s->p[i].new,
                   s->p[i].old ? s->p[i].old : "unset", s->p[i].old && !*s->p[i].old ? "empty" : "");
    }
    if (dry)
        printf("master.cf %s    (now: %s)\n", s->master_new, s->master_old ? s->master_old : "unset");
    up = setup_probe_all(s);
    if (dry) {
        printf("dry run: nothing changed in %s%s\n", s->dir,
               up ? "" : "; --apply would refuse: start the daemons first");
    } else if (!up) {
        ctl_err("refusing to apply: smarthostd's sockets are not "
                "answering (start the daemons first)");
        rc = CTL_FAIL;
    } else if (!setup_write_state(s)) {
        rc = CTL_FAIL;
    } else {
        const char *margs[] = {"-M", "-e", s->master_new, NULL};
        if (ctl_postconf(s->dir, set, NULL) != 0 || ctl_postconf(s->dir, margs, NULL) != 0) {
            ctl_err("postconf failed; putting the old values back");
            if (restore(s))
                unlink(s->state);
            rc = CTL_FAIL;
        } else {
            printf("applied to %s (previous values in %s); now: postfix reload\n", s->dir,
                   s->state);
        }
    }
    for (size_t i = 0; i < s->np; i++)
        free(assign[i]);
    return rc;
}

static int undo(struct setup *s)
{
    if (!setup_read_state(s))
        return CTL_FAIL;
    if (!restore(s)) {
        ctl_err("postconf failed; %s kept, try again", s->state);
        return CTL_FAIL;
    }
    if (unlink(s->state) != 0)
        ctl_err("%s: %s", s->state, strerror(errno));
    printf("restored %s; now: postfix reload\n", s->dir);
    return CTL_OK;
}

void ctl_postfix_setup_usage(FILE *out)
{
    fprintf(out,
            "usage: smarthostctl [-c FILE] postfix-setup --dry-run|--apply|--undo\n"
            "          [--config-dir DIR] [--state FILE] [--socketmap ADDR]\n"
            "          [--policy ADDR|none] [--milter ADDR|none]\n"
            "  DIR default /etc/postfix; FILE default " DEFAULT_STATE "\n"
            "  sockets default " SOCK_DIR "/{socketmap,policy,milter}\n"
            "  postconf's own warnings are shown when it fails, or with smarthostctl -v\n");
}

static int usage(void)
{
    ctl_postfix_setup_usage(stderr);
    return CTL_USAGE;
}

int ctl_postfix_setup(struct ctl_ctx *ctx, int argc, char **argv)
{
    enum { DRY = 1, APPLY, UNDO, DIR_, STATE, SOCKETMAP, POLICY, MILTER };
    static const struct option longopts[] = {
        {"dry-run", no_argument, NULL, DRY},
        {"apply", no_argument, NULL, APPLY},
        {"undo", no_argument, NULL, UNDO},
        {"config-dir", required_argument, NULL, DIR_},
        {"state", required_argument, NULL, STATE},
        {"socketmap", required_argument, NULL, SOCKETMAP},
        {"policy", required_argument, NULL, POLICY},
        {"milter", required_argument, NULL, MILTER},
        {NULL, 0, NULL, 0},
    };
    struct setup s = {.dir = "/etc/postfix", .state = DEFAULT_STATE, .socketmap = DEFAULT_SOCKETMAP,
                      .policy = DEFAULT_POLICY, .milter = DEFAULT_MILTER};
    int mode = 0, c, rc;

    optind = 0; /* a fresh getopt scan over the verb's own arguments */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case DRY:
        case APPLY:
        case UNDO:
            if (mode && mode != c)
                return usage();
            mode = c;
            break;
        case DIR_: s.dir = optarg; break;
        case STATE: s.state = optarg; break;
        case SOCKETMAP: s.socketmap = optarg; break;
        case POLICY: s.policy = strcmp(optarg, "none") ? optarg : NULL; break;
        case MILTER: s.milter = strcmp(optarg, "none") ? optarg : NULL; break;
        default:
            ctl_usage_err("postfix-setup: option \"%.64s\" is not known or needs a value",
                          argv[optind - 1]);
            return usage();
        }
    }
    if (!mode || optind != argc || strlen(s.state) > 1000)
        return usage();
    if (mode == UNDO)
        rc = undo(&s);
    else
        rc = setup_plan(&s, ctx->config_path) ? apply(&s, mode == DRY) : CTL_FAIL;
    for (size_t i = 0; i < s.np; i++) {
        free(s.p[i].old);
        free(s.p[i].new);
        if (mode == UNDO)
            free((char *)s.p[i].name);
    }
    free(s.master_old);
    return rc;
}

