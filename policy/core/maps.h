/* maps.h - the Postfix lookup tables served from one snapshot.
 *
 * Pure functions of (snapshot, map, key): no sockets, no wire format. The
 * socketmap adapter translates the outcome to OK/NOTFOUND/TEMP/PERM.
 */
#ifndef SH_MAPS_H
#define SH_MAPS_H

#include <stddef.h>
#include "outcome.h"
#include "resolve.h"

enum sh_map {
    SH_MAP_RELAY,            /* sender_dependent_relayhost_maps */
    SH_MAP_SENDER_TRANSPORT, /* sender_dependent_default_transport_maps */
    SH_MAP_SASL,             /* smtp_sasl_password_maps */
    SH_MAP_TLS,              /* smtp_tls_policy_maps */
    SH_MAP_TRANSPORT,        /* transport_maps (recipient) */
};

/* -1 when NAME (LEN bytes, not NUL-terminated) is no map of ours. */
int sh_map_by_name(const char *name, size_t len);
const char *sh_map_name(enum sh_map m);

struct sh_answer {
    const char *value;           /* FOUND: points into the snapshot, valid while it is pinned */
    const char *why;             /* NOTFOUND/PERM/TEMP: a short reason, no secrets */
    struct sh_decision decision; /* for sender-keyed maps: what matched (for the log) */
    bool has_decision;
    /* What answered, typed by map: sasl -> struct sh_cred, tls -> struct sh_relay,
     * transport -> struct sh_transport_rule; NULL otherwise. Log the sasl user
     * from it, never the value. */
    const void *matched;
    /* sasl: the relay whose credentials answered (the sender's route, or the relay with
     * that nexthop for a host key); NULL for a bare host key. */
    const struct sh_relay *relay;
    bool secret; /* value must never be logged */
};

enum sh_outcome sh_map_lookup(const struct sh_snapshot *s, enum sh_map m, const char *key,
                              size_t len, struct sh_answer *a);

/* The sasl map as smtp(8) asks it for one delivery (smtp/smtp_sasl_glue.c,
 * smtp_sasl_passwd_lookup): by SENDER first only when SENDER_AUTH (the transport has
 * smtp_sender_dependent_authentication: our relay transports) and the sender is not
 * null ("" or "<>"), then by the session's host name, then by NEXTHOP as the delivery
 * names it ("[host]:port", "[ip]" or a domain; for a "[host]..." nexthop the host is
 * its bracketed part, else the MX host names, which no answer depends on). */
enum sh_outcome sh_map_sasl_session(const struct sh_snapshot *s, const char *sender,
                                    bool sender_auth, const char *nexthop, struct sh_answer *a);

#endif
