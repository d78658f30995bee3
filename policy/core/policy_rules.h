/* policy_rules.h - the facts of one request + the snapshot -> one verdict.
 *
 * Pure evaluation: no sockets, no wire format. The policy adapter fills the
 * facts from Postfix's name=value attributes, the milter from libmilter
 * macros. Rate-limit state lives in a store the caller passes (the snapshot's
 * Redis store wins when configured) and the clock is the caller's, so tests
 * drive window edges.
 *
 * Every rule judges the sender and the recipient as Postfix will deliver
 * them (canon.h, fed by the snapshot's `postfix` group): boss%example.com is
 * boss@example.com, a bare name gets $myorigin. First a sender, recipient or
 * login the rules cannot judge (too long, a control byte, a form the canon
 * cannot be sure of) is refused. Then: require_tls, require_auth, login
 * ownership, relay guard, max_size, rate limits (so an oversized message
 * spends no budget);
 * the first rule that rejects or defers decides; otherwise DUNNO.
 * Rate limits: at RCPT each recipient counts against `recipients` and a full
 * `messages` budget defers; at END-OF-MESSAGE the message counts against
 * `messages`. So Postfix calls the service from smtpd_recipient_restrictions
 * and smtpd_end_of_data_restrictions.
 */
#ifndef SH_POLICY_RULES_H
#define SH_POLICY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "snapshot.h"

struct rl_store;

/* One value of a request: bytes with a length, not NUL-terminated; p == NULL: absent. */
struct policy_fact {
    const char *p;
    size_t len;
};

enum policy_state {
    POLICY_STATE_OTHER, /* CONNECT, HELO, DATA, ...: only the non-counting rules */
    POLICY_STATE_MAIL,
    POLICY_STATE_RCPT,
    POLICY_STATE_EOM, /* END-OF-MESSAGE */
};

/* What the rules know of a request. A value longer than SH_MAX_KEY or holding
 * a control byte cannot be judged: the verdict refuses it. */
struct policy_facts {
    enum policy_state state;
    struct policy_fact queue_id;       /* for log lines only */
    struct policy_fact client_address; /* text form, as Postfix writes it */
    struct policy_fact sasl_username;  /* absent or empty: not authenticated */
    struct policy_fact sender;         /* without <>; empty: the null sender */
    bool sender_external;              /* SENDER as the client wrote it (the milter's MAIL
                                        * argument), not as smtpd parsed it (sender=) */
    struct policy_fact recipient;      /* absent or empty: none in this state */
    bool tls;                          /* the session is encrypted */
    bool has_size;                     /* SIZE= at RCPT, the real size at END-OF-MESSAGE */
    unsigned long size;                /* bytes; saturates */
};

enum policy_action {
    POLICY_DUNNO,
    POLICY_REJECT,
    POLICY_DEFER_IF_PERMIT,
};

enum policy_reason {
    PR_NONE,          /* no rule objected */
    PR_BAD_SENDER,    /* sender too long or with control characters: refused */
    PR_BAD_RECIPIENT, /* recipient likewise */
    PR_BAD_LOGIN,     /* sasl_username likewise */
    PR_TLS_REQUIRED,
    PR_AUTH_REQUIRED,
    PR_NOT_OWNER,
    PR_RELAY_DENIED,
    PR_SIZE_LIMIT, /* max_size for the sender's domain */
    PR_RATE_LIMIT,
    PR_STORE_FULL,         /* the in-process counter table is full: a new key is deferred */
    PR_STORE_DOWN,         /* rate-limit store unavailable, fail mode defer */
    PR_STORE_DOWN_ALLOWED, /* ... fail mode allow: DUNNO, but worth a log line */
};

const char *policy_reason_name(enum policy_reason r);

#define POLICY_TEXT_MAX 400

struct policy_verdict {
    enum policy_action action;
    enum policy_reason reason;
    char text[POLICY_TEXT_MAX]; /* "5.7.1 <a@b>: Sender address rejected: ..." (no action word) */
    char detail[200];           /* for the log: which rule, file:line */
    /* The rule that decided, for the counters: a config entry's key, login or limit name
     * (valid while the snapshot is pinned), or a fixed word ("relay_guard", "input",
     * "unlisted-user"); never text of the request. NULL with PR_NONE. */
    const char *rule;
    const struct policy_limit *limit; /* PR_RATE_LIMIT and the store reasons: which limit */
};

void policy_eval(const struct sh_snapshot *s, const struct policy_facts *f, struct rl_store *memory,
                 time_t now, struct policy_verdict *v);

/* smarthostctl route: the SMTP-time rules that apply to SENDER, as key=value
 * lines prefixed policy_; nothing when the config has no policy group. */
void sh_policy_explain(const struct sh_snapshot *s, const char *sender, FILE *out);

#endif
