/* policy_conf.h - the `policy` group: SMTP-time rules for the policy service and the milter.
 *
 * Parsed once into the immutable snapshot; evaluated by policy_rules.c.
 * Sender patterns use the routing rules' syntax (senderset.h).
 */
#ifndef SH_POLICY_CONF_H
#define SH_POLICY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <libconfig.h>
#include "cidr.h"
#include "config.h"
#include "senderset.h"

struct strmap;
struct rl_store;

struct policy_login {
    char *user; /* SASL login, lowercase */
    struct sh_sender_set senders;
    struct sh_origin origin;
};

enum policy_per {
    POLICY_PER_SASL_USER,
    POLICY_PER_SENDER,
    POLICY_PER_SENDER_DOMAIN,
    POLICY_PER_RELAY,
};

const char *policy_per_name(enum policy_per per);

struct policy_limit {
    char *name; /* [a-z0-9_-]{1,32}: log lines and store keys */
    enum policy_per per;
    struct sh_sender_set match;   /* empty: every sender */
    const struct sh_relay *relay; /* per relay: only this one (NULL: each relay) */
    unsigned messages;            /* per window; 0: not limited */
    unsigned recipients;          /* per window; 0: not limited */
    unsigned window;              /* seconds */
    struct sh_origin origin;
    unsigned ctr_deferrals; /* counter slot: requests deferred by this limit (metrics.h) */
};

enum policy_fail_mode {
    POLICY_FAIL_ALLOW, /* the store is down: let mail pass, log it */
    POLICY_FAIL_DEFER, /* the store is down: DEFER_IF_PERMIT */
};

struct sh_policy_conf {
    struct policy_login *logins; /* empty: no ownership rule */
    size_t nlogins;
    struct strmap *login_index; /* user -> struct policy_login */
    struct sh_sender_set require_auth;
    struct sh_sender_set require_tls;
    struct sh_sender_set max_size; /* item value: the largest message in bytes */

    bool relay_guard;
    struct sh_sender_set local_domains; /* "domain" or ".domain" */
    struct sh_cidr *trusted;
    size_t ntrusted;

    struct policy_limit *limits;
    size_t nlimits;
    enum policy_fail_mode fail_mode;
    struct rl_store *redis; /* NULL: the caller's in-process store */
    char *redis_address;
    unsigned redis_timeout_ms;
    struct sh_origin origin;
};

#define POLICY_MAX_LIMITS         64
#define POLICY_MAX_SIZE_RULES     1024
#define POLICY_MAX_TRUSTED        1024
#define POLICY_DEFAULT_TIMEOUT_MS 200
#define POLICY_REDIS_RETRY_MS     1000

/* Parse GROUP (the top-level `policy` setting) into s->policy; relays are
 * already loaded (sh_snapshot_relay()). false with err->text = "FILE:LINE: ..." */
bool sh_policy_conf_load(struct sh_snapshot *s, const config_setting_t *group,
                         struct sh_error *err);
void sh_policy_conf_free(struct sh_policy_conf *p);

#endif
