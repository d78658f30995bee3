/* maps.c - the five tables Postfix asks us, all answered from one decision. */
#include <string.h>

#include "config_int.h"
#include "maps.h"
#include "strmap.h"

static const char *const map_names[] = {
    [SH_MAP_RELAY] = "relay",         [SH_MAP_SENDER_TRANSPORT] = "sender_transport",
    [SH_MAP_SASL] = "sasl",           [SH_MAP_TLS] = "tls",
    [SH_MAP_TRANSPORT] = "transport",
};

int sh_map_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++)
        if (strlen(map_names[i]) == len && memcmp(map_names[i], name, len) == 0)
            return (int)i;
    return -1;
}

const char *sh_map_name(enum sh_map m)
{
    return (unsigned)m < sizeof(map_names) / sizeof(map_names[0]) ? map_names[m] : "?";
}

static enum sh_outcome found(struct sh_answer *a, const char *value)
{
    a->value = value;
    return SH_FOUND;
}

static enum sh_outcome notfound(struct sh_answer *a, const char *why)
{
    a->why = why;
    return SH_NOTFOUND;
}

/* Sender-keyed maps: resolve once, then read the one field this map serves. */
static enum sh_outcome by_sender(const struct sh_snapshot *s, enum sh_map m, const char *key,
                                 size_t len, struct sh_answer *a)
{
    const struct sh_relay *r;

    if (sh_resolve_sender(s, key, len, &a->decision) != SH_FOUND) {
        a->why = "invalid address";
        return SH_PERM;
    }
    a->has_decision = true;
    if ((r = a->decision.relay) == NULL)
        return notfound(a, a->decision.rule ? "direct" : "no rule and no default relay");
    switch (m) {
    case SH_MAP_RELAY:
        return found(a, r->nexthops);
    case SH_MAP_SENDER_TRANSPORT:
        /* Relayed mail leaves through our transports only: they alone look credentials
         * up by sender, so smtp and relay (direct mail, lanes) never do. */
        return found(a, r->implicit_tls ? s->implicit_tls_transport : s->smarthost_transport);
    case SH_MAP_SASL:
        if (a->decision.cred == NULL)
            return notfound(a, "no credentials for this sender at its relay");
        a->matched = a->decision.cred;
        a->relay = r;
        a->secret = true;
        return found(a, a->decision.cred->sasl_answer);
    default:
        return notfound(a, "not a sender map");
    }
}

/* Lowercase copy of KEY; false when it is too long or has control characters. */
static bool fold(const char *key, size_t len, char *out)
{
    return sh_sender_key(key, len, out) >= 0;
}

/* smtp(8) asks the session's host name, then the nexthop. Only a relay's own
 * "[host]:port" is answered: a host name is every session on that host (a direct
 * delivery to user@[relay-ip] included), while the bracketed nexthop with its port
 * comes only from our relay map or a lane the admin pointed at that relay. */
static enum sh_outcome sasl_by_nexthop(const struct sh_snapshot *s, const char *key, size_t len,
                                       struct sh_answer *a)
{
    char k[SH_MAX_KEY + 1];
    const struct sh_cred *c;

    if (!fold(key, len, k))
        return a->why = "invalid key", SH_PERM;
    if (k[0] != '[' || (c = strmap_get(s->sasl_index, k, strlen(k))) == NULL)
        return notfound(a, "not the [host]:port of a relay");
    if (c == &sh_cred_no_auth)
        return notfound(a, "relay has no credentials (or relays at this nexthop disagree)");
    a->matched = c;
    a->relay = strmap_get(s->tls_index, k, strlen(k)); /* a nexthop key names its relay */
    a->secret = true;
    return found(a, c->sasl_answer);
}

static enum sh_outcome tls_policy(const struct sh_snapshot *s, const char *key, size_t len,
                                  struct sh_answer *a)
{
    char k[SH_MAX_KEY + 1];
    const struct sh_relay *r;

    if (!fold(key, len, k))
        return a->why = "invalid key", SH_PERM;
    if ((r = strmap_get(s->tls_index, k, strlen(k))) == NULL)
        return notfound(a, "not a relay");
    a->matched = r;
    return found(a, r->tls_answer);
}

/* transport_maps: Postfix sends socketmap tables the full recipient address
 * only, so do what it does for indexed tables: address, domain, .parent. */
static enum sh_outcome transport(const struct sh_snapshot *s, const char *key, size_t len,
                                 struct sh_answer *a)
{
    char k[SH_MAX_KEY + 1];
    const struct sh_transport_rule *t;
    const char *dom;

    if (!fold(key, len, k))
        return a->why = "invalid key", SH_PERM;
    if ((t = strmap_get(s->transport_index, k, strlen(k))) != NULL)
        goto hit;
    dom = strrchr(k, '@') ? strrchr(k, '@') + 1 : k;
    if (dom != k && (t = strmap_get(s->transport_index, dom, strlen(dom))) != NULL)
        goto hit;
    for (const char *p = strchr(dom, '.'); p && p[1]; p = strchr(p + 1, '.'))
        if ((t = strmap_get(s->transport_index, p, strlen(p))) != NULL)
            goto hit;
    return notfound(a, "no transport rule");
hit:
    a->matched = t;
    return found(a, t->transport);
}

enum sh_outcome sh_map_lookup(const struct sh_snapshot *s, enum sh_map m, const char *key,
                              size_t len, struct sh_answer *a)
{
    memset(a, 0, sizeof(*a));
    if (len > SH_MAX_KEY) {
        a->why = "key too long";
        return SH_PERM;
    }
    switch (m) {
    case SH_MAP_RELAY:
    case SH_MAP_SENDER_TRANSPORT:
        return by_sender(s, m, key, len, a);
    case SH_MAP_SASL:
        /* smtp_sasl_passwd_lookup: the sender (never the null sender, and only where
         * smtp_sender_dependent_authentication is on), the host, then the nexthop. */
        if (sh_null_sender_key(key, len))
            return notfound(a, "Postfix never looks credentials up by the null sender");
        if (len > 0 && key[0] != '[' && memchr(key, '@', len))
            return by_sender(s, m, key, len, a);
        return sasl_by_nexthop(s, key, len, a);
    case SH_MAP_TLS:
        return tls_policy(s, key, len, a);
    case SH_MAP_TRANSPORT:
        return transport(s, key, len, a);
    }
    a->why = "unknown map";
    return SH_PERM;
}

enum sh_outcome sh_map_sasl_session(const struct sh_snapshot *s, const char *sender,
                                    bool sender_auth, const char *nexthop, struct sh_answer *a)
{
    char host[SH_MAX_KEY + 1];
    const char *close = nexthop && nexthop[0] == '[' ? strchr(nexthop, ']') : NULL;
    enum sh_outcome o;

    /* smtp_sasl_passwd_lookup(): the sender, where the transport has sender-dependent
     * AUTH and the sender is not null; then the session's host; then the nexthop. */
    if (sender_auth && !sh_null_sender_key(sender, strlen(sender))) {
        o = sh_map_lookup(s, SH_MAP_SASL, sender, strlen(sender), a);
        if (o != SH_NOTFOUND)
            return o;
    }
    if (nexthop == NULL) {
        memset(a, 0, sizeof(*a));
        return notfound(a, "no nexthop");
    }
    if (close && (size_t)(close - nexthop - 1) < sizeof(host)) {
        memcpy(host, nexthop + 1, (size_t)(close - nexthop - 1));
        host[close - nexthop - 1] = 0;
        o = sh_map_lookup(s, SH_MAP_SASL, host, strlen(host), a);
        if (o != SH_NOTFOUND)
            return o;
    }
    return sh_map_lookup(s, SH_MAP_SASL, nexthop, strlen(nexthop), a);
}
