/* ctl_import.c - `smarthostctl import dms DIR`: docker-mailserver's relay setup
 * (postfix-relaymap.cf, postfix-sasl-password.cf, RELAY_* / DEFAULT_RELAY_HOST in the
 * environment, and with RELAY_HOST the mail domains of postfix-accounts.cf and
 * postfix-virtual.cf) into the managed file, through the same edits as `relay`, so it
 * is validated and written atomically or not at all. Every entry it makes is marked
 * imported_from = "dms:FILE:LINE"; importing again first removes the marked ones, so
 * the imported part equals the files, and never touches what was added by hand.
 * Passwords are stored encrypted. `import postfix` lives in ctl_import_postfix.c. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_relay.h"
#include "ctl_usage.h"
#include "pftable.h"
#include "resolve.h"
#include "strmap.h"

#define SRC_MAX 4200

struct dms {
    struct ctl_managed *m;
    const char *dir;
    struct strmap *seen; /* keys of one file (a duplicate is refused) */
    int pass;            /* the sasl file: 1 sender keys, 2 nexthop keys */
    bool relay_host;     /* RELAY_HOST set: docker-mailserver relays its own domains */
    const char *relay_host_name;
    char relay_port[8];
    struct strmap *own; /* postfix-relaymap.cf keys, opt-outs included */
};

static void src_of(char *src, const char *path, int lineno)
{
    snprintf(src, SRC_MAX, "dms:%s:%d", path, lineno);
}

/* "[host]:port", "[host]", "host:port" or "host": HOST and PORT (NULL: 25); *MX when
 * there are no brackets (Postfix would look up MX records). */
static bool split_nexthop(const char *v, char *host, size_t cap, char **port, bool *mx)
{
    const char *close = v[0] == '[' ? strchr(v, ']') : NULL;
    size_t len;

    *port = NULL;
    *mx = v[0] != '[';
    if (v[0] == '[' && close == NULL)
        return false;
    if (close && close[1] != 0 && close[1] != ':')
        return false;
    len = close ? (size_t)(close - v - 1) : strcspn(v, ":");
    if (len >= cap || len == 0)
        return false;
    snprintf(host, cap, "%.*s", (int)len, close ? v + 1 : v);
    if (close ? close[1] == ':' : v[len] == ':')
        *port = (char *)(close ? close + 2 : v + len + 1);
    return true;
}

/* OK, or the failed edit's message completed with the line it came from. */
static bool at_line(bool ok, const char *path, int lineno)
{
    if (!ok)
        fprintf(stderr, "  at %s:%d\n", path, lineno);
    return ok;
}

static void mx_warning(const char *where, const char *v, const char *host)
{
    ctl_warn("%s: \"%.120s\" has no [brackets]: Postfix would look up the MX records of %s; "
             "smarthostd relays to %s itself (write [%s] in docker-mailserver to silence this)",
             where, v, host, host, host);
}

/* A key seen before in this file: Postfix would use the first and ignore this line;
 * the import refuses rather than drop a line unnoticed. */
static bool duplicate(struct dms *d, const char *path, int lineno, const char *key)
{
    char k[SH_MAX_KEY + 1];

    snprintf(k, sizeof(k), "%s", key);
    for (char *p = k; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (strmap_get(d->seen, k, strlen(k)) == NULL) {
        strmap_put(d->seen, k, (void *)"");
        return false;
    }
    ctl_err("%s:%d: \"%.80s\" is listed before in this file (Postfix would ignore this line): "
            "delete one of them",
            path, lineno, key);
    return true;
}

/* The managed rule for KEY must not be one made by hand (hand rules are never touched). */
static bool hand_made(struct dms *d, const char *path, int lineno, const char *key)
{
    config_setting_t *senders = ctl_managed_section(d->m, "senders", CONFIG_TYPE_LIST);
    char k[SH_MAX_KEY + 1];
    enum sh_rule_kind kind;
    const char *why, *match;

    if (!sh_sender_pattern(key[0] == '@' || strchr(key, '@') ? key : "", k, &kind, &why))
        return false; /* the edit itself names the problem */
    for (int i = 0; i < config_setting_length(senders); i++) {
        config_setting_t *g = config_setting_get_elem(senders, (unsigned)i);
        if (config_setting_lookup_string(g, "match", &match) && strcmp(match, k) == 0 &&
            config_setting_get_member(g, "imported_from") == NULL) {
            ctl_err("%s:%d: %s has a rule made by hand in %s (relay ...): the import never "
                    "changes it; remove it (relay del-domain) or delete this line",
                    path, lineno, k, d->m->path);
            return true;
        }
    }
    return false;
}

static bool relaymap_line(void *ctx, const char *path, int lineno, char *key, char *value)
{
    struct dms *d = ctx;
    char host[300], *port, src[SRC_MAX], where[SRC_MAX];
    bool mx;

    if (hand_made(d, path, lineno, key))
        return false;
    if (duplicate(d, path, lineno, key))
        return false;
    src_of(src, path, lineno);
    strmap_put(d->own, key, (void *)"");
    if (*value == 0) /* docker-mailserver's opt-out: no relay for this domain */
        return at_line(relay_exclude_domain(d->m, key, src), path, lineno);
    if (!split_nexthop(value, host, sizeof(host), &port, &mx)) {
        ctl_err("%s:%d: \"%.80s\": write [host]:port", path, lineno, value);
        return false;
    }
    if (mx) {
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        mx_warning(where, value, host);
    }
    return at_line(relay_add_domain(d->m, key, host, port, RELAY_TLS_AUTO, src), path, lineno);
}

static bool split_userpass(const char *path, int lineno, char *value, char **pw)
{
    char *colon = strchr(value, ':');

    if (colon == NULL || colon == value || colon[1] == 0) {
        ctl_err("%s:%d: credentials must be user:password", path, lineno);
        return false;
    }
    *colon = 0;
    *pw = colon + 1;
    return true;
}

/* postfix-sasl-password.cf: pass 1 the sender keys (@domain, user@domain), pass 2 the
 * nexthop keys ([host]:port, [host], host) once every relay exists. */
static bool sasl_line(void *ctx, const char *path, int lineno, char *key, char *value)
{
    struct dms *d = ctx;
    char host[300], *port, *pw, *end, src[SRC_MAX], where[SRC_MAX];
    bool sender = strchr(key, '@') != NULL, mx;
    long p = 25;
    int n;

    if (sender != (d->pass == 1))
        return true;
    if (sender && hand_made(d, path, lineno, key))
        return false;
    if (duplicate(d, path, lineno, key))
        return false;
    src_of(src, path, lineno);
    if (!split_userpass(path, lineno, value, &pw))
        return false;
    if (sender)
        return at_line(relay_add_auth(d->m, key, value, pw, src), path, lineno);
    if (!split_nexthop(key, host, sizeof(host), &port, &mx)) {
        ctl_err("%s:%d: \"%.80s\": write [host]:port, [host] or user@domain", path, lineno, key);
        return false;
    }
    if (port && ((p = strtol(port, &end, 10)) < 1 || p > 65535 || *end)) {
        ctl_err("%s:%d: \"%.80s\": bad port", path, lineno, key);
        return false;
    }
    if (mx && port) {
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        mx_warning(where, key, host);
    }
    /* A bare host name is Postfix's lookup by the server's name: any port. */
    if ((n = relay_auth_nexthop(d->m, host, mx && !port ? -1 : (int)p, value, pw, src)) < 0)
        return at_line(false, path, lineno);
    if (n == 0)
        printf("note: %s:%d: no sender uses %s yet; its login is kept with that relay\n", path,
               lineno, key);
    return true;
}

static bool each_file(struct dms *d, const char *name,
                      bool (*fn)(void *, const char *, int, char *, char *))
{
    char path[4096];
    bool ok;

    snprintf(path, sizeof(path), "%s/%s", d->dir, name);
    d->seen = strmap_new(64);
    ok = pftable_each(path, true, fn, d);
    strmap_free(d->seen);
    d->seen = NULL;
    return ok;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* With RELAY_HOST, docker-mailserver relays each of its own mail domains (of
 * postfix-accounts.cf and postfix-virtual.cf) through RELAY_HOST unless the relay map
 * names it (a relay or an opt-out). */
static bool vhost_line(void *ctx, const char *path, int lineno, char *key, char *value)
{
    struct dms *d = ctx;
    char line[PFTABLE_MAX_LINE], dom[SH_MAX_KEY + 2], src[SRC_MAX];
    const char *at;

    snprintf(line, sizeof(line), "%s", key);
    (void)value;
    line[strcspn(line, "|")] = 0; /* postfix-accounts.cf: user@domain|{SCHEME}hash */
    if ((at = strrchr(line, '@')) == NULL || !sh_domain_valid(at + 1, strlen(at + 1)))
        return true;
    snprintf(dom, sizeof(dom), "@%s", at + 1);
    for (char *p = dom; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (strmap_get(d->own, dom, strlen(dom)) || strmap_get(d->seen, dom, strlen(dom)))
        return true;
    strmap_put(d->seen, dom, (void *)"");
    src_of(src, path, lineno);
    return relay_add_domain(d->m, dom, d->relay_host_name, d->relay_port, RELAY_TLS_AUTO, src);
}

static bool env_default(struct dms *d)
{
    const char *rh = env("RELAY_HOST"), *dh = env("DEFAULT_RELAY_HOST");
    const char *user = env("RELAY_USER"), *pw = env("RELAY_PASSWORD");
    char host[300], *port = NULL;
    bool mx;

    if (!rh && !dh) {
        if (user || pw)
            printf("note: RELAY_USER/RELAY_PASSWORD without RELAY_HOST or DEFAULT_RELAY_HOST: "
                   "docker-mailserver does not use them, nor does the import\n");
        return true;
    }
    if (dh) {
        if (!split_nexthop(dh, host, sizeof(host), &port, &mx)) {
            ctl_err("DEFAULT_RELAY_HOST \"%.120s\": write [host]:port", dh);
            return false;
        }
        if (mx)
            mx_warning("DEFAULT_RELAY_HOST", dh, host);
        if (!relay_set_default(d->m, host, port, RELAY_TLS_AUTO, "dms:DEFAULT_RELAY_HOST"))
            return false;
    }
    if (rh) {
        d->relay_host = true;
        d->relay_host_name = rh;
        snprintf(d->relay_port, sizeof(d->relay_port), "%s",
                 env("RELAY_PORT") ? env("RELAY_PORT") : "25");
        if (dh)
            ctl_warn("RELAY_HOST and DEFAULT_RELAY_HOST are both set: as docker-mailserver "
                     "does, its own mail domains (postfix-accounts.cf, postfix-virtual.cf) go to "
                     "RELAY_HOST, every other sender to DEFAULT_RELAY_HOST, and RELAY_USER logs "
                     "in at DEFAULT_RELAY_HOST only");
        else if (!relay_set_default(d->m, rh, d->relay_port, RELAY_TLS_AUTO, "dms:RELAY_HOST"))
            return false;
    }
    if (user && pw && !relay_default_auth(d->m, user, pw, "dms:RELAY_USER"))
        return false;
    if ((user == NULL) != (pw == NULL))
        printf("note: RELAY_USER and RELAY_PASSWORD go together: neither is imported\n");
    return true;
}

static size_t count_imported(struct ctl_managed *m)
{
    config_setting_t *senders = ctl_managed_section(m, "senders", CONFIG_TYPE_LIST);
    size_t n = 0;

    for (int i = 0; i < config_setting_length(senders); i++)
        n += config_setting_get_member(config_setting_get_elem(senders, (unsigned)i),
                                       "imported_from") != NULL;
    return n;
}

static bool import_dms(struct ctl_managed *m, const char *dir)
{
    char real[PATH_MAX];
    struct dms d = {.m = m, .dir = realpath(dir, real) ? real : dir};
    const char *dflt;
    bool ok;

    relay_drop_imported(m, "dms:");
    d.own = strmap_new(64);
    ok = each_file(&d, "postfix-relaymap.cf", relaymap_line) && env_default(&d);
    if (ok && d.relay_host && env("DEFAULT_RELAY_HOST")) {
        ok = each_file(&d, "postfix-accounts.cf", vhost_line) &&
             each_file(&d, "postfix-virtual.cf", vhost_line);
    }
    for (d.pass = 1; ok && d.pass <= 2; d.pass++)
        ok = each_file(&d, "postfix-sasl-password.cf", sasl_line);
    strmap_free(d.own);
    relay_gc(m);
    if (!ok)
        return false;
    dflt = NULL;
    config_setting_lookup_string(m->root, "default_relay", &dflt);
    printf("imported docker-mailserver's relay setup from %s: %zu sender rule(s), default relay "
           "%s\n",
           d.dir, count_imported(m), dflt ? dflt : "none");
    if (env("RELAY_HOST") || env("DEFAULT_RELAY_HOST")) {
        /* Imported now: validate (and run) without them, or the loader adds its "env" relay. */
        printf("imported RELAY_* / DEFAULT_RELAY_HOST: remove them from smarthostd's "
               "environment (/etc/default/smarthostd)\n");
        unsetenv("RELAY_HOST"), unsetenv("RELAY_PORT"), unsetenv("DEFAULT_RELAY_HOST");
        unsetenv("RELAY_USER"), unsetenv("RELAY_PASSWORD");
    }
    return true;
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
