/* config_relay.c - credentials and relays, and the indexes the tls and sasl maps use. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "hostaddr.h"
#include "strmap.h"

#define MAX_USER      256
#define MAX_TLS_MATCH 512

static bool printable(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

bool conf_load_credentials(struct sh_snapshot *s, const config_setting_t *group,
                           const char *vault_key, struct sh_error *err)
{
    static const char *const allowed[] = {"user", "password", "imported_from", NULL};
    int n = config_setting_length(group);

    if (!config_setting_is_group(group))
        return conf_fail(err, group,
                         "must be a group: { name = { user = ...; password = ...; }; }");
    /* appended to: the managed group's credentials follow the file's */
    s->creds = xreallocarray(s->creds, s->ncreds + (size_t)n, sizeof(*s->creds));
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(group, (unsigned)i);
        const char *user = NULL, *spec = NULL, *kind;
        struct sh_cred *c;
        size_t ulen, plen;

        if (!config_setting_is_group(g))
            return conf_fail(err, g, "must be a group { user = ...; password = ...; }");
        if (!conf_only(g, allowed, err) || !conf_string(g, "user", true, &user, err) ||
            !conf_string(g, "password", true, &spec, err) ||
            !conf_string(g, "imported_from", false, &kind, err))
            return false;
        if (conf_find_cred(s, config_setting_name(g)))
            return conf_fail(err, g, "credentials \"%s\" are defined twice (main and managed file)",
                             config_setting_name(g));
        ulen = strlen(user);
        if (ulen == 0 || ulen > MAX_USER || strchr(user, ':') || strpbrk(user, " \t") ||
            !printable(user))
            return conf_fail(err, config_setting_get_member(g, "user"),
                             "must be 1-%d printable characters without ':' or spaces", MAX_USER);
        c = xcalloc(1, sizeof(*c));
        s->creds[s->ncreds++] = c;
        c->name = xstrdup(config_setting_name(g));
        c->user = xstrdup(user);
        c->origin = conf_origin(s, g);
        if (!cred_password(c->name, spec, vault_key, &c->password, &kind, err)) {
            char where[1024];
            snprintf(where, sizeof(where), "%s", err->text);
            return conf_fail(err, config_setting_get_member(g, "password"), "%s", where);
        }
        c->kind = kind;
        if (strcmp(kind, "literal") == 0)
            conf_warn(
                s, config_setting_get_member(g, "password"),
                "literal password: prefer smarthostctl relay add-auth (enc:v1:), file: or cred:");
        plen = strlen(c->password);
        c->sasl_answer = xcalloc(ulen + plen + 2, 1);
        memcpy(c->sasl_answer, user, ulen);
        c->sasl_answer[ulen] = ':';
        memcpy(c->sasl_answer + ulen + 1, c->password, plen);
    }
    return true;
}

const struct sh_cred *conf_find_cred(const struct sh_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->ncreds; i++)
        if (strcmp(s->creds[i]->name, name) == 0)
            return s->creds[i];
    return NULL;
}

struct sh_relay *relay_new(struct sh_snapshot *s, const char *name, struct sh_origin origin)
{
    struct sh_relay *r = xcalloc(1, sizeof(*r));

    s->relays = xreallocarray(s->relays, s->nrelays + 1, sizeof(*s->relays));
    s->relays[s->nrelays++] = r;
    r->name = xstrdup(name);
    r->origin = origin;
    r->port = 25;
    return r;
}

static bool parse_tls(const char *v, enum sh_tls_level *out)
{
    static const struct {
        const char *name;
        enum sh_tls_level level;
    } levels[] = {
        {"none", SH_TLS_NONE},     {"may", SH_TLS_MAY},       {"encrypt", SH_TLS_ENCRYPT},
        {"verify", SH_TLS_VERIFY}, {"secure", SH_TLS_SECURE}, {"fingerprint", SH_TLS_FINGERPRINT},
    };
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcmp(v, levels[i].name) == 0) {
            *out = levels[i].level;
            return true;
        }
    return false;
}

struct match_ctx {
    struct sh_error *err; /* first, for conf_strings() */
    enum sh_tls_level level;
    char buf[MAX_TLS_MATCH];
    size_t len;
};

/* A fingerprint is 16-64 hex byte pairs joined by ':' (md5 .. sha512). */
static bool fingerprint_valid(const char *v)
{
    size_t bytes = 0;

    for (const char *p = v;; p += 3) {
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
            return false;
        bytes++;
        if (p[2] == 0)
            break;
        if (p[2] != ':')
            return false;
    }
    return bytes >= 16 && bytes <= 64;
}

static bool add_match(void *ctx, const config_setting_t *st, const char *v)
{
    struct match_ctx *mc = ctx;
    /* verify/secure patterns are ':'-separated, fingerprints contain ':' and use '|'. */
    const char sep = mc->level == SH_TLS_FINGERPRINT ? '|' : ':';
    size_t vlen = strlen(v);

    if (mc->level == SH_TLS_FINGERPRINT) {
        if (!fingerprint_valid(v))
            return conf_fail(mc->err, st, "\"%.80s\" is not a fingerprint (AB:CD:...)", v);
    } else {
        const char *d = v[0] == '.' ? v + 1 : v;
        if (strcmp(v, "nexthop") && strcmp(v, "dot-nexthop") && strcmp(v, "hostname") &&
            !sh_domain_valid(d, strlen(d)))
            return conf_fail(mc->err, st,
                             "\"%.80s\": use nexthop, dot-nexthop, hostname or a domain name", v);
    }
    if (mc->len + vlen + 2 > sizeof(mc->buf))
        return conf_fail(mc->err, st, "too many tls_match values");
    if (mc->len)
        mc->buf[mc->len++] = sep;
    memcpy(mc->buf + mc->len, v, vlen + 1);
    mc->len += vlen;
    return true;
}

static bool load_relay(struct sh_snapshot *s, const config_setting_t *g, struct sh_error *err)
{
    static const char *const allowed[] = {"host",      "port",          "tls",
                                          "tls_match", "implicit_tls",  "credentials",
                                          "failover",  "imported_from", NULL};
    const char *name = config_setting_name(g), *host = NULL, *tls = NULL, *cred = NULL, *why;
    char canon[SH_MAX_HOST + 1];
    enum sh_host_kind kind;
    struct match_ctx mc = {.err = err};
    const config_setting_t *m;
    struct sh_relay *r;
    int port = 0;

    if (!config_setting_is_group(g))
        return conf_fail(err, g, "must be a group { host = ...; port = ...; }");
    if (strcmp(name, "direct") == 0 || strcmp(name, "env") == 0)
        return conf_fail(err, g, "\"%s\" is a reserved name", name);
    if (!conf_only(g, allowed, err))
        return false;
    if (sh_snapshot_relay(s, name))
        return conf_fail(err, g, "relay \"%s\" is defined twice (main and managed file)", name);
    r = relay_new(s, name, conf_origin(s, g));
    if (!conf_string(g, "host", true, &host, err) || !conf_int(g, "port", 1, 65535, &port, err) ||
        !conf_bool(g, "implicit_tls", &r->implicit_tls, err) ||
        !conf_string(g, "tls", false, &tls, err) ||
        !conf_string(g, "credentials", false, &cred, err) ||
        !conf_string(g, "imported_from", false, &why, err))
        return false;
    if (!sh_host_parse(host, canon, &kind, &why))
        return conf_fail(err, config_setting_get_member(g, "host"), "\"%.80s\": %s", host, why);
    r->host = xstrdup(canon);
    r->port = port ? (unsigned)port : r->implicit_tls ? 465 : 25;
    /* RFC 8314: 465 is implicit TLS unless the relay says otherwise. */
    if (r->port == 465 && config_setting_get_member(g, "implicit_tls") == NULL)
        r->implicit_tls = true;
    if (cred && (r->cred = conf_find_cred(s, cred)) == NULL)
        return conf_fail(err, config_setting_get_member(g, "credentials"),
                         "no credentials named \"%.64s\"", cred);
    /* Passwords never travel in clear: default to encrypt when there is one to send. */
    r->tls = (r->cred || r->implicit_tls) ? SH_TLS_ENCRYPT : SH_TLS_MAY;
    if (tls && !parse_tls(tls, &r->tls))
        return conf_fail(err, config_setting_get_member(g, "tls"),
                         "\"%.32s\": use none, may, encrypt, verify, secure or fingerprint", tls);
    mc.level = r->tls;
    if ((m = config_setting_get_member(g, "tls_match")) != NULL) {
        if (r->tls != SH_TLS_VERIFY && r->tls != SH_TLS_SECURE && r->tls != SH_TLS_FINGERPRINT)
            return conf_fail(err, m, "only for tls = verify, secure or fingerprint");
        if (!conf_strings(g, "tls_match", true, add_match, &mc))
            return false;
    } else if (r->tls == SH_TLS_FINGERPRINT) {
        return conf_fail(err, g, "tls = fingerprint needs tls_match = [ \"AB:CD:...\" ]");
    }
    if (mc.len)
        r->tls_answer = xcalloc(strlen(sh_tls_level_name(r->tls)) + mc.len + 8, 1),
        sprintf(r->tls_answer, "%s match=%s", sh_tls_level_name(r->tls), mc.buf);
    else
        r->tls_answer = xstrdup(sh_tls_level_name(r->tls));
    return relay_finish(s, r, g, err);
}

bool relay_finish(struct sh_snapshot *s, struct sh_relay *r, const config_setting_t *st,
                  struct sh_error *err)
{
    (void)s;
    if (r->cred && r->tls < SH_TLS_ENCRYPT)
        return conf_fail(err, st,
                         "relay \"%s\" has credentials but tls = %s: passwords must not cross "
                         "the network in clear; use encrypt or stronger",
                         r->name, sh_tls_level_name(r->tls));
    if (r->implicit_tls && r->tls < SH_TLS_ENCRYPT)
        return conf_fail(err, st, "implicit_tls needs tls = encrypt or stronger");
    r->nexthop = xcalloc(strlen(r->host) + 10, 1);
    sprintf(r->nexthop, "[%s]:%u", r->host, r->port);
    return true;
}

struct failover_ctx {
    struct sh_error *err; /* first, for conf_strings() */
    struct sh_snapshot *s;
    struct sh_relay *r;
};

static bool add_failover(void *ctx, const config_setting_t *st, const char *name)
{
    struct failover_ctx *fc = ctx;
    struct sh_relay *r = fc->r, *f = (struct sh_relay *)sh_snapshot_relay(fc->s, name);

    if (f == NULL)
        return conf_fail(fc->err, st, "no relay named \"%.64s\"", name);
    if (f == r)
        return conf_fail(fc->err, st, "a relay cannot be its own failover");
    for (size_t i = 0; i < r->nfailover; i++)
        if (r->failover[i] == f)
            return conf_fail(fc->err, st, "\"%s\" is listed twice", name);
    /* One route has one transport and one sender-keyed password for every host. */
    if (f->implicit_tls != r->implicit_tls)
        return conf_fail(fc->err, st,
                         "\"%s\" differs in implicit_tls from \"%s\": a route has one transport",
                         name, r->name);
    if (f->cred != r->cred)
        return conf_fail(fc->err, st,
                         "\"%s\" has other credentials than \"%s\": Postfix sends a sender's "
                         "credentials to every relay of its route",
                         name, r->name);
    r->failover = xreallocarray(r->failover, r->nfailover + 1, sizeof(*r->failover));
    r->failover[r->nfailover++] = f;
    return true;
}

bool conf_load_relays(struct sh_snapshot *s, const config_setting_t *group, struct sh_error *err)
{
    size_t base = s->nrelays; /* the managed group's relays follow the file's */

    if (!config_setting_is_group(group))
        return conf_fail(err, group, "must be a group: { name = { host = ...; }; }");
    for (int i = 0; i < config_setting_length(group); i++)
        if (!load_relay(s, config_setting_get_elem(group, (unsigned)i), err))
            return false;
    /* Failover lists name other relays: resolve them once all exist. */
    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *g = config_setting_get_elem(group, (unsigned)i);
        struct failover_ctx fc = {.err = err, .s = s, .r = s->relays[base + (size_t)i]};
        if (!conf_strings(g, "failover", false, add_failover, &fc))
            return false;
    }
    return true;
}

/* sasl_index: for Postfix's nexthop-keyed lookup (a transport without sender-dependent
 * AUTH, the null sender, or a sender whose own lookup found nothing), answer only when
 * every relay at that "[host]:port" agrees, so an IP-allowlisted relay never receives
 * another relay's password. Bare host names are not indexed: a session to that host
 * for any other mail (a direct delivery to user@[host]) asks them too. */
static void index_sasl(struct sh_snapshot *s, const char *key, const struct sh_relay *r)
{
    const struct sh_cred *want = r->cred ? r->cred : &sh_cred_no_auth;
    const struct sh_cred *have = strmap_put(s->sasl_index, key, (void *)want);

    if (have != NULL && have != want && have != &sh_cred_no_auth) {
        strmap_update(s->sasl_index, key, (void *)&sh_cred_no_auth);
        snapshot_warn(s,
                      "relays at %s use different credentials: nexthop-keyed SASL lookups for it "
                      "answer none (sender-keyed lookups are unaffected)",
                      key);
    }
}

bool conf_build_relay_indexes(struct sh_snapshot *s, struct sh_error *err)
{
    s->tls_index = strmap_new(s->nrelays);
    s->sasl_index = strmap_new(s->nrelays * 2);
    for (size_t i = 0; i < s->nrelays; i++) {
        struct sh_relay *r = s->relays[i];
        const struct sh_relay *twin = strmap_put(s->tls_index, r->nexthop, r);
        size_t len = strlen(r->nexthop) + 1;

        if (twin && (strcmp(twin->tls_answer, r->tls_answer) != 0 ||
                     twin->implicit_tls != r->implicit_tls)) {
            snprintf(err->text, sizeof(err->text),
                     "%s:%d: relays: \"%s\" and \"%s\" (%s:%d) are both %s but differ in tls",
                     r->origin.file, r->origin.line, r->name, twin->name, twin->origin.file,
                     twin->origin.line, r->nexthop);
            return false;
        }
        index_sasl(s, r->nexthop, r);
        for (size_t f = 0; f < r->nfailover; f++)
            len += strlen(r->failover[f]->nexthop) + 2;
        r->nexthops = xcalloc(len, 1);
        strcpy(r->nexthops, r->nexthop);
        for (size_t f = 0; f < r->nfailover; f++)
            strcat(strcat(r->nexthops, ", "), r->failover[f]->nexthop);
    }
    return true;
}
