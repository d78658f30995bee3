/* metrics.h - what the daemons count, by name: the mail side of util/counter.h.
 *
 * Fixed counters (lookups per map and outcome, policy verdicts per reason, milter
 * verdicts and edits) have slots registered once; per-relay, per-credentials and
 * per-limit counters get their slots when a snapshot is published, keyed by name,
 * so a relay that keeps its name across a reload keeps counting (a removed one
 * keeps its last count). Sender rules can number in the hundreds of thousands:
 * each counts its hits in itself (sh_rule.hits, relaxed atomic adds), and a
 * reload carries each count over to the rule with the same key.
 * The names have no program prefix; writers add one ("smarthostd_").
 */
#ifndef SH_METRICS_H
#define SH_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "counter.h"
#include "maps.h"
#include "policy_rules.h"
#include "snapshot.h"

#define SH_METRIC_REASONS      (PR_STORE_DOWN_ALLOWED + 1)
#define SH_METRIC_RULES_SHOWN  1000 /* rules with hits listed one by one; the rest summed */
#define SH_METRIC_POLICY_RULES 256  /* (reason, policy rule) pairs counted apart; then "(other)" */

/* A milter verdict on a message (continue: it passes, edits applied) and why. */
enum sh_milter_verdict { SH_MV_CONTINUE, SH_MV_ACCEPT, SH_MV_REJECT, SH_MV_TEMPFAIL, SH_MV_COUNT_ };
enum sh_milter_reason {
    SH_MR_NONE,    /* nothing objected */
    SH_MR_POLICY,  /* the policy rules (login, TLS, sender ownership, rate limits) */
    SH_MR_SENDER,  /* an envelope sender that cannot be parsed */
    SH_MR_HEADERS, /* the header rules (header_checks REJECT, headers over the bounds) */
    SH_MR_ERROR,   /* internal trouble: the configured default action */
    SH_MR_COUNT_
};

struct sh_metric_ids {
    unsigned lookup[SH_MAP_TRANSPORT + 1][SH_PERM + 1];
    unsigned route_direct; /* relay map answers that deliver directly */
    unsigned rule_default; /* sender map decisions by the default relay */
    unsigned policy[SH_METRIC_REASONS];
    unsigned milter[SH_MV_COUNT_][SH_MR_COUNT_];
};
extern struct sh_metric_ids sh_mid;

/* Register the fixed counters (once; publishing a snapshot does it too). */
void sh_metrics_init(void);
/* Give S's relays, credentials and limits their slots and its rules their hits,
 * carrying counts over from PREV (the snapshot being replaced, or NULL). */
void sh_metrics_bind(struct sh_snapshot *s, const struct sh_snapshot *prev);
/* A failed reload, for status (the good ones are counted by sh_metrics_bind). */
void sh_metrics_load_failed(const char *error);

struct sh_load_record {
    unsigned long loads, failures; /* published snapshots; reloads refused */
    time_t last_ok, last_failed;
    bool last_was_ok;
    char error[512];
};
void sh_metrics_loads(struct sh_load_record *out);

/* Register the milter's verdict counters (the milter only, so the other daemon does
 * not list them at zero). Until then sh_mid.milter points at the overflow slot. */
void sh_metrics_milter_init(void);
/* A milter edit of KIND ("insert", "change", ...: a static string): its slot. */
unsigned sh_metrics_milter_edit(const char *kind);

/* A relay map decision by R. Its hits are the one part of a published rule that changes. */
static inline void sh_metrics_rule_hit(const struct sh_rule *r)
{
#ifndef SH_NO_COUNTERS
    atomic_fetch_add_explicit(&((struct sh_rule *)r)->hits, 1, memory_order_relaxed);
#else
    (void)r;
#endif
}

/* A policy verdict: per reason, and per reason and rule when a rule decided. */
void sh_metrics_policy_verdict(const struct policy_verdict *v);

/* Delivery counts read from the Postfix log by `smarthostctl report --follow`: N more of
 * STATUS (sent, deferred, bounced: messages; deferrals: attempts) for RELAY, a relay of S
 * or "direct"; any other name is counted as "(other)" (*COUNTED_AS says which). False for
 * an unknown STATUS. */
bool sh_metrics_delivery(const struct sh_snapshot *s, const char *relay, const char *status,
                         uint64_t n, const char **counted_as);

/* Every counter in the Prometheus text format, names prefixed PREFIX ("smarthostd_"),
 * rule hits from S (NULL: none). */
bool sh_metrics_prometheus(FILE *out, const char *prefix, const struct sh_snapshot *s);
/* The same as a table for people: non-zero counters only. */
bool sh_metrics_table(FILE *out, const struct sh_snapshot *s);
/* One line for the log (SIGUSR1): lookups, verdicts, loads. */
void sh_metrics_summary(char *buf, size_t cap);

#endif
