/* snapshot.h - one immutable, validated configuration.
 *
 * The loader (config.c) builds a complete snapshot or none. Readers pin the
 * current one with sh_snapshot_acquire() and drop it with sh_snapshot_release();
 * a reload publishes a new one and the old one is freed when its last reader is
 * done, so no lookup ever sees half a configuration. Nothing here knows about
 * sockets, netstrings or libmilter.
 */
#ifndef SH_SNAPSHOT_H
#define SH_SNAPSHOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canon.h"

struct strmap;

enum sh_tls_level {
    SH_TLS_NONE,
    SH_TLS_MAY,
    SH_TLS_ENCRYPT,
    SH_TLS_FINGERPRINT,
    SH_TLS_VERIFY,
    SH_TLS_SECURE,
};

const char *sh_tls_level_name(enum sh_tls_level level);

/* Where a setting came from: "file:line", or "environment". */
struct sh_origin {
    const char *file; /* owned by the snapshot's file list; "environment" for env vars */
    int line;
};

struct sh_cred {
    char *name;
    char *user;
    char *password;    /* plaintext in memory only; wiped when the snapshot is freed */
    char *sasl_answer; /* "user:password" as smtp_sasl_password_maps wants it; wiped too */
    const char *kind;  /* where the password lives: "vault", "file", "cred", "literal", "env" */
    struct sh_origin origin;
    unsigned ctr_answers; /* counter slot: sasl map answers (metrics.h) */
};

struct sh_relay {
    char *name;
    char *host; /* FQDN or IP literal, lowercase, without brackets */
    unsigned port;
    bool implicit_tls; /* SMTPS (465): needs the wrappermode transport */
    enum sh_tls_level tls;
    char *tls_answer;           /* smtp_tls_policy_maps value: "secure match=nexthop" */
    const struct sh_cred *cred; /* NULL: never AUTH (IP-allowlisted relay) */
    struct sh_relay **failover; /* further relays of the same route, in order */
    size_t nfailover;
    char *nexthop;  /* "[host]:port" */
    char *nexthops; /* relay map value: own nexthop then the failovers', ", " joined */
    struct sh_origin origin;
    unsigned ctr_routes; /* counter slot: relay map answers naming this relay (metrics.h) */
    unsigned ctr_creds;  /* counter slot: sasl map answers for this relay */
};

enum sh_rule_kind {
    SH_RULE_ADDRESS,   /* user@domain (with or without extension) */
    SH_RULE_DOMAIN,    /* @domain */
    SH_RULE_SUBDOMAIN, /* @.domain: strict subdomains of domain */
    SH_RULE_NULL,      /* <> */
};

/* A sender rule names a relay (or "direct"), credentials, or both, as Postfix's
 * sender_dependent_relayhost_maps and smtp_sasl_password_maps do separately. A rule
 * with credentials only keeps the relay its less specific rules (or the default
 * relay) give; its credentials are used at that relay and nowhere else.
 * A rule is one cache line (64 bytes, aligned so; conf_alloc_rules allocates them
 * so): a lookup decided by a rule reads relay_set and relay and adds to hits, and
 * all three are on the line it has to fetch anyway. */
struct sh_rule {
    _Alignas(64) char *key; /* normalized: lowercase, as matched */
    enum sh_rule_kind kind;
    bool relay_set;                    /* false: credentials only, the relay comes from elsewhere */
    const struct sh_relay *relay;      /* relay_set: NULL is "direct", deliver without any relay */
    _Atomic uint64_t hits;             /* relay map decisions by this rule (metrics.h) */
    const struct sh_cred *cred;        /* this sender pattern's own credentials, or NULL */
    const struct sh_relay *cred_relay; /* the one relay CRED may be sent to (NULL: none) */
    struct sh_origin origin;
};
_Static_assert(sizeof(struct sh_rule) == 64, "a sender rule is one cache line");

struct sh_transport_rule {
    char *key;       /* "domain", ".domain" (subdomains) or "user@domain" */
    char *transport; /* transport_maps value, "transport:nexthop" */
    struct sh_origin origin;
};

/* Parts of the snapshot with their own loader and free. */
struct sh_policy_conf; /* SMTP-time rules: policy_conf.c */
struct sh_milter_conf; /* milter header rules: milter_conf.c */

struct sh_snapshot {
    int refs; /* atomic */
    char *path;
    char **files; /* every file name an origin points at */
    size_t nfiles;

    char delimiters[16];          /* recipient_delimiter characters, e.g. "+" */
    struct sh_canon canon;        /* the `postfix` group: how Postfix rewrites addresses */
    char *implicit_tls_transport; /* master.cf transport for 465 relays */
    char *smarthost_transport;    /* master.cf transport for the other relays: the only
                                   * smtp(8) with sender-dependent AUTH (README "Security") */
    bool log_lookups;

    struct sh_cred **creds;
    size_t ncreds;
    struct sh_relay **relays;
    size_t nrelays;
    const struct sh_relay *default_relay; /* NULL: unmatched senders go direct */
    struct sh_origin default_origin;

    struct sh_rule *rules;
    size_t nrules;
    struct strmap *rule_index; /* key -> struct sh_rule */

    struct sh_transport_rule *transports;
    size_t ntransports;
    struct strmap *transport_index; /* key -> struct sh_transport_rule */

    struct strmap *tls_index;  /* "[host]:port" -> struct sh_relay */
    struct strmap *sasl_index; /* "[host]:port" -> struct sh_cred, or sh_cred_no_auth */

    char **warnings; /* non-fatal findings, printed by check and logged at load */
    size_t nwarnings;

    struct sh_policy_conf *policy;
    struct sh_milter_conf *milter;
};

const struct sh_relay *sh_snapshot_relay(const struct sh_snapshot *s, const char *name);

void sh_snapshot_free(struct sh_snapshot *s);

/* The published snapshot: reload swaps it, readers pin it. Thread-safe. */
void sh_snapshot_publish(struct sh_snapshot *s);
struct sh_snapshot *sh_snapshot_acquire(void); /* NULL before the first publish */
void sh_snapshot_release(struct sh_snapshot *s);

#endif
