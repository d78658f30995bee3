/* ctl_import.c - `smarthostctl import dms DIR`: docker-mailserver's relay setup
 * (postfix-relaymap.cf, postfix-sasl-password.cf, RELAY_* / DEFAULT_RELAY_HOST in
 * the environment) into the managed file, through the same edits as `relay`, so
 * it is validated and written atomically or not at all. Order, as Postfix looks
 * them up: @domain credentials first, then [host]:port ones for relays still
 * without credentials. Passwords are stored encrypted. `import postfix` lives in
 * ctl_import_postfix.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctl.h"
#include "ctl_relay.h"
#include "ctl_usage.h"
#include "pftable.h"

typedef bool (*line_fn)(struct ctl_managed *m, const char *file, int lineno, char *key,
                        char *value);

struct each_ctx {
    struct ctl_managed *m;
    line_fn fn;
};

static bool each_entry(void *ctx, const char *path, int lineno, char *key, char *value)
{
    struct each_ctx *e = ctx;

    if (e->fn(e->m, path, lineno, key, value))
        return true;
    fprintf(stderr, "  at %s:%d\n", path, lineno);
    return false;
}

/* Every entry of DIR/NAME (Postfix table syntax); a missing file is fine. */
static bool each_line(struct ctl_managed *m, const char *dir, const char *name, line_fn fn)
{
    struct each_ctx e = {.m = m, .fn = fn};
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return pftable_each(path, true, each_entry, &e);
}

/* "[host]:port" or "host" -> host, port (25) */
static bool split_nexthop(const char *v, char *host, size_t cap, char **port)
{
    const char *close = v[0] == '[' ? strchr(v, ']') : NULL;
    size_t len;

    *port = NULL;
    if (v[0] == '[' && close == NULL)
        return false;
    len = close ? (size_t)(close - v - 1) : strcspn(v, ":");
    if (len >= cap)
        return false;
    snprintf(host, cap, "%.*s", (int)len, close ? v + 1 : v);
    if (close ? close[1] == ':' : v[len] == ':')
        *port = (char *)(close ? close + 2 : v + len + 1);
    return true;
}

static bool relaymap_line(struct ctl_managed *m, const char *file, int lineno, char *key,
                          char *value)
{
    char host[300], *port;

    (void)file, (void)lineno;
    if (key[0] != '@') {
        ctl_err("import: \"%.80s\": only @domain keys are supported", key);
        return false;
    }
    if (*value == 0) /* docker-mailserver's opt-out: no relay for this domain */
        return relay_exclude_domain(m, key);
    if (!split_nexthop(value, host, sizeof(host), &port)) {
        ctl_err("import: \"%.80s\": write [host]:port", value);
        return false;
    }
    return relay_add_domain(m, key, host, port);
}

static bool split_userpass(char *value, char **pw)
{
    char *colon = strchr(value, ':');
    if (colon == NULL || colon == value || colon[1] == 0) {
        ctl_err("import: credentials must be user:password");
        return false;
    }
    *colon = 0;
    *pw = colon + 1;
    return true;
}

static bool sasl_domain_line(struct ctl_managed *m, const char *file, int lineno, char *key,
                             char *value)
{
    char *pw;
    (void)file, (void)lineno;
    if (key[0] != '@')
        return true; /* [host]:port lines: second pass */
    return split_userpass(value, &pw) && relay_add_auth(m, key, value, pw);
}

static bool sasl_host_line(struct ctl_managed *m, const char *file, int lineno, char *key,
                           char *value)
{
    char host[300], *port, *pw, *end;
    long p = 25;
    (void)file, (void)lineno;
    if (key[0] == '@')
        return true;
    if (!split_nexthop(key, host, sizeof(host), &port) || !split_userpass(value, &pw))
        return false;
    if (port && ((p = strtol(port, &end, 10)) < 1 || p > 65535 || *end)) {
        ctl_err("import: \"%.80s\": bad port", key);
        return false;
    }
    if (relay_auth_nexthop(m, host, (int)p, value, pw) == 0)
        fprintf(stderr, "note: %s: no imported relay uses it, skipped\n", key);
    return true;
}

/* RELAY_HOST (+RELAY_PORT) wins over DEFAULT_RELAY_HOST, as in docker-mailserver. */
static bool env_default(struct ctl_managed *m)
{
    const char *rh = getenv("RELAY_HOST"), *dh = getenv("DEFAULT_RELAY_HOST");
    const char *user = getenv("RELAY_USER"), *pw = getenv("RELAY_PASSWORD");
    char host[300], *port = NULL;

    if (rh && *rh) {
        snprintf(host, sizeof(host), "%s", rh);
        port = getenv("RELAY_PORT");
    } else if (dh && *dh) {
        if (!split_nexthop(dh, host, sizeof(host), &port))
            return false;
    } else {
        return true;
    }
    if (!relay_set_default(m, host, port && *port ? port : NULL) ||
        ((user && *user && pw && *pw) && !relay_default_auth(m, user, pw)))
        return false;
    /* Imported now: validate (and run) without them, or the loader adds its "env" relay. */
    printf("imported RELAY_* / DEFAULT_RELAY_HOST: remove them from smarthostd's environment\n");
    unsetenv("RELAY_HOST"), unsetenv("RELAY_PORT"), unsetenv("DEFAULT_RELAY_HOST");
    unsetenv("RELAY_USER"), unsetenv("RELAY_PASSWORD");
    return true;
}

static bool import_dms(struct ctl_managed *m, const char *dir)
{
    return each_line(m, dir, "postfix-relaymap.cf", relaymap_line) && env_default(m) &&
           each_line(m, dir, "postfix-sasl-password.cf", sasl_domain_line) &&
           each_line(m, dir, "postfix-sasl-password.cf", sasl_host_line);
}

void ctl_import_usage(FILE *out)
{
    fprintf(out, "usage: smarthostctl [-c FILE] import dms DIR\n"
                 "       smarthostctl [-c FILE] import postfix [--encrypt-auth] [CONFIG_DIR]\n"
                 "  into the managed file, validated and written whole or not at all\n");
}

int ctl_import(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const char *const sources[] = {"dms", "postfix", NULL};
    struct ctl_managed m;
    int rc = CTL_FAIL;
    bool dms = false, encrypt_auth = false, ok;
    const char *dir;

    if (argc == 3 && strcmp(argv[1], "dms") == 0) {
        dms = true;
        dir = argv[2];
    } else if (argc >= 2 && argc <= 4 && strcmp(argv[1], "postfix") == 0) {
        encrypt_auth = argc > 2 && strcmp(argv[2], "--encrypt-auth") == 0;
        dir = argc > 2 + encrypt_auth ? argv[2 + encrypt_auth] : "/etc/postfix";
        if (argc == 4 && !encrypt_auth)
            goto usage;
    } else {
        goto usage;
    }
    /* One transaction either way: validated and written whole, or not at all. */
    if (!ctl_managed_open(&m, ctx)) {
        ctl_managed_close(&m);
        return CTL_FAIL;
    }
    ok = dms ? import_dms(&m, dir) : ctl_import_postfix(&m, dir, encrypt_auth);
    if (ok)
        rc = ctl_managed_commit(&m);
    else
        ctl_err("import: nothing written");
    ctl_managed_close(&m);
    return rc;
usage:
    if (argc >= 2 && strcmp(argv[1], "dms") != 0 && strcmp(argv[1], "postfix") != 0)
        return ctl_unknown_word("import source", argv[1], sources);
    ctl_import_usage(stderr);
    return CTL_USAGE;
}
