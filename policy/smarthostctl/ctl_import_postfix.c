/* ctl_import_postfix.c - `smarthostctl import postfix [DIR]`: a hand-made Postfix
 * relay setup (relayhost, sender_dependent_relayhost_maps, smtp_sasl_password_maps,
 * smtp_tls_policy_maps, transport_maps) into the managed file.
 *
 * Values come from `postconf -c DIR -xh NAME` (Postfix's own parser, $names
 * expanded); tables are read from their source text (hash:/lmdb: the file next to
 * the .db/.lmdb). smarthostd binds credentials and TLS to a relay, Postfix looks
 * them up per sender and per nexthop, so the import replays Postfix's lookups:
 * for every sender key K found in the maps, relay = relaymap[K, K without
 * extension, @domain] else relayhost; credentials = saslmap[same keys] (with
 * smtp_sender_dependent_authentication) else saslmap[host, "[host]:port"] of that
 * relay; tls = policymap[nexthop] else smtp_tls_security_level. Senders that share
 * all three share one relay "pf_<host>_<port>[_n]". Because a sender matching no
 * key is looked up by Postfix exactly like the least specific key it does match,
 * the rules give the same answer for every sender. What has no equivalent
 * (regexp/pcre/... tables, MX-resolved relayhosts, lookup attributes smarthostd
 * does not serve) is refused with the reason, before anything is written. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "config.h"
#include "ctl.h"
#include "ctl_postconf.h"
#include "ctl_relay.h"
#include "hostaddr.h"
#include "pftable.h"
#include "resolve.h"
#include "snapshot.h"
#include "strmap.h"

#define MAX_ENTRIES 100000 /* per parameter, all its tables together */
#define MAX_RELAYS  10000
#define MAX_VALUE   4096

struct entry {
    char *key, *value;
    size_t vlen; /* the sasl map's values are split in place: wipe them whole */
};

struct table {
    const char *param;
    struct entry *e;
    size_t n, cap;
    struct strmap *index; /* key -> struct entry */
};

struct relay {
    char nexthop[SH_MAX_HOST + 10]; /* as written: "[host]" or "[host]:port" */
    char host[SH_MAX_HOST + 1];
    int port;
    const char *user, *password; /* borrowed from the sasl table; NULL: no AUTH */
    char level[16], match[1024];
    char name[SH_MAX_HOST + 16];
};

struct import {
    struct ctl_managed *m;
    const char *dir;
    struct table relaymap, sasl, policy, transport;
    char delims[16], empty_key[256], default_level[16];
    bool sender_auth, auth;
    struct relay *relays;
    size_t nrelays;
    struct relay relayhost; /* nexthop only; host[0] == 0: none (unmatched senders go direct) */
    bool encrypt_auth;         /* --encrypt-auth: may/none relays with a password -> encrypt */
};

static bool refuse(const char *what, const char *value, const char *why)
{
    ctl_err("import postfix: %s \"%.120s\": %s", what, value, why);
    return false;
}

/* `postconf -c DIR -xh NAME` (Postfix's own parser, $names expanded) into OUT. */
static bool postconf(const char *dir, const char *name, char *out, size_t cap)
{
    const char *args[] = {"-xh", name, NULL};
    char *text = NULL;
    size_t len;

    if (ctl_postconf(dir, args, &text) != 0) {
        free(text);
        ctl_err("import postfix: postconf -c %s -xh %s failed (is Postfix installed and "
                "%s/main.cf readable?)", dir, name, dir);
        return false;
    }
    len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len >= cap) {
        free(text);
        return refuse("parameter", name, "value too long");
    }
    memcpy(out, text, len);
    out[len] = 0;
    free(text);
    return true;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        OPENSSL_cleanse(t->e[i].value, t->e[i].vlen); /* sasl passwords */
        free(t->e[i].key);
        free(t->e[i].value);
    }
    free(t->e);
    if (t->index)
        strmap_free(t->index);
}

static const char *lookup(const struct table *t, const char *key)
{
    const struct entry *e = t->index ? strmap_get(t->index, key, strlen(key)) : NULL;
    return e ? e->value : NULL;
}

/* One logical line "key value" (Postfix table syntax) into T; the first of
 * duplicate keys wins, as in postmap and across the tables of one parameter. */
static bool add_entry(void *ctx, const char *path, int lineno, char *key, char *value)
{
    struct table *t = ctx;

    for (char *k = key; *k; k++)
        *k = (char)tolower((unsigned char)*k); /* keys fold case, as postmap's */
    if (*value == 0) {
        fprintf(stderr, "%s:%d: \"%.80s\" has no value (Postfix ignores such a line: delete it)\n",
                path, lineno, key);
        return false;
    }
    if (t->n == MAX_ENTRIES)
        return refuse(t->param, path, "more than 100000 entries");
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->e = reallocarray(t->e, t->cap, sizeof(*t->e));
        if (t->e == NULL)
            abort();
    }
    t->e[t->n].key = strdup(key);
    t->e[t->n].value = strdup(value);
    t->e[t->n].vlen = strlen(value);
    if (t->e[t->n].key == NULL || t->e[t->n].value == NULL)
        abort();
    t->n++;
    return true;
}

/* "hash:/etc/postfix/relay, texthash:/x" -> every entry; other table types refused. */
static bool load_table(struct import *im, struct table *t, const char *param)
{
    char value[MAX_VALUE], *save = NULL;

    t->param = param;
    if (!postconf(im->dir, param, value, sizeof(value)))
        return false;
    for (char *spec = strtok_r(value, ", \t\n", &save); spec; spec = strtok_r(NULL, ", \t\n", &save)) {
        static const struct {
            const char *type, *suffix;
        } types[] = {{"texthash:", NULL}, {"hash:", ".db"}, {"lmdb:", ".lmdb"}};
        char db[PATH_MAX + 8];
        struct stat src, bin;
        const char *path = NULL, *suffix = NULL;

        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strncmp(spec, types[i].type, strlen(types[i].type)) == 0) {
                path = spec + strlen(types[i].type);
                suffix = types[i].suffix;
            }
        if (path == NULL)
            return refuse(param, spec,
                          "only texthash:, hash: and lmdb: tables can be imported; other types "
                          "(regexp, pcre, cidr, proxy, SQL, LDAP, ...) match in ways smarthostd "
                          "rules cannot express, so nothing is imported");
        if (path[0] != '/')
            return refuse(param, spec, "write an absolute path");
        if (suffix) { /* Postfix reads the .db: its source must not have changed since postmap */
            snprintf(db, sizeof(db), "%s%s", path, suffix);
            if (stat(db, &bin) != 0)
                return refuse(param, db, "missing: run postmap first");
            if (stat(path, &src) == 0 && src.st_mtime > bin.st_mtime)
                return refuse(param, path,
                              "newer than its compiled table: Postfix uses the old values; "
                              "run postmap, then import");
        }
        if (!pftable_each(path, false, add_entry, t))
            return false;
    }
    t->index = strmap_new(t->n);
    for (size_t i = 0; i < t->n; i++)
        if (strmap_put(t->index, t->e[i].key, &t->e[i]) != NULL)
            ctl_warn("%s: duplicate entry \"%.80s\": the first one is used, "
                     "as Postfix does", param, t->e[i].key);
    return true;
}

/* "[host]" or "[host]:port" (a list or an unbracketed name is refused). */
static bool parse_nexthop(const char *what, const char *v, struct relay *r)
{
    const char *close = strchr(v, ']');
    char *end;
    long port = 25;

    if (v[0] != '[' || close == NULL)
        return refuse(what, v,
                      "Postfix looks up MX records for a nexthop without [brackets]; smarthostd "
                      "relays never do: write [host] or [host]:port in Postfix first");
    if (close[1] == ':') {
        port = strtol(close + 2, &end, 10);
        if (close[2] == 0 || *end || port < 1 || port > 65535)
            return refuse(what, v, "bad port");
    } else if (close[1] != 0) {
        return refuse(what, v, "one nexthop only: lists (failover) are not imported");
    }
    if ((size_t)(close - v - 1) > SH_MAX_HOST)
        return refuse(what, v, "host too long");
    snprintf(r->nexthop, sizeof(r->nexthop), "%s", v);
    for (char *p = r->nexthop; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    snprintf(r->host, sizeof(r->host), "%.*s", (int)(close - v - 1), r->nexthop + 1);
    r->port = (int)port;
    return true;
}

/* smtp_tls_policy_maps[nexthop], else smtp_tls_security_level. */
static bool tls_of(struct import *im, struct relay *r)
{
    static const char *const levels[] = {"none", "may", "encrypt", "verify", "secure",
                                         "fingerprint"};
    const char *v = lookup(&im->policy, r->nexthop);
    char buf[MAX_VALUE], *save = NULL, *w;
    bool known = false;

    snprintf(buf, sizeof(buf), "%s", v ? v : im->default_level);
    w = strtok_r(buf, " \t", &save);
    if (w == NULL)
        w = "none";
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        known = known || strcmp(w, levels[i]) == 0;
    if (!known)
        return refuse(v ? "smtp_tls_policy_maps" : "smtp_tls_security_level", v ? v : w,
                      "smarthostd relays have tls none, may, encrypt, verify, secure or "
                      "fingerprint (no dane)");
    snprintf(r->level, sizeof(r->level), "%s", w);
    while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
        if (strncmp(w, "match=", 6) != 0)
            return refuse("smtp_tls_policy_maps", v,
                          "only the match= attribute can be imported (ciphers=, protocols=, "
                          "exclude=, ... have no smarthostd setting)");
        snprintf(r->match, sizeof(r->match), "%s", w + 6);
    }
    if (r->user && (strcmp(r->level, "none") == 0 || strcmp(r->level, "may") == 0)) {
        if (!im->encrypt_auth)
            return refuse(r->nexthop, r->level,
                          "Postfix would send this relay's password under tls may/none; "
                          "smarthostd requires encrypt or stronger: set a policy for it, or "
                          "import with --encrypt-auth to store tls = encrypt");
        printf("note: %s: tls %s -> encrypt (it has credentials; --encrypt-auth)\n", r->nexthop,
               r->level);
        snprintf(r->level, sizeof(r->level), "encrypt");
    }
    return true;
}

/* "user:password" -> pointers into the table's value (split in place once). */
static bool split_sasl(const char *key, char *value, const char **user, const char **pw)
{
    char *colon = strchr(value, ':');

    if (colon == NULL) { /* already split: user\0password */
        *user = value;
        *pw = value + strlen(value) + 1;
        return true;
    }
    if (colon == value || colon[1] == 0)
        return refuse("smtp_sasl_password_maps", key, "value must be user:password");
    *colon = 0;
    *user = value;
    *pw = colon + 1;
    return true;
}

struct walk {
    const struct table *t;
    const char *found;
};

static bool walk_fn(void *ctx, const char *cand, size_t len, enum sh_via via)
{
    struct walk *w = ctx;
    char k[SH_MAX_KEY + 1];

    if (via == SH_VIA_PARENT) /* mail_addr_find() has no parent-domain step */
        return false;
    snprintf(k, sizeof(k), "%.*s", (int)len, cand);
    w->found = lookup(w->t, k);
    return w->found != NULL;
}

/* Postfix's sender lookup: address, address without extension, @domain. */
static const char *sender_lookup(const struct import *im, const struct table *t, const char *key)
{
    struct walk w = {.t = t};

    sh_sender_walk(key, strlen(key), im->delims, walk_fn, &w);
    return w.found;
}

#define RELAY_ERROR  (-1)
#define RELAY_DIRECT (-2)

/* The relay (index) a sender key uses (NULL: relayhost's own lookups), shared by
 * every key with the same nexthop, credentials and tls; RELAY_DIRECT or RELAY_ERROR. */
static long relay_for(struct import *im, const char *sender)
{
    const char *v = NULL, *user = NULL, *pw = NULL, *sv = NULL;
    struct relay r = {0};

    if (sender)
        v = strcmp(sender, "<>") == 0 ? lookup(&im->relaymap, im->empty_key)
                                      : sender_lookup(im, &im->relaymap, sender);
    if (v && strcasecmp(v, "dunno") == 0) /* Postfix 2.6+: fall back to relayhost */
        v = NULL;
    if (v && !parse_nexthop("sender_dependent_relayhost_maps", v, &r))
        return RELAY_ERROR;
    if (v == NULL)
        r = im->relayhost;
    if (im->auth && im->sender_auth && sender && strcmp(sender, "<>") != 0 &&
        (sv = sender_lookup(im, &im->sasl, sender)) != NULL &&
        !split_sasl(sender, (char *)sv, &user, &pw))
        return RELAY_ERROR;
    if (r.host[0] == 0) {
        if (sv) {
            refuse("sender", sender,
                   "Postfix would log in at the recipients' MX hosts with this sender's "
                   "credentials (no relay); smarthostd never sends them without a relay");
            return RELAY_ERROR;
        }
        return RELAY_DIRECT;
    }
    if (im->auth && sv == NULL) { /* nexthop lookups: host, then the nexthop as written */
        sv = lookup(&im->sasl, r.host);
        if (sv == NULL)
            sv = lookup(&im->sasl, r.nexthop);
        if (sv && !split_sasl(r.nexthop, (char *)sv, &user, &pw))
            return RELAY_ERROR;
    }
    r.user = user;
    r.password = pw;
    if (!tls_of(im, &r))
        return RELAY_ERROR;
    for (size_t i = 0; i < im->nrelays; i++) {
        const struct relay *o = &im->relays[i];
        if (strcmp(o->nexthop, r.nexthop) == 0 && strcmp(o->level, r.level) == 0 &&
            strcmp(o->match, r.match) == 0 && (o->user == r.user ||
            (o->user && r.user && strcmp(o->user, r.user) == 0 && strcmp(o->password, r.password) == 0)))
            return (long)i;
    }
    if (im->nrelays == MAX_RELAYS) {
        refuse("relays", sender ? sender : "relayhost", "more than 10000 distinct relays");
        return RELAY_ERROR;
    }
    /* pf_<host>_<port>, then _2, _3 for the same nexthop with other credentials */
    for (int n = 1;; n++) {
        bool taken = false;
        size_t k = (size_t)snprintf(r.name, sizeof(r.name), "pf_%s_%d", r.host, r.port);
        if (n > 1)
            snprintf(r.name + k, sizeof(r.name) - k, "_%d", n);
        for (char *p = r.name; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
                *p = '_';
        for (size_t i = 0; i < im->nrelays && !taken; i++)
            taken = strcmp(im->relays[i].name, r.name) == 0;
        if (!taken)
            break;
    }
    if ((im->nrelays & (im->nrelays - 1)) == 0 &&
        (im->relays = reallocarray(im->relays, im->nrelays ? 2 * im->nrelays : 1,
                                   sizeof(*im->relays))) == NULL)
        abort();
    im->relays[im->nrelays] = r;
    return (long)im->nrelays++;
}

/* The rule for one sender key of the relay or sasl map; keys that are no sender
 * (nexthop keys of the sasl map) are skipped. */
static bool import_sender(struct import *im, struct strmap *done, const char *key, bool sasl)
{
    bool null = !sasl && strcmp(key, im->empty_key) == 0;
    char norm[SH_MAX_KEY + 1];
    enum sh_rule_kind kind;
    const char *why;
    long r;

    if (sasl && (key[0] == '[' || strchr(key, '@') == NULL))
        return true; /* a nexthop key, or <> which Postfix never asks the sasl map */
    if (!sh_sender_pattern(null ? "<>" : key, norm, &kind, &why))
        return refuse("sender key", key, why);
    if (kind == SH_RULE_SUBDOMAIN || (kind == SH_RULE_NULL && !null))
        return refuse("sender key", key, "Postfix never looks this key up; delete it");
    if (strchr(key, '@') == NULL && kind != SH_RULE_NULL)
        return refuse("sender key", key,
                      "a bare local part matches only local domains in Postfix; write user@domain");
    if (strmap_put(done, norm, (void *)key) != NULL)
        return true;
    if ((r = relay_for(im, norm)) == RELAY_ERROR)
        return false;
    return relay_rule(im->m, norm, r == RELAY_DIRECT ? "direct" : im->relays[r].name);
}

static bool import_transport(struct import *im, const struct entry *e)
{
    const char *colon = strchr(e->value, ':');

    if (strcmp(e->key, "*") == 0 || e->key[0] == '@')
        return refuse("transport_maps key", e->key,
                      "smarthostd transports match domain, .domain or user@domain only");
    if (colon == NULL || colon == e->value)
        return refuse("transport_maps value", e->value,
                      "write transport:nexthop with a transport name (an empty transport, "
                      "meaning default_transport, has no smarthostd equivalent)");
    if (im->auth && colon[1]) { /* Postfix would look up this nexthop's own credentials */
        char host[SH_MAX_HOST + 1];
        const char *h = colon[1] == '[' ? colon + 2 : colon + 1;
        snprintf(host, sizeof(host), "%.*s", (int)strcspn(h, "]:"), h);
        if (lookup(&im->sasl, host) || lookup(&im->sasl, colon + 1))
            return refuse("transport_maps value", e->value,
                          "smtp_sasl_password_maps has credentials for this nexthop; smarthostd "
                          "answers SASL lookups with the sender's relay's credentials, not the "
                          "nexthop's: route this traffic with a sender rule instead");
    }
    return relay_transport(im->m, e->key, e->value);
}

static bool flag(const char *v)
{
    return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* Postfix settings and tables; the managed group must be empty and the
 * delimiters equal, or routes would differ. */
static bool read_postfix(struct import *im)
{
    char v[MAX_VALUE];
    struct sh_snapshot *s;
    struct sh_error err;

    if (!postconf(im->dir, "recipient_delimiter", im->delims, sizeof(im->delims)) ||
        !postconf(im->dir, "empty_address_relayhost_maps_lookup_key", im->empty_key,
                  sizeof(im->empty_key)) ||
        !postconf(im->dir, "smtp_tls_security_level", im->default_level,
                  sizeof(im->default_level)) ||
        !postconf(im->dir, "smtp_sasl_auth_enable", v, sizeof(v)))
        return false;
    im->auth = flag(v);
    if (!postconf(im->dir, "smtp_sender_dependent_authentication", v, sizeof(v)))
        return false;
    im->sender_auth = flag(v);
    for (char *p = im->empty_key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!postconf(im->dir, "relayhost", v, sizeof(v)) ||
        (v[0] && !parse_nexthop("relayhost", v, &im->relayhost)))
        return false;
    if (!load_table(im, &im->relaymap, "sender_dependent_relayhost_maps") ||
        !load_table(im, &im->sasl, "smtp_sasl_password_maps") ||
        !load_table(im, &im->policy, "smtp_tls_policy_maps") ||
        !load_table(im, &im->transport, "transport_maps"))
        return false;
    if (!im->auth && im->sasl.n)
        printf("note: smtp_sasl_auth_enable = no: Postfix never logs in, so "
               "smtp_sasl_password_maps is not imported\n");
    if ((s = sh_config_load(im->m->config, &err)) == NULL) {
        fprintf(stderr, "%s\n", err.text);
        return false;
    }
    if (strcmp(s->delimiters, im->delims) != 0) {
        ctl_err("import postfix: Postfix's recipient_delimiter is \"%s\" "
                "but %s has \"%s\": set recipient_delimiter = \"%s\"; there first, or "
                "senders with an extension would route differently",
        im->delims, im->m->config, s->delimiters, im->delims);
        sh_snapshot_free(s);
        return false;
    }
    if (s->nrules || s->default_relay || s->ntransports)
        ctl_warn("%s has sender rules, transports or a default relay of its own; "
                 "they stay and may route some senders unlike Postfix did",
         im->m->config);
    sh_snapshot_free(s);
    return true;
}

static bool import_all(struct import *im)
{
    struct strmap *done;
    size_t nrules;
    bool ok = true;
    long d;

    if (!relay_managed_empty(im->m)) {
        ctl_err("import postfix: %s already has relays or rules; the "
                "import replaces the whole routing: move that file away first",
        im->m->path);
        return false;
    }
    if (!read_postfix(im))
        return false;
    if ((d = relay_for(im, NULL)) == RELAY_ERROR)
        return false;
    done = strmap_new(im->relaymap.n + im->sasl.n);
    for (size_t i = 0; ok && i < im->relaymap.n; i++)
        ok = import_sender(im, done, im->relaymap.e[i].key, false);
    for (size_t i = 0; ok && im->auth && im->sender_auth && i < im->sasl.n; i++)
        ok = import_sender(im, done, im->sasl.e[i].key, true);
    nrules = strmap_count(done);
    strmap_free(done);
    for (size_t i = 0; ok && i < im->nrelays; i++) {
        const struct relay *r = &im->relays[i];
        ok = relay_define(im->m, r->name, r->host, r->port, r->level, r->match, r->user,
                          r->password);
    }
    for (size_t i = 0; ok && i < im->transport.n; i++)
        ok = import_transport(im, &im->transport.e[i]);
    if (ok && d >= 0)
        relay_default_name(im->m, im->relays[d].name);
    if (ok)
        printf("imported from %s/main.cf: %zu relay(s), default relay %s, %zu sender rule(s), "
               "%zu transport(s)\n", im->dir, im->nrelays, d >= 0 ? im->relays[d].name : "no",
               nrules, im->transport.n);
    return ok;
}

bool ctl_import_postfix(struct ctl_managed *m, const char *dir, bool encrypt_auth)
{
    struct import im = {.m = m, .dir = dir, .encrypt_auth = encrypt_auth};
    bool ok = import_all(&im);

    table_free(&im.relaymap);
    table_free(&im.sasl);
    table_free(&im.policy);
    table_free(&im.transport);
    free(im.relays);
    if (ok)
        printf("next: point Postfix at smarthostd (smarthostctl postfix-conf) and remove these "
               "maps from main.cf\n");
    return ok;
}
