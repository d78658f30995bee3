/* ctl_import_postfix.c - `smarthostctl import postfix [DIR]`: a hand-made Postfix
 * relay setup (relayhost, sender_dependent_relayhost_maps, smtp_sasl_password_maps,
 * smtp_tls_policy_maps, transport_maps, default_transport,
 * sender_dependent_default_transport_maps, smtp_fallback_relay) into the managed file.
 *
 * Values come from `postconf -c DIR -xh NAME` (Postfix's own parser, $names
 * expanded); tables are read from their source text (hash:/lmdb: the file next to
 * the .db/.lmdb). smarthostd binds credentials and TLS to a relay, Postfix looks
 * them up per sender and per nexthop, so the import replays Postfix's lookups:
 * for every sender key K found in the maps, relay = relaymap[K, K without
 * extension, @domain] else relayhost; credentials = saslmap[same keys] (with
 * smtp_sender_dependent_authentication) else saslmap[host, "[host]:port"] of that
 * relay; tls = policymap[nexthop] else smtp_tls_security_level. The transport is
 * sender_dependent_default_transport_maps[same keys] else default_transport: its
 * nexthop, when it has one, beats the relay maps (postconf(5) default_transport);
 * its master.cf entry must be smtp(8), and its wrappermode becomes implicit_tls. Its
 * smtp_fallback_relay (smtp(8) tries those after the nexthop, for every nexthop:
 * relay, MX or lane) becomes the relay's failover list, made of relays that log in as
 * the route does. Senders that share all of this share one relay
 * "pf_<host>_<port>[_n]". Because a sender matching no
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
#include "ctl_import_pf.h"
#include "ctl_postconf.h"
#include "ctl_relay.h"
#include "hostaddr.h"
#include "pftable.h"
#include "resolve.h"
#include "snapshot.h"
#include "strmap.h"

bool pf_refuse(const char *what, const char *value, const char *why)
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
                "%s/main.cf readable?)",
                dir, name, dir);
        return false;
    }
    len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len >= cap) {
        free(text);
        return pf_refuse("parameter", name, "value too long");
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
        free(t->e[i].where);
    }
    free(t->e);
    if (t->index)
        strmap_free(t->index);
}

const struct entry *pf_lookup_entry(const struct table *t, const char *key)
{
    return t->index ? strmap_get(t->index, key, strlen(key)) : NULL;
}

const char *pf_lookup(const struct table *t, const char *key)
{
    const struct entry *e = pf_lookup_entry(t, key);
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
        return pf_refuse(t->param, path, "more than 100000 entries");
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->e = reallocarray(t->e, t->cap, sizeof(*t->e));
        if (t->e == NULL)
            abort();
    }
    t->e[t->n].key = strdup(key);
    t->e[t->n].value = strdup(value);
    t->e[t->n].vlen = strlen(value);
    if (asprintf(&t->e[t->n].where, "%s:%d", path, lineno) < 0)
        abort();
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
    for (char *spec = strtok_r(value, ", \t\n", &save); spec;
         spec = strtok_r(NULL, ", \t\n", &save)) {
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
            return pf_refuse(param, spec,
                             "only texthash:, hash: and lmdb: tables can be imported; other types "
                             "(regexp, pcre, cidr, proxy, SQL, LDAP, ...) match in ways smarthostd "
                             "rules cannot express, so nothing is imported");
        if (path[0] != '/')
            return pf_refuse(param, spec, "write an absolute path");
        if (suffix) { /* Postfix reads the .db: its source must not have changed since postmap */
            snprintf(db, sizeof(db), "%s%s", path, suffix);
            if (stat(db, &bin) != 0)
                return pf_refuse(param, db, "missing: run postmap first");
            if (stat(path, &src) == 0 && src.st_mtime > bin.st_mtime)
                return pf_refuse(param, path,
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
                     "as Postfix does",
                     param, t->e[i].key);
    return true;
}

/* The rule for one sender key of the relay, transport or sasl map (EMPTY: the map's
 * null-sender key, NULL for the sasl map); keys that are no sender (nexthop keys of
 * the sasl map) are skipped. */
static bool import_sender(struct import *im, struct strmap *done, const char *key,
                          const char *empty)
{
    bool sasl = empty == NULL, null = !sasl && strcmp(key, empty) == 0;
    char norm[SH_MAX_KEY + 1];
    enum sh_rule_kind kind;
    const char *why;
    long r;

    if (sasl && (key[0] == '[' || strchr(key, '@') == NULL))
        return true; /* a nexthop key, or <> which Postfix never asks the sasl map */
    if (!sh_sender_pattern(null ? "<>" : key, norm, &kind, &why))
        return pf_refuse("sender key", key, why);
    if (kind == SH_RULE_SUBDOMAIN || (kind == SH_RULE_NULL && !null))
        return pf_refuse("sender key", key, "Postfix never looks this key up; delete it");
    if (strchr(key, '@') == NULL && kind != SH_RULE_NULL)
        return pf_refuse(
            "sender key", key,
            "a bare local part matches only local domains in Postfix; write user@domain");
    if (strmap_put(done, norm, (void *)key) != NULL)
        return true;
    if ((r = pf_relay_for(im, norm)) == RELAY_ERROR)
        return false;
    return relay_rule(im->m, norm, r == RELAY_DIRECT ? "direct" : im->relays[r].name);
}

static bool import_transport(struct import *im, const struct entry *e)
{
    const char *colon = strchr(e->value, ':');

    if (strcmp(e->key, "*") == 0 || e->key[0] == '@')
        return pf_refuse("transport_maps key", e->key,
                         "smarthostd transports match domain, .domain or user@domain only");
    if (colon == NULL || colon == e->value)
        return pf_refuse("transport_maps value", e->value,
                         "write transport:nexthop with a transport name (an empty transport, "
                         "meaning default_transport, has no smarthostd equivalent)");
    if (im->auth && colon[1]) { /* Postfix would look up this nexthop's own credentials */
        char host[SH_MAX_HOST + 1];
        const char *h = colon[1] == '[' ? colon + 2 : colon + 1;
        snprintf(host, sizeof(host), "%.*s", (int)strcspn(h, "]:"), h);
        if (pf_lookup(&im->sasl, host) || pf_lookup(&im->sasl, colon + 1))
            return pf_refuse("transport_maps value", e->value,
                             "smtp_sasl_password_maps has credentials for this nexthop; smarthostd "
                             "answers SASL lookups with the sender's relay's credentials, not the "
                             "nexthop's: route this traffic with a sender rule instead");
    }
    { /* smtp(8) tries smtp_fallback_relay after a lane's nexthop too */
        char name[MAX_VALUE], what[PATH_MAX + 64];
        const struct pf_xport *x;
        snprintf(name, sizeof(name), "%.*s", (int)(colon - e->value), e->value);
        snprintf(what, sizeof(what), "transport_maps %s", e->where);
        if ((x = pf_xport_cached(im, what, name)) == NULL)
            return false;
        if (!x->defined && im->fallback[0])
            return pf_refuse(what, e->value,
                             "not in master.cf, so whether smtp(8) would try smtp_fallback_relay "
                             "after this lane cannot be told");
        if (x->defined && x->smtp && x->fallback[0])
            return pf_refuse(what, e->value,
                             "smtp(8) would try smtp_fallback_relay after this lane's nexthop; "
                             "smarthostd lanes have no failover (set -o smtp_fallback_relay= on "
                             "its master.cf entry if it should not)");
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
    if (!postconf(im->dir, "smtp_tls_wrappermode", v, sizeof(v)))
        return false;
    im->wrapper = flag(v);
    if (!postconf(im->dir, "default_transport", im->default_transport,
                  sizeof(im->default_transport)) ||
        !postconf(im->dir, "smtp_fallback_relay", im->fallback, sizeof(im->fallback)) ||
        !postconf(im->dir, "empty_address_default_transport_maps_lookup_key", im->empty_xp_key,
                  sizeof(im->empty_xp_key)))
        return false;
    for (char *p = im->empty_xp_key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (char *p = im->empty_key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!postconf(im->dir, "relayhost", v, sizeof(v)) ||
        (v[0] && !pf_parse_nexthop("relayhost", v, &im->relayhost)))
        return false;
    if (!load_table(im, &im->relaymap, "sender_dependent_relayhost_maps") ||
        !load_table(im, &im->sasl, "smtp_sasl_password_maps") ||
        !load_table(im, &im->policy, "smtp_tls_policy_maps") ||
        !load_table(im, &im->transport, "transport_maps") ||
        !load_table(im, &im->xpmap, "sender_dependent_default_transport_maps"))
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
    if ((d = pf_relay_for(im, NULL)) == RELAY_ERROR)
        return false;
    done = strmap_new(im->relaymap.n + im->sasl.n + im->xpmap.n);
    for (size_t i = 0; ok && i < im->relaymap.n; i++)
        ok = import_sender(im, done, im->relaymap.e[i].key, im->empty_key);
    for (size_t i = 0; ok && i < im->xpmap.n; i++)
        ok = import_sender(im, done, im->xpmap.e[i].key, im->empty_xp_key);
    for (size_t i = 0; ok && im->auth && im->sender_auth && i < im->sasl.n; i++)
        ok = import_sender(im, done, im->sasl.e[i].key, NULL);
    nrules = strmap_count(done);
    strmap_free(done);
    for (size_t i = 0, n = im->nrelays; ok && i < n; i++) /* the routes' relays, not failovers */
        ok = pf_add_failovers(im, i);
    for (size_t i = 0; ok && i < im->nrelays; i++) {
        const struct relay *r = &im->relays[i];
        ok = relay_define(im->m, r->name, r->host, r->port, r->level, r->match,
                          r->cred_of < 0 ? r->user : NULL, r->password);
        if (ok && r->cred_of >= 0)
            relay_use_credentials(im->m, r->name, im->relays[r->cred_of].name);
        if (ok && r->xport && r->xport->implicit) {
            relay_set_implicit(im->m, r->name, true);
            printf("note: %s speaks implicit TLS (transport %s): smarthostd names its "
                   "implicit_tls_transport for it (smarthostctl postfix-setup defines it)\n",
                   r->nexthop, r->xport->name);
        }
    }
    for (size_t i = 0; ok && i < im->nlinks; i++)
        relay_add_failover(im->m, im->relays[im->links[i][0]].name,
                           im->relays[im->links[i][1]].name);
    for (size_t i = 0; ok && i < im->transport.n; i++)
        ok = import_transport(im, &im->transport.e[i]);
    if (ok && d >= 0)
        relay_default_name(im->m, im->relays[d].name);
    if (ok)
        printf("imported from %s/main.cf: %zu relay(s), default relay %s, %zu sender rule(s), "
               "%zu transport(s)\n",
               im->dir, im->nrelays, d >= 0 ? im->relays[d].name : "no", nrules, im->transport.n);
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
    table_free(&im.xpmap);
    free(im.relays);
    free(im.xports);
    free(im.links);
    if (ok)
        printf("next: point Postfix at smarthostd (smarthostctl postfix-conf) and remove these "
               "maps%s from main.cf\n",
               im.fallback[0] ? " and smtp_fallback_relay (the relays' failover replaces it)" : "");
    return ok;
}
