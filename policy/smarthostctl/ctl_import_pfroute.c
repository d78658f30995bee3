/* ctl_import_pfroute.c - `import postfix`: the route Postfix gives a sender key
 * (nexthop, transport, credentials, tls, fallback relays), as smarthostd relays. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_import_pf.h"
#include "hostaddr.h"
#include "snapshot.h"
#include "strmap.h"

/* "[host]" or "[host]:port" (a list or an unbracketed name is refused). */
bool pf_parse_nexthop(const char *what, const char *v, struct relay *r)
{
    const char *close = strchr(v, ']');
    char *end;
    long port = 25;

    if (v[0] != '[' || close == NULL)
        return pf_refuse(what, v,
                         "Postfix looks up MX records for a nexthop without [brackets]; smarthostd "
                         "relays never do: write [host] or [host]:port in Postfix first");
    if (close[1] == ':') {
        port = strtol(close + 2, &end, 10);
        if (close[2] == 0 || *end || port < 1 || port > 65535)
            return pf_refuse(what, v, "bad port");
    } else if (close[1] != 0) {
        return pf_refuse(what, v, "one nexthop only: lists (failover) are not imported");
    }
    if ((size_t)(close - v - 1) > SH_MAX_HOST)
        return pf_refuse(what, v, "host too long");
    snprintf(r->nexthop, sizeof(r->nexthop), "%s", v);
    for (char *p = r->nexthop; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    snprintf(r->host, sizeof(r->host), "%.*s", (int)(close - v - 1), r->nexthop + 1);
    r->port = (int)port;
    return true;
}

/* smtp_tls_policy_maps[nexthop], else smtp_tls_security_level. */
static bool pf_tls_of(struct import *im, struct relay *r)
{
    static const char *const levels[] = {"none",   "may",    "encrypt",
                                         "verify", "secure", "fingerprint"};
    const char *v = pf_lookup(&im->policy, r->nexthop);
    char buf[MAX_VALUE], *save = NULL, *w;
    bool known = false;

    snprintf(buf, sizeof(buf), "%s", v ? v : r->xport ? r->xport->level : im->default_level);
    w = strtok_r(buf, " \t", &save);
    if (w == NULL)
        w = "none";
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        known = known || strcmp(w, levels[i]) == 0;
    if (!known)
        return pf_refuse(v ? "smtp_tls_policy_maps" : "smtp_tls_security_level", v ? v : w,
                         "smarthostd relays have tls none, may, encrypt, verify, secure or "
                         "fingerprint (no dane)");
    snprintf(r->level, sizeof(r->level), "%s", w);
    while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
        if (strncmp(w, "match=", 6) != 0)
            return pf_refuse("smtp_tls_policy_maps", v,
                             "only the match= attribute can be imported (ciphers=, protocols=, "
                             "exclude=, ... have no smarthostd setting)");
        snprintf(r->match, sizeof(r->match), "%s", w + 6);
    }
    if (r->user && (strcmp(r->level, "none") == 0 || strcmp(r->level, "may") == 0)) {
        if (!im->encrypt_auth)
            return pf_refuse(r->nexthop, r->level,
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
bool pf_split_sasl(const char *key, char *value, const char **user, const char **pw)
{
    char *colon = strchr(value, ':');

    if (colon == NULL) { /* already split: user\0password */
        *user = value;
        *pw = value + strlen(value) + 1;
        return true;
    }
    if (colon == value || colon[1] == 0)
        return pf_refuse("smtp_sasl_password_maps", key, "value must be user:password");
    *colon = 0;
    *user = value;
    *pw = colon + 1;
    return true;
}

struct walk {
    const struct table *t;
    const struct entry *found;
};

static bool walk_fn(void *ctx, const char *cand, size_t len, enum sh_via via)
{
    struct walk *w = ctx;
    char k[SH_MAX_KEY + 1];

    if (via == SH_VIA_PARENT) /* mail_addr_find() has no parent-domain step */
        return false;
    snprintf(k, sizeof(k), "%.*s", (int)len, cand);
    w->found = pf_lookup_entry(w->t, k);
    return w->found != NULL;
}

/* Postfix's sender lookup: address, address without extension, @domain. */
static const struct entry *sender_entry(const struct import *im, const struct table *t,
                                        const char *key)
{
    struct walk w = {.t = t};

    sh_sender_walk(key, strlen(key), im->delims, walk_fn, &w);
    return w.found;
}

static const char *sender_lookup(const struct import *im, const struct table *t, const char *key)
{
    const struct entry *e = sender_entry(im, t, key);
    return e ? e->value : NULL;
}

/* Transport NAME's master.cf entry, read once; NULL (said why) when it cannot be read. */
const struct pf_xport *pf_xport_cached(struct import *im, const char *what, const char *name)
{
    struct pf_xport *x = NULL;

    if (*name == 0 || strlen(name) >= sizeof(x->name)) {
        pf_refuse(what, name, "write a transport name from master.cf");
        return NULL;
    }
    for (size_t i = 0; i < im->nxports; i++)
        if (strcmp(im->xports[i].name, name) == 0)
            return &im->xports[i];
    if (im->nxports == MAX_XPORTS) {
        pf_refuse(what, name, "more than 256 distinct transports");
        return NULL;
    }
    if (im->xports == NULL && (im->xports = calloc(MAX_XPORTS, sizeof(*x))) == NULL)
        abort();
    x = &im->xports[im->nxports];
    if (!pf_xport_read(im->dir, name, im->default_level, im->wrapper, im->fallback, x))
        return NULL;
    im->nxports++;
    return x;
}

/* Transport NAME when a relay route through it can be expressed, else NULL (said why):
 * WHAT names where the transport was given. */
static const struct pf_xport *xport_of(struct import *im, const char *what, const char *name)
{
    const struct pf_xport *x = pf_xport_cached(im, what, name);

    if (x == NULL)
        return NULL;
    if (!x->defined)
        pf_refuse(what, name, "no such transport in master.cf");
    else if (!x->smtp)
        pf_refuse(
            what, name,
            "its master.cf command is not smtp(8): smarthostd relays are delivered by smtp(8)");
    else if (x->other[0])
        ctl_err("import postfix: %s \"%.64s\": its master.cf setting -o %s has no smarthostd "
                "relay setting (only smtp_tls_wrappermode, smtp_tls_security_level, "
                "smtp_fallback_relay and syslog_name do)",
                what, name, x->other);
    else
        return x;
    return NULL;
}

/* R's index among the relays: an equal one, or R added under a fresh name. */
static long add_relay(struct import *im, struct relay *r, const char *who)
{
    bool split = r->xport && r->xport->fallback[0]; /* failover logins follow sender_cred */

    for (size_t i = 0; i < im->nrelays; i++) {
        const struct relay *o = &im->relays[i];
        if (strcmp(o->nexthop, r->nexthop) == 0 && strcmp(o->level, r->level) == 0 &&
            strcmp(o->match, r->match) == 0 && o->xport == r->xport && o->cred_of == r->cred_of &&
            (!split || o->sender_cred == r->sender_cred) &&
            (o->user == r->user || (o->user && r->user && strcmp(o->user, r->user) == 0 &&
                                    strcmp(o->password, r->password) == 0)))
            return (long)i;
    }
    for (size_t i = 0; i < im->nrelays; i++) {
        const struct relay *o = &im->relays[i];
        if (strcmp(o->nexthop, r->nexthop) == 0 && r->xport && o->xport &&
            o->xport->implicit != r->xport->implicit) {
            ctl_err("import postfix: %s is reached both through transport %s (%s) and %s (%s); "
                    "a smarthostd relay has one transport per nexthop",
                    r->nexthop, o->xport->name, o->xport->implicit ? "wrappermode" : "STARTTLS",
                    r->xport->name, r->xport->implicit ? "wrappermode" : "STARTTLS");
            return RELAY_ERROR;
        }
    }
    if (im->nrelays == MAX_RELAYS) {
        pf_refuse("relays", who, "more than 10000 distinct relays");
        return RELAY_ERROR;
    }
    /* pf_<host>_<port>, then _2, _3 for the same nexthop with other credentials */
    for (int n = 1;; n++) {
        bool taken = false;
        size_t k = (size_t)snprintf(r->name, sizeof(r->name), "pf_%s_%d", r->host, r->port);
        if (n > 1)
            snprintf(r->name + k, sizeof(r->name) - k, "_%d", n);
        for (char *p = r->name; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
                *p = '_';
        for (size_t i = 0; i < im->nrelays && !taken; i++)
            taken = strcmp(im->relays[i].name, r->name) == 0;
        if (!taken)
            break;
    }
    if ((im->nrelays & (im->nrelays - 1)) == 0 &&
        (im->relays = reallocarray(im->relays, im->nrelays ? 2 * im->nrelays : 1,
                                   sizeof(*im->relays))) == NULL)
        abort();
    im->relays[im->nrelays] = *r;
    return (long)im->nrelays++;
}

/* The relay (index) a sender key uses (NULL: the lookups of a sender no key matches),
 * shared by every key with the same nexthop, credentials, tls and transport;
 * RELAY_DIRECT or RELAY_ERROR. */
long pf_relay_for(struct import *im, const char *sender)
{
    const char *v = NULL, *user = NULL, *pw = NULL, *sv = NULL;
    const struct entry *xe = NULL;
    char what[PATH_MAX + SH_MAX_KEY + 80], xp[MAX_VALUE], *nh;
    struct relay r = {.cred_of = -1};
    bool null = sender && strcmp(sender, "<>") == 0;

    /* The transport: the sender's default_transport override, else default_transport. */
    if (sender)
        xe = null ? pf_lookup_entry(&im->xpmap, im->empty_xp_key)
                  : sender_entry(im, &im->xpmap, sender);
    if (xe && strcasecmp(xe->value, "dunno") == 0) /* ends the search: default_transport */
        xe = NULL;
    if (xe)
        snprintf(what, sizeof(what), "sender_dependent_default_transport_maps %s (%s)", xe->where,
                 sender);
    else
        snprintf(what, sizeof(what), "default_transport");
    snprintf(xp, sizeof(xp), "%s", xe ? xe->value : im->default_transport);
    if ((nh = strchr(xp, ':')) != NULL)
        *nh++ = 0;
    if ((r.xport = xport_of(im, what, xp)) == NULL)
        return RELAY_ERROR;
    if (nh && *nh) { /* its nexthop beats sender_dependent_relayhost_maps and relayhost */
        if (!pf_parse_nexthop(what, nh, &r))
            return RELAY_ERROR;
        v = nh;
    } else if (sender) {
        v = null ? pf_lookup(&im->relaymap, im->empty_key)
                 : sender_lookup(im, &im->relaymap, sender);
        if (v && strcasecmp(v, "dunno") == 0) /* Postfix 2.6+: fall back to relayhost */
            v = NULL;
        if (v && !pf_parse_nexthop("sender_dependent_relayhost_maps", v, &r))
            return RELAY_ERROR;
    }
    if (v == NULL) {
        const struct pf_xport *x = r.xport;
        r = im->relayhost;
        r.xport = x;
        r.cred_of = -1;
    }
    if (im->auth && im->sender_auth && sender && !null &&
        (sv = sender_lookup(im, &im->sasl, sender)) != NULL &&
        !pf_split_sasl(sender, (char *)sv, &user, &pw))
        return RELAY_ERROR;
    r.sender_cred = sv != NULL;
    if (r.host[0] == 0) {
        if (sv) {
            pf_refuse("sender", sender,
                      "Postfix would log in at the recipients' MX hosts with this sender's "
                      "credentials (no relay); smarthostd never sends them without a relay");
            return RELAY_ERROR;
        }
        if (r.xport->fallback[0]) {
            ctl_err("import postfix: %s \"%.120s\" goes to the recipients' MX hosts, and "
                    "smtp(8) tries smtp_fallback_relay \"%.120s\" after them; smarthostd's "
                    "direct route has no failover",
                    sender ? "sender" : "a sender no key matches", sender ? sender : "",
                    r.xport->fallback);
            return RELAY_ERROR;
        }
        if (r.xport->implicit) {
            pf_refuse(what, r.xport->name,
                      "this sender goes to the recipients' MX hosts with smtp_tls_wrappermode; "
                      "smarthostd's direct route has no transport");
            return RELAY_ERROR;
        }
        return RELAY_DIRECT;
    }
    if (im->auth && sv == NULL) { /* nexthop lookups: host, then the nexthop as written */
        sv = pf_lookup(&im->sasl, r.host);
        if (sv == NULL)
            sv = pf_lookup(&im->sasl, r.nexthop);
        if (sv && !pf_split_sasl(r.nexthop, (char *)sv, &user, &pw))
            return RELAY_ERROR;
    }
    r.user = user;
    r.password = pw;
    if (!pf_tls_of(im, &r))
        return RELAY_ERROR;
    return add_relay(im, &r, sender ? sender : "relayhost");
}

/* Relay P's failover relays: its transport's smtp_fallback_relay, in order. smtp(8)
 * looks a fallback relay's login up as the route's (the sender's key first, then the
 * fallback's own nexthop); smarthostd's failover relays log in as the route's relay,
 * so a login that would differ is refused. */
bool pf_add_failovers(struct import *im, size_t p)
{
    char list[PF_XPORT_VALUE], *save = NULL;

    snprintf(list, sizeof(list), "%s", im->relays[p].xport->fallback);
    for (char *f = strtok_r(list, ", \t\r\n", &save); f; f = strtok_r(NULL, ", \t\r\n", &save)) {
        struct relay fr = {.cred_of = -1};
        const char *user = NULL, *pw = NULL, *sv = NULL;
        long i;

        if (!pf_parse_nexthop("smtp_fallback_relay", f, &fr))
            return false;
        if (strcmp(fr.nexthop, im->relays[p].nexthop) == 0) {
            printf("note: %s is its own smtp_fallback_relay: tried once\n", fr.nexthop);
            continue;
        }
        if (im->relays[p].sender_cred) {
            user = im->relays[p].user;
            pw = im->relays[p].password;
        } else if (im->auth) {
            sv = pf_lookup(&im->sasl, fr.host);
            if (sv == NULL)
                sv = pf_lookup(&im->sasl, fr.nexthop);
            if (sv && !pf_split_sasl(fr.nexthop, (char *)sv, &user, &pw))
                return false;
        }
        if (!(user == im->relays[p].user ||
              (user && im->relays[p].user && strcmp(user, im->relays[p].user) == 0 &&
               strcmp(pw, im->relays[p].password) == 0))) {
            ctl_err("import postfix: smtp_fallback_relay \"%.120s\": Postfix would log in "
                    "there %s%s, at %s %s%s; smarthostd's failover relays log in as the "
                    "relay they back up: give both the same entry in smtp_sasl_password_maps",
                    fr.nexthop, user ? "as " : "without AUTH", user ? user : "",
                    im->relays[p].nexthop, im->relays[p].user ? "as " : "without AUTH",
                    im->relays[p].user ? im->relays[p].user : "");
            return false;
        }
        fr.user = user;
        fr.password = pw;
        fr.sender_cred = im->relays[p].sender_cred;
        fr.xport = im->relays[p].xport;
        fr.cred_of = user ? (long)p : -1;
        if (!pf_tls_of(im, &fr) || (i = add_relay(im, &fr, fr.nexthop)) == RELAY_ERROR)
            return false;
        if ((im->nlinks & (im->nlinks - 1)) == 0 &&
            (im->links = reallocarray(im->links, im->nlinks ? 2 * im->nlinks : 1,
                                      sizeof(*im->links))) == NULL)
            abort();
        im->links[im->nlinks][0] = p;
        im->links[im->nlinks++][1] = (size_t)i;
    }
    return true;
}
