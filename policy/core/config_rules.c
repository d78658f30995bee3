/* config_rules.c - the `senders` (sender -> relay) and `transports` (recipient lane) lists. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "hostaddr.h"
#include "resolve.h"
#include "strmap.h"

#define MAX_TRANSPORT 256

/* ---- sender rules ---- */

struct rules_ctx {
    struct sh_error *err; /* first: conf_strings() reports through it */
    struct sh_snapshot *s;
    bool relay_set;
    const struct sh_relay *relay;
    const struct sh_cred *cred;
};

static bool add_rule(void *ctx, const config_setting_t *st, const char *value)
{
    struct rules_ctx *rc = ctx;
    struct sh_snapshot *s = rc->s;
    char key[SH_MAX_KEY + 1];
    enum sh_rule_kind kind;
    const char *why;
    struct sh_rule *r;

    if (!sh_sender_pattern(value, key, &kind, &why))
        return conf_fail(rc->err, st, "\"%.80s\": %s", value, why);
    if (kind == SH_RULE_NULL && rc->cred)
        return conf_fail(rc->err, st,
                         "Postfix looks up the null sender's credentials by its relay only: give "
                         "them to the relay (credentials = ... in the relay)");
    r = &s->rules[s->nrules];
    r->key = xstrdup(key);
    r->kind = kind;
    r->relay_set = rc->relay_set;
    r->relay = rc->relay;
    r->cred = rc->cred;
    r->origin = conf_origin(s, st);
    if (strmap_put(s->rule_index, key, r) != NULL) {
        const struct sh_rule *old = strmap_get(s->rule_index, key, strlen(key));
        free(r->key);
        return conf_fail(rc->err, st, "\"%s\" already has a rule at %s:%d", key, old->origin.file,
                         old->origin.line);
    }
    s->nrules++;
    return true;
}

static size_t count_matches(const config_setting_t *list)
{
    size_t n = 0;
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *m =
            config_setting_get_member(config_setting_get_elem(list, (unsigned)i), "match");
        n += (m && config_setting_is_aggregate(m)) ? (size_t)config_setting_length(m) : 1;
    }
    return n;
}

/* Room for the rules of both sender lists (the file's and the managed one):
 * rule_index points into s->rules, so it is allocated once. */
void conf_alloc_rules(struct sh_snapshot *s, const config_setting_t *list,
                      const config_setting_t *managed)
{
    size_t cap = 0;

    if (list && (config_setting_is_list(list) || config_setting_is_array(list)))
        cap += count_matches(list);
    if (managed && (config_setting_is_list(managed) || config_setting_is_array(managed)))
        cap += count_matches(managed);
    s->rules = xaligned_calloc(_Alignof(struct sh_rule), cap, sizeof(*s->rules));
    s->rule_index = strmap_new(cap);
}

bool conf_load_senders(struct sh_snapshot *s, const config_setting_t *list, struct sh_error *err)
{
    static const char *const allowed[] = {"match", "relay", "credentials", "imported_from", NULL};

    if (!config_setting_is_list(list) && !config_setting_is_array(list))
        return conf_fail(err, list, "must be a list: ( { match = ...; relay = ...; }, ... )");
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct rules_ctx rc = {.err = err, .s = s};
        const char *relay = NULL, *cred = NULL, *origin = NULL;

        if (!config_setting_is_group(g))
            return conf_fail(err, g, "must be a group { match = ...; relay = ...; }");
        if (!conf_only(g, allowed, err) || !conf_string(g, "relay", false, &relay, err) ||
            !conf_string(g, "credentials", false, &cred, err) ||
            !conf_string(g, "imported_from", false, &origin, err))
            return false;
        if (relay == NULL && cred == NULL)
            return conf_fail(err, g, "needs relay = ... or credentials = ... (or both)");
        rc.relay_set = relay != NULL;
        if (relay && strcmp(relay, "direct") != 0 &&
            (rc.relay = sh_snapshot_relay(s, relay)) == NULL)
            return conf_fail(err, config_setting_get_member(g, "relay"),
                             "no relay named \"%.64s\" (define it under relays, or use \"direct\")",
                             relay);
        if (cred && (rc.cred = conf_find_cred(s, cred)) == NULL)
            return conf_fail(err, config_setting_get_member(g, "credentials"),
                             "no credentials named \"%.64s\"", cred);
        if (!conf_strings(g, "match", true, add_rule, &rc))
            return false;
    }
    return true;
}

static bool rule_fail(struct sh_error *err, const struct sh_rule *r, const char *why,
                      const struct sh_relay *relay)
{
    snprintf(err->text, sizeof(err->text), "%s:%d: senders: \"%s\": %s \"%s\" (%s, tls %s)",
             r->origin.file, r->origin.line, r->key, why, relay->name, relay->nexthop,
             sh_tls_level_name(relay->tls));
    return false;
}

/* The environment's relay has tls may until credentials ride on it; docker-mailserver
 * then sets smtp_tls_security_level = encrypt, and so do we, for that relay only. */
static void raise_env_tls(struct sh_snapshot *s, struct sh_relay *r, const struct sh_rule *rule)
{
    snapshot_warn(s,
                  "%s:%d: \"%s\" has credentials at the environment's relay %s: its tls is "
                  "raised from %s to encrypt so they never cross the network in clear",
                  rule->origin.file, rule->origin.line, rule->key, r->nexthop,
                  sh_tls_level_name(r->tls));
    r->tls = SH_TLS_ENCRYPT;
    free(r->tls_answer);
    r->tls_answer = xstrdup(sh_tls_level_name(r->tls));
}

bool conf_finish_rules(struct sh_snapshot *s, struct sh_error *err)
{
    for (size_t i = 0; i < s->nrules; i++) {
        struct sh_rule *r = &s->rules[i];
        struct sh_relay *at;

        if (r->cred == NULL)
            continue;
        r->cred_relay = r->relay_set ? r->relay : sh_rule_inherited_relay(s, r);
        if ((at = (struct sh_relay *)r->cred_relay) == NULL) {
            snapshot_warn(s,
                          "%s:%d: \"%s\" has credentials but %s: they are kept and never sent "
                          "(mail without a relay never authenticates)",
                          r->origin.file, r->origin.line, r->key,
                          r->relay_set ? "goes direct" : "there is no default relay");
            continue;
        }
        if (at->tls < SH_TLS_ENCRYPT && strcmp(at->origin.file, "environment") == 0)
            raise_env_tls(s, at, r);
        if (at->tls < SH_TLS_ENCRYPT)
            return rule_fail(err, r,
                             "credentials must not cross the network in clear: set tls = "
                             "encrypt or stronger on relay",
                             at);
        for (size_t f = 0; f < at->nfailover; f++)
            if (at->failover[f]->tls < SH_TLS_ENCRYPT)
                return rule_fail(err, r,
                                 "Postfix sends a sender's credentials to every relay of its "
                                 "route; tls must be encrypt or stronger on failover",
                                 at->failover[f]);
    }
    return true;
}

/* ---- recipient transports ---- */

static bool transport_valid(const char *t)
{
    const char *colon = strchr(t, ':');

    if (colon == NULL || colon == t || strlen(t) > MAX_TRANSPORT)
        return false;
    for (const char *p = t; p < colon; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
            return false;
    for (const char *p = colon + 1; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Does any sender reach a relay (a default relay, or a rule naming one)? */
static bool relays_in_use(const struct sh_snapshot *s)
{
    if (s->default_relay)
        return true;
    for (size_t i = 0; i < s->nrules; i++)
        if (s->rules[i].relay)
            return true;
    return false;
}

/* Is "name:nexthop" T one of our relay transports, the only ones that look credentials
 * up by sender (smtp_sender_dependent_authentication)? */
static bool relay_transport(const struct sh_snapshot *s, const char *t)
{
    size_t n = strcspn(t, ":");

    return (strlen(s->smarthost_transport) == n && memcmp(t, s->smarthost_transport, n) == 0) ||
           (strlen(s->implicit_tls_transport) == n && memcmp(t, s->implicit_tls_transport, n) == 0);
}

bool conf_load_transports(struct sh_snapshot *s, const config_setting_t *list, struct sh_error *err)
{
    static const char *const allowed[] = {"domain", "transport", NULL};
    size_t n;

    if (!config_setting_is_list(list) && !config_setting_is_array(list))
        return conf_fail(err, list, "must be a list: ( { domain = ...; transport = ...; }, ... )");
    n = (size_t)config_setting_length(list); /* room made by alloc_transports() */
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *domain = NULL, *transport = NULL, *d;
        char key[SH_MAX_KEY + 1];
        struct sh_transport_rule *t;
        enum sh_rule_kind kind;
        const char *why;

        if (!config_setting_is_group(g))
            return conf_fail(err, g, "must be a group { domain = ...; transport = ...; }");
        if (!conf_only(g, allowed, err) || !conf_string(g, "domain", true, &domain, err) ||
            !conf_string(g, "transport", true, &transport, err))
            return false;
        /* Reuse the sender-key parser: "user@domain" as is, "domain" as "@domain". */
        if (strchr(domain, '@')) {
            if (!sh_sender_pattern(domain, key, &kind, &why) || kind != SH_RULE_ADDRESS)
                return conf_fail(err, config_setting_get_member(g, "domain"),
                                 "\"%.80s\": write domain, .domain or user@domain", domain);
        } else {
            d = domain[0] == '.' ? domain + 1 : domain;
            if (!sh_domain_valid(d, strlen(d)))
                return conf_fail(err, config_setting_get_member(g, "domain"),
                                 "\"%.80s\": invalid domain", domain);
            for (size_t k = 0; k <= strlen(domain); k++)
                key[k] = (char)tolower((unsigned char)domain[k]);
        }
        if (!transport_valid(transport))
            return conf_fail(err, config_setting_get_member(g, "transport"),
                             "\"%.80s\": write transport:nexthop (nexthop may be empty)",
                             transport);
        /* A lane on a relay transport would hand the sender's relay login to the lane's
         * server: smtp(8) asks the sasl map by sender first on those transports. */
        if (relay_transport(s, transport))
            return conf_fail(err, config_setting_get_member(g, "transport"),
                             "\"%.80s\": %.*s is the relay transport, which logs in with the "
                             "sender's relay credentials wherever it delivers; name another "
                             "transport (smtp, or one of your own)",
                             transport, (int)strcspn(transport, ":"), transport);
        t = &s->transports[s->ntransports];
        t->key = xstrdup(key);
        t->transport = xstrdup(transport);
        t->origin = conf_origin(s, g);
        /* transport(5): no nexthop means the recipient domain's MX hosts. */
        if (strchr(transport, ':')[1] == 0 && relays_in_use(s))
            conf_warn(s, g,
                      "\"%s\" -> \"%s\": an empty nexthop delivers to the recipient domain's "
                      "MX hosts, bypassing every sender's relay (Postfix transport(5)); "
                      "give the lane a nexthop to keep relaying",
                      key, transport);
        if (strmap_put(s->transport_index, key, t) != NULL) {
            free(t->key);
            free(t->transport);
            return conf_fail(err, g, "\"%s\" has a transport already", key);
        }
        s->ntransports++;
    }
    return true;
}

/* Room for both transport lists (the file's and the managed one): the index points
 * into s->transports, so it is allocated once. */
void conf_alloc_transports(struct sh_snapshot *s, const config_setting_t *list,
                           const config_setting_t *managed)
{
    size_t cap = 0;

    if (list && config_setting_is_aggregate(list))
        cap += (size_t)config_setting_length(list);
    if (managed && config_setting_is_aggregate(managed))
        cap += (size_t)config_setting_length(managed);
    s->transports = xcalloc(cap ? cap : 1, sizeof(*s->transports));
    s->transport_index = strmap_new(cap);
}
