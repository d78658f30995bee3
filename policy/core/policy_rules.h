/* policy_rules.h - one policy request + the snapshot -> one verdict.
 *
 * Pure evaluation: no sockets, no wire format. Rate-limit state lives in a
 * store the caller passes (the snapshot's Redis store wins when configured)
 * and the clock is the caller's, so tests drive window edges.
 *
 * Order: require_tls, require_auth, login ownership, relay guard, max_size,
 * rate limits (so an oversized message spends no budget);
 * the first rule that rejects or defers decides; otherwise DUNNO.
 * Rate limits: at RCPT each recipient counts against `recipients` and a full
 * `messages` budget defers; at END-OF-MESSAGE the message counts against
 * `messages`. So Postfix calls the service from smtpd_recipient_restrictions
 * and smtpd_end_of_data_restrictions.
 */
#ifndef SH_POLICY_RULES_H
#define SH_POLICY_RULES_H

#include <stdio.h>
#include <time.h>

#include "policy_codec.h"
#include "snapshot.h"

struct rl_store;

enum policy_action {
    POLICY_DUNNO,
    POLICY_REJECT,
    POLICY_DEFER_IF_PERMIT,
};

enum policy_reason {
    PR_NONE,           /* no rule objected */
    PR_NOT_POLICY,     /* request is not smtpd_access_policy, or no snapshot */
    PR_BAD_SENDER,     /* sender too long or with control characters: not ours to judge */
    PR_TLS_REQUIRED,
    PR_AUTH_REQUIRED,
    PR_NOT_OWNER,
    PR_RELAY_DENIED,
    PR_SIZE_LIMIT,     /* max_size for the sender's domain */
    PR_RATE_LIMIT,
    PR_STORE_DOWN,     /* rate-limit store unavailable, fail mode defer */
    PR_STORE_DOWN_ALLOWED, /* ... fail mode allow: DUNNO, but worth a log line */
};

const char *policy_reason_name(enum policy_reason r);

#define POLICY_TEXT_MAX 400

struct policy_verdict {
    enum policy_action action;
    enum policy_reason reason;
    char text[POLICY_TEXT_MAX]; /* "5.7.1 <a@b>: Sender address rejected: ..." (no action word) */
    char detail[200];           /* for the log: which rule, file:line */
};

void policy_eval(const struct sh_snapshot *s, const struct policy_request *req,
                 struct rl_store *memory, time_t now, struct policy_verdict *v);

/* smarthostctl route: the SMTP-time rules that apply to SENDER, as key=value
 * lines prefixed policy_; nothing when the config has no policy group. */
void sh_policy_explain(const struct sh_snapshot *s, const char *sender, FILE *out);

#endif
