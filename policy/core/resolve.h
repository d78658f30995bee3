/* resolve.h - sender address -> one routing decision.
 *
 * One decision binds relay (with failover), credentials, TLS policy and
 * transport, so the relay, sasl and tls maps can never disagree for a sender.
 */
#ifndef SH_RESOLVE_H
#define SH_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include "outcome.h"
#include "snapshot.h"

#define SH_MAX_KEY 512 /* longest lookup key we accept (an address is <= 254) */

enum sh_via {
    SH_VIA_ADDRESS,       /* the full address, extension included */
    SH_VIA_ADDRESS_NOEXT, /* the address without its extension */
    SH_VIA_DOMAIN,        /* @domain */
    SH_VIA_PARENT,        /* @.parent of the sender's domain */
    SH_VIA_NULL_SENDER,   /* <> */
    SH_VIA_DEFAULT,       /* the default relay */
    SH_VIA_NONE,          /* no rule, no default: direct */
};

const char *sh_via_name(enum sh_via via);

struct sh_decision {
    enum sh_via via;
    const struct sh_rule *rule;   /* the rule that chose the relay; NULL for DEFAULT and NONE */
    const struct sh_relay *relay; /* NULL: direct delivery */
    /* The credentials sent to RELAY: the most specific matching rule's whose
     * credentials belong to RELAY (CRED_RULE), else RELAY's own; NULL: no AUTH. */
    const struct sh_cred *cred;
    const struct sh_rule *cred_rule;
};

/* Normalize SENDER (lowercase, no trailing dot on the domain) into KEY
 * (SH_MAX_KEY+1 bytes). Returns the key length, or -1 when it is too long or
 * contains bytes that no address has (NUL, control characters). */
int sh_sender_key(const char *sender, size_t len, char *key);

/* Is KEY one Postfix sends for the null sender? trivial-rewrite asks the sender maps
 * with empty_address_relayhost_maps_lookup_key / empty_address_default_transport_maps_
 * lookup_key (both "<>" by default) through mail_addr_find(), which queries the quoted
 * external form first ("\"<>\"": '<' and '>' are specials) and the bare "<>" only
 * when that is not found (global/mail_addr_find.c, MA_FORM_EXTERNAL_FIRST). The empty
 * key is ours (route, the control socket). */
bool sh_null_sender_key(const char *key, size_t len);

/* Parse a configured sender pattern (user@domain, @domain, @.domain, <>) into
 * its normalized KEY (SH_MAX_KEY+1 bytes) and kind; false with *why set. */
bool sh_sender_pattern(const char *in, char *key, enum sh_rule_kind *kind, const char **why);

/* Call FN with each candidate key of a normalized sender KEY, most specific
 * first: the address, the address without its extension (DELIMS), @domain,
 * then @.parent domains nearest first. Stops when FN returns true; returns
 * whether it did. Every table keyed by sender patterns matches through this. */
bool sh_sender_walk(const char *key, size_t klen, const char *delims,
                    bool (*fn)(void *ctx, const char *cand, size_t len, enum sh_via via),
                    void *ctx);

/* The relay a sender pattern's credentials-only rule RULE inherits: what the
 * rules less specific than it (or the default relay) give; NULL: direct. */
const struct sh_relay *sh_rule_inherited_relay(const struct sh_snapshot *s,
                                               const struct sh_rule *rule);

/* SH_FOUND with a decision (possibly direct), or SH_PERM for an invalid key. */
enum sh_outcome sh_resolve_sender(const struct sh_snapshot *s, const char *sender, size_t len,
                                  struct sh_decision *d);

#endif
