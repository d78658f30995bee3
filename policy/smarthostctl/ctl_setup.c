/* ctl_setup.c - `smarthostctl postfix-setup --dry-run | --apply | --undo`.
 *
 * Applies the lines `postfix-conf` prints (ctl_postfix.c's tables), plus the
 * policy service and the milter when the config has rules for them, and the lane
 * transports, to a Postfix config directory: postconf(1) reads and removes, and
 * our lines go into one marked block at the end of main.cf and of master.cf.
 * Before changing anything it records every previous value (or "unset") and both
 * files whole in a state file, so --undo puts main.cf and master.cf back byte for
 * byte (value by value when they changed since). --apply refuses when the
 * daemons' sockets do not answer: Postfix would otherwise defer or tempfail
 * every message. A value main.cf has already (our map, policy check or milter,
 * named relative or absolute) is kept, so --apply on a hooked config changes
 * nothing.
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
#include "xalloc.h"

/* Run postconf with ARGS (NULL-terminated); false when it failed. */
static bool pc(const struct setup *s, const char *const *args)
{
    return ctl_postconf(s->dir, args, NULL) == 0;
}

/* "NAME =" or "NAME = VALUE", as postconf writes it. */
static void put_param(FILE *fp, const char *name, const char *value)
{
    fprintf(fp, "%s =%s%s\n", name, *value ? " " : "", value);
}

/* A master.cf line from "SERVICE = FIELDS -o A -o B": FIELDS, then "  -o A" lines. */
static void put_master(FILE *fp, const char *entry)
{
    const char *v = strstr(entry, " = "), *o;

    for (v = v ? v + 3 : entry; (o = strstr(v, " -o ")) != NULL; v = o + 1)
        fprintf(fp, "%.*s\n  ", (int)(o - v), v);
    fprintf(fp, "%s\n", v);
}

/* Our lines, grouped in one marked block at the end of each file: the admin's own
 * lines for the same parameters and services are removed (postconf -X, -M -X). */
static bool write_hookup(const struct setup *s)
{
    const char *xm[MAX_PARAMS + 2] = {"-X"}, *xs[MAX_MASTER + 3] = {"-M", "-X"};
    size_t nx = 1, ns = 2, len;
    char *main_lines = NULL, *master_lines = NULL;
    FILE *fm = open_memstream(&main_lines, &len), *fs = open_memstream(&master_lines, &len);
    bool ok;

    if (fm == NULL || fs == NULL)
        return false;
    for (size_t i = 0; i < s->np; i++) {
        if (s->p[i].old)
            xm[nx++] = s->p[i].name;
        put_param(fm, s->p[i].name, s->p[i].new);
    }
    for (size_t i = 0; i < s->nm; i++) {
        if (s->m[i].old)
            xs[ns++] = s->m[i].service;
        put_master(fs, s->m[i].new);
    }
    fclose(fm);
    fclose(fs);
    ok = (nx == 1 || pc(s, xm)) && (ns == 2 || pc(s, xs)) &&
         setup_append_block(s, "main.cf", main_lines) &&
         setup_append_block(s, "master.cf", master_lines);
    free(main_lines);
    free(master_lines);
    return ok;
}

/* Put FILE back: the saved text when the file is as --apply left it; otherwise
 * our block out and VALUE-level records back in through postconf (at the end of
 * the file, so not byte for byte). true when it worked. */
static bool restore_file(const struct setup *s, const char *file, const struct cf_text *t,
                         bool *exact)
{
    char *cur, *stripped;
    size_t len, slen;
    bool ok, master = strcmp(file, "master.cf") == 0;

    if (!setup_read_cf(s, file, &cur, &len))
        return false;
    if (t->after && t->before && len == t->after_len && memcmp(cur, t->after, len) == 0) {
        free(cur);
        return setup_write_cf(s, file, t->before, t->before_len);
    }
    *exact = false;
    setup_strip_block(cur, len, &stripped, &slen);
    ok = setup_write_cf(s, file, stripped, slen);
    free(cur);
    free(stripped);
    for (size_t i = 0; ok && !master && i < s->np; i++) {
        if (s->p[i].old) {
            size_t n = strlen(s->p[i].name) + strlen(s->p[i].old) + 4;
            char *a = xmalloc(n);
            snprintf(a, n, "%s = %s", s->p[i].name, s->p[i].old);
            const char *args[] = {"-e", a, NULL};
            ok = pc(s, args);
            free(a);
        }
    }
    for (size_t i = 0; ok && master && i < s->nm; i++) {
        if (s->m[i].old) {
            char a[MAX_VALUE + 200];
            snprintf(a, sizeof(a), "%s = %s", s->m[i].service, s->m[i].old);
            const char *args[] = {"-M", "-e", a, NULL};
            ok = pc(s, args);
        }
    }
    return ok;
}

static bool restore(const struct setup *s, bool *exact)
{
    bool ok = restore_file(s, "main.cf", &s->main_cf, exact);
    return restore_file(s, "master.cf", &s->master_cf, exact) && ok;
}

static void list_plan(const struct setup *s)
{
    for (size_t i = 0; i < s->np; i++) {
        const struct param *p = &s->p[i];
        printf("main.cf   %s = %s    (now: %s%s%s%s)\n", p->name, p->new, p->old ? p->old : "unset",
               p->old && !*p->old ? "empty" : "", p->note ? "; " : "", p->note ? p->note : "");
    }
    for (size_t i = 0; i < s->nm; i++)
        printf("master.cf %s    (now: %s)\n", s->m[i].new, s->m[i].old ? s->m[i].old : "unset");
}

static int apply(struct setup *s, bool dry)
{
    bool up;

    /* Everything in place already (applied before, or by hand): a second --apply is
     * a no-op, not a second copy of each line. */
    if (s->np == 0 && s->nm == 0) {
        printf("%snothing to change: %s hooks smarthostd up already\n", dry ? "dry run: " : "",
               s->dir);
        return CTL_OK;
    }
    if (!dry && access(s->state, F_OK) == 0) {
        ctl_err("%s exists: already applied (--undo first)", s->state);
        return CTL_FAIL;
    }
    list_plan(s);
    up = setup_probe_all(s);
    if (dry) {
        printf("dry run: nothing changed in %s%s\n", s->dir,
               up ? "" : "; --apply would refuse: start the daemons first");
        return CTL_OK;
    }
    if (!up) {
        ctl_err("refusing to apply: smarthostd's sockets are not "
                "answering (start the daemons first)");
        return CTL_FAIL;
    }
    /* The state first, with both files whole: --undo works after a crash too. */
    if (!setup_read_cf(s, "main.cf", &s->main_cf.before, &s->main_cf.before_len) ||
        !setup_read_cf(s, "master.cf", &s->master_cf.before, &s->master_cf.before_len) ||
        !setup_write_state(s))
        return CTL_FAIL;
    if (!write_hookup(s) ||
        !setup_read_cf(s, "main.cf", &s->main_cf.after, &s->main_cf.after_len) ||
        !setup_read_cf(s, "master.cf", &s->master_cf.after, &s->master_cf.after_len) ||
        !setup_write_state(s)) {
        ctl_err("writing %s failed; putting the old files back", s->dir);
        free(s->main_cf.after);
        free(s->master_cf.after);
        s->main_cf.after = s->master_cf.after = NULL;
        if (setup_write_cf(s, "main.cf", s->main_cf.before, s->main_cf.before_len) &&
            setup_write_cf(s, "master.cf", s->master_cf.before, s->master_cf.before_len))
            unlink(s->state);
        return CTL_FAIL;
    }
    printf("applied to %s between the \"# smarthostd:\" marker lines (previous values in %s); "
           "now: postfix reload\n",
           s->dir, s->state);
    return CTL_OK;
}

static int undo(struct setup *s)
{
    bool exact = true;

    if (!setup_read_state(s))
        return CTL_FAIL;
    if (!restore(s, &exact)) {
        ctl_err("putting %s back failed; %s kept, try again", s->dir, s->state);
        return CTL_FAIL;
    }
    if (unlink(s->state) != 0)
        ctl_err("%s: %s", s->state, strerror(errno));
    if (exact)
        printf("restored %s as it was before --apply; now: postfix reload\n", s->dir);
    else
        printf("restored %s: changed since --apply, so our lines were removed and the previous "
               "values put back at the end; now: postfix reload\n",
               s->dir);
    return CTL_OK;
}

void setup_free(struct setup *s, bool names_owned)
{
    for (size_t i = 0; i < s->np; i++) {
        free(s->p[i].old);
        free(s->p[i].new);
        if (names_owned)
            free((char *)s->p[i].name);
    }
    for (size_t i = 0; i < s->nm; i++) {
        free(s->m[i].old);
        free(s->m[i].new);
    }
    free(s->main_cf.before);
    free(s->main_cf.after);
    free(s->master_cf.before);
    free(s->master_cf.after);
}

void ctl_postfix_setup_usage(FILE *out)
{
    fprintf(out, "usage: smarthostctl [-c FILE] postfix-setup --dry-run|--apply|--undo\n"
                 "          [--config-dir DIR] [--state FILE] [--socketmap ADDR]\n"
                 "          [--policy ADDR|none] [--milter ADDR|none]\n"
                 "  DIR default /etc/postfix; FILE default " SH_HOOKUP_SETUP_STATE "\n"
                 "  sockets default " SH_HOOKUP_SOCKET_DIR "/{socketmap,policy,milter}\n"
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
    struct setup s = {.dir = "/etc/postfix",
                      .state = SH_HOOKUP_SETUP_STATE,
                      .socketmap = SH_HOOKUP_SOCKETMAP,
                      .policy = SH_HOOKUP_POLICY,
                      .milter = SH_HOOKUP_MILTER};
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
        case DIR_:
            s.dir = optarg;
            break;
        case STATE:
            s.state = optarg;
            break;
        case SOCKETMAP:
            s.socketmap = optarg;
            break;
        case POLICY:
            s.policy = strcmp(optarg, "none") ? optarg : NULL;
            break;
        case MILTER:
            s.milter = strcmp(optarg, "none") ? optarg : NULL;
            break;
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
    setup_free(&s, mode == UNDO);
    return rc;
}
