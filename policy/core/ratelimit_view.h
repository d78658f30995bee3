/* ratelimit_view.h - rate-limit budgets for people: show and reset by counted value.
 *
 * A counter is named "LIMIT|KIND|VALUE" (policy_rules.c): KIND m (messages) or r
 * (recipients), VALUE the SASL user, sender, sender domain or relay name the limit
 * counts per. Show and reset take VALUE as an administrator writes it ("Alice@Example.com",
 * "example.com", "mailgun") and normalize it per limit as the rules do. The store is
 * the snapshot's Redis, or MEMORY (the daemon's in-process store).
 */
#ifndef SH_RATELIMIT_VIEW_H
#define SH_RATELIMIT_VIEW_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "ratelimit.h"
#include "snapshot.h"

#define RL_VIEW_MAX 1000 /* counters listed by a show without a value; the rest are counted */

/* One line per counter in its current window: "limit=NAME per=PER key=VALUE
 * messages=USED/LIMIT window=Ws left=Ls". VALUE NULL: every counter (at most
 * RL_VIEW_MAX). false with *ERR an "ERR ..." line. */
bool rl_view_show(FILE *out, const struct sh_snapshot *s, struct rl_store *memory,
                  const char *value, time_t now, const char **err);
/* Remove every limit's counters for VALUE; prints what they held, then "reset: VALUE". */
bool rl_view_reset(FILE *out, const struct sh_snapshot *s, struct rl_store *memory,
                   const char *value, time_t now, const char **err);
/* "rate_store: ..." for status (memory keys used / cap, or Redis PING). */
void rl_view_status(FILE *out, const struct sh_snapshot *s, struct rl_store *memory);

#endif
