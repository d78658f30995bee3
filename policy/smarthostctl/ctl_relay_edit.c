/* ctl_relay_edit.c - the edits `relay` and `import` make on the managed group.
 *
 * The managed model mirrors Postfix: a relay is a nexthop [host]:port with its TLS
 * level and transport, one per nexthop ("r_<host>_<port>"); credentials belong either
 * to a sender pattern (@domain or user@domain, "s_<pattern>") at the relay that
 * pattern uses, or to the relay itself (its default credentials). A sender rule
 * holds the relay, the credentials, or both; one with credentials only stays on
 * whatever relay the less specific rules or the default relay give. Entries an
 * import made carry `imported_from = "dms:FILE:LINE"`; a hand command on one takes
 * it over (drops that mark), and a new import replaces only the marked ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"
#include "ctl.h"
#include "ctl_args.h"
#include "ctl_relay.h"
#include "resolve.h"
#include "snapshot.h"
#include "vault.h"

#define NAME_MAX_LEN (SH_MAX_KEY + 16)

void ctl_set_member(config_setting_t *g, const char *name, int type, const char *s, int i)
{
    config_setting_t *st = config_setting_get_member(g, name);

    if (st && config_setting_type(st) != type) {
        config_setting_remove(g, name);
        st = NULL;
    }
    if (st == NULL)
        st = config_setting_add(g, name, type);
    if (type == CONFIG_TYPE_STRING)
        config_setting_set_string(st, s);
    else if (type == CONFIG_TYPE_BOOL)
        config_setting_set_bool(st, i);
    else
        config_setting_set_int(st, i);
}

static void drop_member(config_setting_t *g, const char *name)
{
    if (config_setting_get_member(g, name))
        config_setting_remove(g, name);
}

static const char *get_str(const config_setting_t *g, const char *name)
{
    const char *v = NULL;
    return config_setting_lookup_string(g, name, &v) ? v : NULL;
}

/* SRC: where an import found it; NULL: a hand command, which owns what it edits. */
static void mark(config_setting_t *g, const char *src)
{
    if (src)
        ctl_set_member(g, "imported_from", CONFIG_TYPE_STRING, src, 0);
    else
        drop_member(g, "imported_from");
}

static config_setting_t *section(struct ctl_managed *m, const char *name, int type)
{
    return ctl_managed_section(m, name, type);
}

/* "a.test", "@a.test" or "user@a.test" -> "@a.test" / "user@a.test" in KEY. */
static bool norm_pattern(const char *in, char *key)
{
    char d[SH_MAX_HOST + 1];
    enum sh_rule_kind kind;
    const char *why;

    if (strchr(in, '@') == NULL || in[0] == '@') {
        if (!ctl_norm_domain(in, d))
            return false;
        snprintf(key, SH_MAX_KEY + 1, "@%s", d);
        return true;
    }
    if (!sh_sender_pattern(in, key, &kind, &why))
        return ctl_bad("sender", in, why);
    if (kind != SH_RULE_ADDRESS)
        return ctl_bad("sender", in, "write a domain or user@domain");
    return true;
}

/* A libconfig setting name from TEXT: letters, digits, '-' and '_' only. */
static void sanitize(const char *prefix, const char *text, char *out)
{
    size_t n = (size_t)snprintf(out, NAME_MAX_LEN, "%s", prefix);

    for (const char *p = text; *p && n + 4 < NAME_MAX_LEN; p++) {
        char c = *p;
        if (c == '@' && p != text) {
            memcpy(out + n, "_at_", 4);
            n += 4;
            continue;
        }
        if (c == '@')
            continue;
        out[n++] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') ? c : '_';
    }
    out[n] = 0;
}

/* NAME, or NAME_2, NAME_3 ... until GROUP has no member of that name. */
static void unique_name(config_setting_t *group, char *name)
{
    size_t len = strlen(name);

    for (int i = 2; config_setting_get_member(group, name); i++)
        snprintf(name + len, NAME_MAX_LEN - len, "_%d", i);
}

/* ---- relays: one per nexthop ---- */

static bool relay_is_at(const config_setting_t *r, const char *host, int port)
{
    const char *h = get_str(r, "host");
    int p = 0, implicit = 0;

    config_setting_lookup_bool(r, "implicit_tls", &implicit);
    if (!config_setting_lookup_int(r, "port", &p))
        p = implicit ? 465 : 25;
    return h && strcmp(h, host) == 0 && p == port;
}

static config_setting_t *relay_at(struct ctl_managed *m, const char *host, int port)
{
    config_setting_t *relays = section(m, "relays", CONFIG_TYPE_GROUP);

    for (int i = 0; i < config_setting_length(relays); i++) {
        config_setting_t *r = config_setting_get_elem(relays, (unsigned)i);
        if (relay_is_at(r, host, port))
            return r;
    }
    return NULL;
}

static const char *level_of(const config_setting_t *r)
{
    int implicit = 0;
    const char *t = get_str(r, "tls");

    if (t)
        return t;
    config_setting_lookup_bool(r, "implicit_tls", &implicit);
    return implicit || config_setting_get_member(r, "credentials") ? "encrypt" : "may";
}

/* Credentials go only where TLS protects them: raise R to encrypt and say so. */
static void raise_tls(config_setting_t *r, const char *why)
{
    const char *level = level_of(r);

    if (strcmp(level, "none") != 0 && strcmp(level, "may") != 0)
        return;
    printf("relay %s: tls %s -> encrypt (%s; credentials never cross the network in clear)\n",
           config_setting_name(r), level, why);
    ctl_set_member(r, "tls", CONFIG_TYPE_STRING, "encrypt", 0);
}

/* TLS_MODE: RELAY_TLS_AUTO (465 implicit, else as the relay is), _IMPLICIT, _STARTTLS. */
static void set_transport(config_setting_t *r, int port, int tls_mode)
{
    int implicit = 0;
    bool had = config_setting_lookup_bool(r, "implicit_tls", &implicit);
    bool want = tls_mode == RELAY_TLS_IMPLICIT || (tls_mode == RELAY_TLS_AUTO && port == 465);

    if (tls_mode == RELAY_TLS_AUTO && had)
        want = implicit; /* the admin's earlier choice for this nexthop stands */
    if (had && (bool)implicit != want)
        printf("relay %s: %s from now on, for every sender that uses it\n", config_setting_name(r),
               want ? "implicit TLS" : "STARTTLS");
    ctl_set_member(r, "implicit_tls", CONFIG_TYPE_BOOL, NULL, want);
    if (want)
        raise_tls(r, "implicit TLS");
}

static config_setting_t *ensure_relay(struct ctl_managed *m, const char *canon, int port,
                                      int tls_mode, const char *src)
{
    config_setting_t *relays = section(m, "relays", CONFIG_TYPE_GROUP), *r;
    char name[NAME_MAX_LEN], hp[SH_MAX_HOST + 8];

    if ((r = relay_at(m, canon, port)) == NULL) {
        snprintf(hp, sizeof(hp), "%s_%d", canon, port);
        sanitize("r_", hp, name);
        unique_name(relays, name);
        r = config_setting_add(relays, name, CONFIG_TYPE_GROUP);
        ctl_set_member(r, "host", CONFIG_TYPE_STRING, canon, 0);
        ctl_set_member(r, "port", CONFIG_TYPE_INT, NULL, port);
        mark(r, src);
    } else if (src == NULL) {
        mark(r, NULL);
    }
    set_transport(r, port, tls_mode);
    return r;
}

/* ---- sender rules ---- */

static int find_rule(config_setting_t *senders, const char *key)
{
    for (int i = 0; i < config_setting_length(senders); i++) {
        const char *match = get_str(config_setting_get_elem(senders, (unsigned)i), "match");
        if (match && strcmp(match, key) == 0)
            return i;
    }
    return -1;
}

static config_setting_t *rule_get(struct ctl_managed *m, const char *key, bool create)
{
    config_setting_t *senders = section(m, "senders", CONFIG_TYPE_LIST), *g;
    int i = find_rule(senders, key);

    if (i >= 0)
        return config_setting_get_elem(senders, (unsigned)i);
    if (!create)
        return NULL;
    g = config_setting_add(senders, NULL, CONFIG_TYPE_GROUP);
    ctl_set_member(g, "match", CONFIG_TYPE_STRING, key, 0);
    return g;
}

static bool relay_referenced(struct ctl_managed *m, const char *name)
{
    config_setting_t *senders = section(m, "senders", CONFIG_TYPE_LIST);
    config_setting_t *relays = section(m, "relays", CONFIG_TYPE_GROUP);
    const char *d = get_str(m->root, "default_relay");

    if (d && strcmp(d, name) == 0)
        return true;
    for (int i = 0; i < config_setting_length(senders); i++) {
        const char *r = get_str(config_setting_get_elem(senders, (unsigned)i), "relay");
        if (r && strcmp(r, name) == 0)
            return true;
    }
    for (int i = 0; i < config_setting_length(relays); i++) {
        config_setting_t *f =
            config_setting_get_member(config_setting_get_elem(relays, (unsigned)i), "failover");
        for (int k = 0; f && k < config_setting_length(f); k++)
            if (strcmp(config_setting_get_string_elem(f, k), name) == 0)
                return true;
    }
    return false;
}

static bool cred_referenced(struct ctl_managed *m, const char *name)
{
    config_setting_t *senders = section(m, "senders", CONFIG_TYPE_LIST);
    config_setting_t *relays = section(m, "relays", CONFIG_TYPE_GROUP);

    for (int i = 0; i < config_setting_length(senders); i++) {
        const char *c = get_str(config_setting_get_elem(senders, (unsigned)i), "credentials");
        if (c && strcmp(c, name) == 0)
            return true;
    }
    for (int i = 0; i < config_setting_length(relays); i++) {
        const char *c = get_str(config_setting_get_elem(relays, (unsigned)i), "credentials");
        if (c && strcmp(c, name) == 0)
            return true;
    }
    return false;
}

void relay_gc(struct ctl_managed *m)
{
    config_setting_t *relays = section(m, "relays", CONFIG_TYPE_GROUP);
    config_setting_t *creds = section(m, "credentials", CONFIG_TYPE_GROUP);

    for (int i = config_setting_length(relays) - 1; i >= 0; i--) {
        config_setting_t *r = config_setting_get_elem(relays, (unsigned)i);
        /* a relay with its own login stays: the next rule for that nexthop uses it */
        if (!relay_referenced(m, config_setting_name(r)) &&
            !config_setting_get_member(r, "credentials"))
            config_setting_remove_elem(relays, (unsigned)i);
    }
    for (int i = config_setting_length(creds) - 1; i >= 0; i--)
        if (!cred_referenced(m, config_setting_name(config_setting_get_elem(creds, (unsigned)i))))
            config_setting_remove_elem(creds, (unsigned)i);
}

/* The managed relay a credentials-only rule KEY rides on: the nearest less specific
 * managed rule with a relay, else the managed default relay; NULL when it is direct
 * or lives outside the managed file (the loader then judges it). */
struct inherit_ctx {
    struct ctl_managed *m;
    const char *self;
    const char *relay;
};

static bool inherit_fn(void *ctx, const char *cand, size_t len, enum sh_via via)
{
    struct inherit_ctx *ic = ctx;
    char k[SH_MAX_KEY + 1];
    config_setting_t *g;

    (void)via;
    snprintf(k, sizeof(k), "%.*s", (int)len, cand);
    if (strcmp(k, ic->self) == 0 || (g = rule_get(ic->m, k, false)) == NULL)
        return false;
    return (ic->relay = get_str(g, "relay")) != NULL;
}

static config_setting_t *cred_relay(struct ctl_managed *m, config_setting_t *rule)
{
    struct inherit_ctx ic = {.m = m, .self = get_str(rule, "match"), .relay = NULL};
    config_setting_t *relays = section(m, "relays", CONFIG_TYPE_GROUP);

    if ((ic.relay = get_str(rule, "relay")) == NULL &&
        !sh_sender_walk(ic.self, strlen(ic.self), "", inherit_fn, &ic))
        ic.relay = get_str(m->root, "default_relay");
    return ic.relay ? config_setting_get_member(relays, ic.relay) : NULL;
}

/* ---- credentials ---- */

bool relay_put_credentials(struct ctl_managed *m, const char *name, const char *user,
                           const char *password, const char *src)
{
    unsigned char key[SH_VAULT_KEY_LEN];
    struct sh_error err;
    config_setting_t *c, *creds = section(m, "credentials", CONFIG_TYPE_GROUP);
    char *enc;

    if (!ctl_user_valid(user))
        return false;
    if (!sh_vault_key_read(m->vault_key, key, &err)) {
        ctl_err("%s (create one with: smarthostctl key init)", err.text);
        return false;
    }
    enc = sh_vault_encrypt(key, name, password);
    OPENSSL_cleanse(key, sizeof(key));
    if (enc == NULL)
        return ctl_bad("password", "(hidden)", "must be 1-1024 characters");
    if ((c = config_setting_get_member(creds, name)) == NULL)
        c = config_setting_add(creds, name, CONFIG_TYPE_GROUP);
    ctl_set_member(c, "user", CONFIG_TYPE_STRING, user, 0);
    ctl_set_member(c, "password", CONFIG_TYPE_STRING, enc, 0);
    OPENSSL_cleanse(enc, strlen(enc));
    free(enc);
    mark(c, src);
    return true;
}

/* ---- the verbs ---- */

bool relay_add_domain(struct ctl_managed *m, const char *pattern, const char *host,
                      const char *port, int tls_mode, const char *src)
{
    char key[SH_MAX_KEY + 1], canon[SH_MAX_HOST + 1];
    config_setting_t *r, *g;
    int p;

    if (!norm_pattern(pattern, key) || !ctl_parse_host(host, canon) || !ctl_parse_port(port, &p))
        return false;
    r = ensure_relay(m, canon, p, tls_mode, src);
    g = rule_get(m, key, true);
    ctl_set_member(g, "relay", CONFIG_TYPE_STRING, config_setting_name(r), 0);
    mark(g, src);
    if (config_setting_get_member(g, "credentials")) /* its login moves with it */
        raise_tls(r, key);
    relay_gc(m);
    return true;
}

bool relay_add_auth(struct ctl_managed *m, const char *pattern, const char *user,
                    const char *password, const char *src)
{
    config_setting_t *g, *creds = section(m, "credentials", CONFIG_TYPE_GROUP), *at;
    char key[SH_MAX_KEY + 1], name[NAME_MAX_LEN];
    const char *have;

    if (!norm_pattern(pattern, key))
        return false;
    g = rule_get(m, key, true);
    if ((have = get_str(g, "credentials")) != NULL) {
        snprintf(name, sizeof(name), "%s", have);
    } else {
        sanitize("s_", key, name);
        unique_name(creds, name);
    }
    if (!relay_put_credentials(m, name, user, password, src))
        return false;
    ctl_set_member(g, "credentials", CONFIG_TYPE_STRING, name, 0);
    mark(g, src);
    if ((at = cred_relay(m, g)) != NULL)
        raise_tls(at, key);
    else if (get_str(g, "relay") == NULL && get_str(m->root, "default_relay") == NULL && !src)
        printf("%s: credentials for the default relay (of the main file or the environment; "
               "relay default HOST sets one here)\n",
               key);
    return true;
}

static bool relay_login(struct ctl_managed *m, config_setting_t *r, const char *user,
                        const char *password, const char *src)
{
    if (!relay_put_credentials(m, config_setting_name(r), user, password, src))
        return false;
    ctl_set_member(r, "credentials", CONFIG_TYPE_STRING, config_setting_name(r), 0);
    raise_tls(r, "its own credentials");
    return true;
}

int relay_auth_nexthop(struct ctl_managed *m, const char *host, int port, const char *user,
                       const char *password, const char *src)
{
    config_setting_t *relays = section(m, "relays", CONFIG_TYPE_GROUP), *r;
    int n = 0, len = config_setting_length(relays);
    char canon[SH_MAX_HOST + 1];

    if (!ctl_parse_host(host, canon))
        return -1;
    for (int i = 0; i < len; i++) {
        const char *h = get_str(r = config_setting_get_elem(relays, (unsigned)i), "host");
        if (!(port < 0 ? h && strcmp(h, canon) == 0 : relay_is_at(r, canon, port)))
            continue;
        if (!relay_login(m, r, user, password, src))
            return -1;
        n++;
    }
    /* No relay there yet: make it, so its login waits for the rule that will use it. */
    if (n == 0 && !relay_login(m, ensure_relay(m, canon, port < 0 ? 25 : port, RELAY_TLS_AUTO, src),
                               user, password, src))
        return -1;
    return n;
}

bool relay_exclude_domain(struct ctl_managed *m, const char *pattern, const char *src)
{
    char key[SH_MAX_KEY + 1];
    config_setting_t *g;

    if (!norm_pattern(pattern, key))
        return false;
    g = rule_get(m, key, true);
    ctl_set_member(g, "relay", CONFIG_TYPE_STRING, "direct", 0);
    mark(g, src);
    if (config_setting_get_member(g, "credentials") && src == NULL)
        printf("%s goes direct: its credentials are kept but never sent "
               "(relay del-domain removes them)\n",
               key);
    relay_gc(m);
    return true;
}

bool relay_del_domain(struct ctl_managed *m, const char *pattern)
{
    config_setting_t *senders = section(m, "senders", CONFIG_TYPE_LIST);
    char key[SH_MAX_KEY + 1], name[CTL_RELAY_NAME_MAX];
    int i;

    if (!norm_pattern(pattern, key))
        return false;
    if ((i = find_rule(senders, key)) < 0) {
        ctl_err("%s has no rule in %s", key, m->path);
        return false;
    }
    config_setting_remove_elem(senders, (unsigned)i);
    if (key[0] == '@') { /* a relay of the one-relay-per-domain layout, if unused now */
        ctl_domain_relay_name(key + 1, name);
        if (!relay_referenced(m, name))
            drop_member(section(m, "relays", CONFIG_TYPE_GROUP), name);
    }
    relay_gc(m);
    return true;
}

bool relay_set_default(struct ctl_managed *m, const char *host, const char *port, int tls_mode,
                       const char *src)
{
    config_setting_t *relays = section(m, "relays", CONFIG_TYPE_GROUP), *r, *old = NULL;
    char canon[SH_MAX_HOST + 1];
    const char *was = get_str(m->root, "default_relay");
    int p;

    if (!ctl_parse_host(host, canon) || !ctl_parse_port(port, &p))
        return false;
    if (was)
        old = config_setting_get_member(relays, was);
    r = ensure_relay(m, canon, p, tls_mode, src);
    ctl_set_member(m->root, "default_relay", CONFIG_TYPE_STRING, config_setting_name(r), 0);
    if (src)
        ctl_set_member(m->root, "default_imported_from", CONFIG_TYPE_STRING, src, 0);
    else
        drop_member(m->root, "default_imported_from");
    /* Credentials-only rules follow the default relay: their logins go along. */
    for (int i = 0; i < config_setting_length(section(m, "senders", CONFIG_TYPE_LIST)); i++) {
        config_setting_t *g =
            config_setting_get_elem(section(m, "senders", CONFIG_TYPE_LIST), (unsigned)i);
        if (config_setting_get_member(g, "credentials") && cred_relay(m, g) == r) {
            if (old != r && src == NULL)
                printf("%s: its credentials go along to the new default relay\n",
                       get_str(g, "match"));
            raise_tls(r, get_str(g, "match"));
        }
    }
    if (old && old != r && config_setting_get_member(old, "credentials") &&
        !config_setting_get_member(r, "credentials") && src == NULL)
        printf("note: relay %s keeps its own login; the new default has none: give it one with "
               "relay default-auth USER\n",
               was);
    relay_gc(m);
    return true;
}

bool relay_default_auth(struct ctl_managed *m, const char *user, const char *password,
                        const char *src)
{
    config_setting_t *relays = section(m, "relays", CONFIG_TYPE_GROUP), *r = NULL;
    const char *d = get_str(m->root, "default_relay");

    if (d == NULL || (r = config_setting_get_member(relays, d)) == NULL) {
        ctl_err("no managed default relay: run relay default HOST first");
        return false;
    }
    return relay_login(m, r, user, password, src);
}

/* Drop every entry an earlier import from SOURCE ("dms:") made, so the new
 * import makes the imported part equal to the files. */
void relay_drop_imported(struct ctl_managed *m, const char *source)
{
    config_setting_t *senders = section(m, "senders", CONFIG_TYPE_LIST);
    const char *v;
    size_t n = strlen(source);

    for (int i = config_setting_length(senders) - 1; i >= 0; i--) {
        v = get_str(config_setting_get_elem(senders, (unsigned)i), "imported_from");
        if (v && strncmp(v, source, n) == 0)
            config_setting_remove_elem(senders, (unsigned)i);
    }
    if ((v = get_str(m->root, "default_imported_from")) != NULL && strncmp(v, source, n) == 0) {
        drop_member(m->root, "default_relay");
        drop_member(m->root, "default_imported_from");
    }
    /* a relay's own imported login goes; the relay stays while a hand rule uses it */
    for (int i = 0; i < config_setting_length(section(m, "relays", CONFIG_TYPE_GROUP)); i++) {
        config_setting_t *r =
            config_setting_get_elem(section(m, "relays", CONFIG_TYPE_GROUP), (unsigned)i);
        const char *c = get_str(r, "credentials");
        config_setting_t *cs =
            c ? config_setting_get_member(section(m, "credentials", CONFIG_TYPE_GROUP), c) : NULL;
        if (cs && (v = get_str(cs, "imported_from")) && strncmp(v, source, n) == 0)
            drop_member(r, "credentials");
    }
    relay_gc(m);
}
