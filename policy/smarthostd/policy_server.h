/* policy_server.h - the policy delegation protocol adapter: name=value
 * requests -> policy rules -> "action=..." replies.
 *
 * The only place that knows both the wire (policy_codec) and the rules.
 * Malformed input or internal trouble: log and disconnect without a reply,
 * as SMTPD_POLICY_README asks (Postfix then retries or defers).
 */
#ifndef SH_POLICY_SERVER_H
#define SH_POLICY_SERVER_H

#include "server.h"

/* The listener protocol; its wake value is the pinned struct sh_snapshot * (or NULL). */
extern const struct sh_proto sh_policy_proto;

struct rl_store;
/* The in-process rate-limit store the policy listener counts in (made on first
 * use; NULL when there was no memory for it). */
struct rl_store *policy_memory_store(void);

#endif
