/* policy_conf.c - the `policy` group -> struct sh_policy_conf.
 *
 *   policy = {
 *     logins = ( { user = "alice@example.com"; senders = [ "alice@example.com", "@example.org" ]; }
 * ); require_auth = [ "@example.com" ];      require_tls = [ "@example.com" ]; max_size = ( { match
 * = [ "@example.com" ]; bytes = 10240000; } ); relay_guard = true;  local_domains = [
 * "example.com", ".example.com" ]; trusted_networks = [ "127.0.0.0/8", "::1/128" ]; rate_limits = (
 * { name = "ses"; per = "relay"; relay = "ses"; messages = 14; window = 1; } ); rate_store =
 * "memory";  rate_fail_mode = "allow"; redis = { address = "inet:127.0.0.1:6379"; timeout_ms = 200;
 * key_prefix = "smarthostd:"; };
 *   };
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config_int.h"
#include "hostaddr.h"
#include "policy_conf.h"
#include "ratelimit.h"
#include "resolve.h"
#include "strmap.h"

#define MAX_LOGINS     100000
#define MAX_LIMIT_NAME 32
#define MAX_PREFIX     64

const char *policy_per_name(enum policy_per per)
{
    switch (per) {
    case POLICY_PER_SASL_USER:
        return "sasl_user";
    case POLICY_PER_SENDER:
        return "sender";
    case POLICY_PER_SENDER_DOMAIN:
        return "sender_domain";
    case POLICY_PER_RELAY:
        return "relay";
    }
    return "?";
}

/* ---- logins ---- */

static bool load_logins(struct sh_snapshot *s, struct sh_policy_conf *p,
                        const config_setting_t *list, struct sh_error *err)
{
    static const char *const allowed[] = {"user", "senders", NULL};
    int n = config_setting_length(list);

    if (!config_setting_is_list(list) && !config_setting_is_array(list))
        return conf_fail(err, list, "must be a list of { user = ...; senders = [...]; }");
    if (n > MAX_LOGINS)
        return conf_fail(err, list, "more than %d logins", MAX_LOGINS);
    p->logins = xcalloc((size_t)n + 1, sizeof(*p->logins));
    p->login_index = strmap_new((size_t)n);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct policy_login *l = &p->logins[p->nlogins];
        const char *user = NULL;
        size_t len;

        if (!config_setting_is_group(g))
            return conf_fail(err, g, "must be a group { user = ...; senders = [...]; }");
        if (!conf_only(g, allowed, err) || !conf_string(g, "user", true, &user, err))
            return false;
        if ((len = strlen(user)) == 0 || len > SH_MAX_KEY)
            return conf_fail(err, config_setting_get_member(g, "user"), "must be 1-512 characters");
        l->user = xstrdup(user);
        for (char *c = l->user; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return conf_fail(err, config_setting_get_member(g, "user"),
                                 "control character in user name");
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + 32);
        }
        l->origin = conf_origin(s, g);
        p->nlogins++;
        if (!sh_sender_set_load(s, g, "senders", true, SH_SET_SENDERS, &l->senders, err))
            return false;
        if (strmap_put(p->login_index, l->user, l) != NULL) {
            const struct policy_login *old = strmap_get(p->login_index, l->user, strlen(l->user));
            return conf_fail(err, g, "user \"%s\" already listed at %s:%d", l->user,
                             old->origin.file, old->origin.line);
        }
    }
    return true;
}

/* ---- max_size: { match = PATTERN(S); bytes = N; } into one set, so the most
 * specific pattern wins as everywhere else ---- */

static bool load_max_size(struct sh_snapshot *s, struct sh_policy_conf *p,
                          const config_setting_t *list, struct sh_error *err)
{
    static const char *const allowed[] = {"match", "bytes", NULL};
    int n = config_setting_length(list);

    if (!config_setting_is_list(list))
        return conf_fail(err, list, "must be a list ( { match = ...; bytes = ...; }, ... )");
    if (n > POLICY_MAX_SIZE_RULES)
        return conf_fail(err, list, "more than %d size rules", POLICY_MAX_SIZE_RULES);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        size_t first = p->max_size.n;
        int bytes = 0;

        if (!config_setting_is_group(g))
            return conf_fail(err, g, "must be a group { match = ...; bytes = ...; }");
        if (!conf_only(g, allowed, err) || !conf_int(g, "bytes", 1, 2147483647, &bytes, err))
            return false;
        if (bytes == 0)
            return conf_fail(err, g, "missing required setting 'bytes'");
        if (!sh_sender_set_load(s, g, "match", true, SH_SET_SENDERS, &p->max_size, err))
            return false;
        for (size_t k = first; k < p->max_size.n; k++)
            p->max_size.items[k]->value = (unsigned long)bytes;
    }
    return true;
}

/* ---- trusted networks ---- */

struct cidr_ctx {
    struct sh_error *err;
    struct sh_policy_conf *p;
};

static bool add_cidr(void *ctx, const config_setting_t *st, const char *value)
{
    struct cidr_ctx *cc = ctx;
    struct sh_policy_conf *p = cc->p;

    if (p->ntrusted == POLICY_MAX_TRUSTED)
        return conf_fail(cc->err, st, "more than %d networks", POLICY_MAX_TRUSTED);
    p->trusted = xreallocarray(p->trusted, p->ntrusted + 1, sizeof(*p->trusted));
    if (!sh_cidr_parse(value, &p->trusted[p->ntrusted]))
        return conf_fail(cc->err, st,
                         "\"%.80s\": not an address or network (192.0.2.0/24, 2001:db8::/32; "
                         "host bits must be zero)",
                         value);
    p->ntrusted++;
    return true;
}

/* ---- rate limits ---- */

static bool limit_name_valid(const char *n)
{
    size_t len = strlen(n);

    if (len == 0 || len > MAX_LIMIT_NAME)
        return false;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_' || *n == '-'))
            return false;
    return true;
}

static bool load_limit(struct sh_snapshot *s, struct sh_policy_conf *p, const config_setting_t *g,
                       struct policy_limit *l, struct sh_error *err)
{
    static const char *const allowed[] = {"name",     "per",        "match",  "relay",
                                          "messages", "recipients", "window", NULL};
    static const char *const pers[] = {[POLICY_PER_SASL_USER] = "sasl_user",
                                       [POLICY_PER_SENDER] = "sender",
                                       [POLICY_PER_SENDER_DOMAIN] = "sender_domain",
                                       [POLICY_PER_RELAY] = "relay"};
    const char *name = NULL, *per = NULL, *relay = NULL;
    int messages = 0, recipients = 0, window = 0;
    unsigned i;

    if (!config_setting_is_group(g))
        return conf_fail(err, g, "must be a group { name = ...; per = ...; ... }");
    if (!conf_only(g, allowed, err) || !conf_string(g, "name", true, &name, err) ||
        !conf_string(g, "per", true, &per, err) || !conf_string(g, "relay", false, &relay, err) ||
        !conf_int(g, "messages", 0, 1000000000, &messages, err) ||
        !conf_int(g, "recipients", 0, 1000000000, &recipients, err) ||
        !conf_int(g, "window", 1, 31 * 86400, &window, err))
        return false;
    if (!limit_name_valid(name))
        return conf_fail(err, config_setting_get_member(g, "name"),
                         "must be 1-%d characters of a-z, 0-9, _ and -", MAX_LIMIT_NAME);
    for (const struct policy_limit *o = p->limits; o < l; o++)
        if (strcmp(o->name, name) == 0)
            return conf_fail(err, config_setting_get_member(g, "name"),
                             "\"%s\" already used at %s:%d", name, o->origin.file, o->origin.line);
    l->name = xstrdup(name);
    l->origin = conf_origin(s, g);
    for (i = 0; i < sizeof(pers) / sizeof(pers[0]) && strcmp(pers[i], per) != 0; i++)
        ;
    if (i == sizeof(pers) / sizeof(pers[0]))
        return conf_fail(err, config_setting_get_member(g, "per"),
                         "must be sasl_user, sender, sender_domain or relay");
    l->per = (enum policy_per)i;
    if (window == 0)
        return conf_fail(err, g, "missing required setting 'window' (seconds)");
    if (messages == 0 && recipients == 0)
        return conf_fail(err, g, "set 'messages' or 'recipients' (or both)");
    l->messages = (unsigned)messages;
    l->recipients = (unsigned)recipients;
    l->window = (unsigned)window;
    if (relay) {
        if (l->per != POLICY_PER_RELAY)
            return conf_fail(err, config_setting_get_member(g, "relay"),
                             "only with per = \"relay\"");
        if ((l->relay = sh_snapshot_relay(s, relay)) == NULL)
            return conf_fail(err, config_setting_get_member(g, "relay"), "no relay named \"%.64s\"",
                             relay);
    }
    return sh_sender_set_load(s, g, "match", false, SH_SET_SENDERS, &l->match, err);
}

static bool load_limits(struct sh_snapshot *s, struct sh_policy_conf *p,
                        const config_setting_t *list, struct sh_error *err)
{
    int n = config_setting_length(list);

    if (!config_setting_is_list(list))
        return conf_fail(err, list, "must be a list ( { ... }, { ... } )");
    if (n > POLICY_MAX_LIMITS)
        return conf_fail(err, list, "more than %d rate limits", POLICY_MAX_LIMITS);
    p->limits = xcalloc((size_t)n + 1, sizeof(*p->limits));
    for (int i = 0; i < n; i++) {
        p->nlimits++;
        if (!load_limit(s, p, config_setting_get_elem(list, (unsigned)i), &p->limits[i], err))
            return false;
    }
    return true;
}

static bool load_store(struct sh_policy_conf *p, const config_setting_t *group,
                       struct sh_error *err)
{
    static const char *const allowed[] = {"address", "timeout_ms", "key_prefix", NULL};
    const config_setting_t *r = config_setting_get_member(group, "redis");
    const char *store = "memory", *fail = "allow", *address = NULL, *prefix = "smarthostd:";
    int timeout = POLICY_DEFAULT_TIMEOUT_MS;
    const char *why;

    if (!conf_string(group, "rate_store", false, &store, err) ||
        !conf_string(group, "rate_fail_mode", false, &fail, err))
        return false;
    if (strcmp(fail, "allow") == 0)
        p->fail_mode = POLICY_FAIL_ALLOW;
    else if (strcmp(fail, "defer") == 0)
        p->fail_mode = POLICY_FAIL_DEFER;
    else
        return conf_fail(err, config_setting_get_member(group, "rate_fail_mode"),
                         "must be \"allow\" or \"defer\"");
    if (strcmp(store, "memory") == 0) {
        if (r)
            return conf_fail(err, r, "only with rate_store = \"redis\"");
        return true;
    }
    if (strcmp(store, "redis") != 0)
        return conf_fail(err, config_setting_get_member(group, "rate_store"),
                         "must be \"memory\" or \"redis\"");
    if (r == NULL)
        return conf_fail(err, group,
                         "rate_store = \"redis\" needs a redis = { address = ...; } group");
    if (!config_setting_is_group(r))
        return conf_fail(err, r, "must be a group { address = ...; }");
    if (!conf_only(r, allowed, err) || !conf_string(r, "address", true, &address, err) ||
        !conf_int(r, "timeout_ms", 1, 10000, &timeout, err) ||
        !conf_string(r, "key_prefix", false, &prefix, err))
        return false;
    if (strlen(prefix) > MAX_PREFIX)
        return conf_fail(err, config_setting_get_member(r, "key_prefix"),
                         "longer than %d characters", MAX_PREFIX);
    p->redis = rl_redis_new(address, (unsigned)timeout, POLICY_REDIS_RETRY_MS, prefix, &why);
    if (p->redis == NULL)
        return conf_fail(err, config_setting_get_member(r, "address"), "\"%.80s\": %s", address,
                         why);
    p->redis_address = xstrdup(address);
    p->redis_timeout_ms = (unsigned)timeout;
    return true;
}

static bool load(struct sh_snapshot *s, struct sh_policy_conf *p, const config_setting_t *group,
                 struct sh_error *err)
{
    static const char *const allowed[] = {
        "logins",           "require_auth", "require_tls", "relay_guard",    "local_domains",
        "trusted_networks", "rate_limits",  "rate_store",  "rate_fail_mode", "redis",
        "max_size",         NULL,
    };
    struct cidr_ctx cc = {.err = err, .p = p};
    const config_setting_t *st;

    if (!config_setting_is_group(group))
        return conf_fail(err, group, "must be a group { ... }");
    if (!conf_only(group, allowed, err))
        return false;
    p->login_index = NULL;
    if ((st = config_setting_get_member(group, "logins")) != NULL && !load_logins(s, p, st, err))
        return false;
    if (!sh_sender_set_load(s, group, "require_auth", false, SH_SET_SENDERS, &p->require_auth,
                            err) ||
        !sh_sender_set_load(s, group, "require_tls", false, SH_SET_SENDERS, &p->require_tls, err) ||
        !conf_bool(group, "relay_guard", &p->relay_guard, err) ||
        !sh_sender_set_load(s, group, "local_domains", false, SH_SET_DOMAINS, &p->local_domains,
                            err) ||
        !conf_strings(group, "trusted_networks", false, add_cidr, &cc))
        return false;
    if (p->relay_guard && config_setting_get_member(group, "local_domains") == NULL)
        return conf_fail(err, config_setting_get_member(group, "relay_guard"),
                         "needs local_domains (an empty list if no domain is local)");
    if ((st = config_setting_get_member(group, "max_size")) != NULL &&
        !load_max_size(s, p, st, err))
        return false;
    if ((st = config_setting_get_member(group, "rate_limits")) != NULL &&
        !load_limits(s, p, st, err))
        return false;
    return load_store(p, group, err);
}

bool sh_policy_conf_load(struct sh_snapshot *s, const config_setting_t *group, struct sh_error *err)
{
    struct sh_policy_conf *p = xcalloc(1, sizeof(*p));

    p->origin = conf_origin(s, group);
    s->policy = p; /* freed with the snapshot, also when half-loaded */
    return load(s, p, group, err);
}

void sh_policy_conf_free(struct sh_policy_conf *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nlogins; i++) {
        free(p->logins[i].user);
        sh_sender_set_free(&p->logins[i].senders);
    }
    free(p->logins);
    strmap_free(p->login_index);
    sh_sender_set_free(&p->require_auth);
    sh_sender_set_free(&p->require_tls);
    sh_sender_set_free(&p->max_size);
    sh_sender_set_free(&p->local_domains);
    free(p->trusted);
    for (size_t i = 0; i < p->nlimits; i++) {
        free(p->limits[i].name);
        sh_sender_set_free(&p->limits[i].match);
    }
    free(p->limits);
    rl_store_free(p->redis);
    free(p->redis_address);
    free(p);
}
