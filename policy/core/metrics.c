/* metrics.c - the daemons' counters by name, their slots, and their text forms. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "policy_conf.h"
#include "prometheus.h"
#include "strmap.h"

struct sh_metric_ids sh_mid;

/* Every family the daemons register, with its help text. util/server.c registers
 * the listener families itself (it knows no mail, only these names). */
static const struct family {
    const char *name;
    const char *help;
} families[] = {
    {"lookups_total", "Socketmap lookups by map and outcome."},
    {"relay_routes_total",
     "Relay map decisions by the relay they name (direct: no relay, answered NOTFOUND)."},
    {"credentials_answers_total", "SASL map answers by credentials name (never the secret)."},
    {"relay_credentials_answers_total", "SASL map answers by the relay they are for."},
    {"sender_rule_hits_total", "Relay map decisions by the sender rule that matched."},
    {"policy_verdicts_total", "Policy delegation verdicts by reason (none: DUNNO)."},
    {"policy_rule_verdicts_total",
     "Policy verdicts other than none by reason and the config rule that decided."},
    {"ratelimit_deferrals_total", "Requests deferred by a rate limit, by limit name."},
    {"milter_verdicts_total", "Milter verdicts on messages by verdict and reason."},
    {"milter_edits_total", "Milter message edits by kind."},
    {"listener_accepted_total", "Connections accepted, by listener."},
    {"listener_refused_total", "Connections refused at the per-listener cap, by listener."},
    {"listener_protocol_errors_total", "Connections closed for a malformed request, by listener."},
    {"listener_timeouts_total", "Connections closed for an incomplete request, by listener."},
    {"config_loads_total", "Configurations loaded and published (the first one included)."},
    {"config_reload_failures_total", "Reloads refused; the previous configuration stayed."},
    {"counters_overflow_total", "Events of counters registered after all slots were taken."},
    {"report_messages_total", "Messages per relay and final status in the Postfix log, fed by "
                              "smarthostctl report --follow (deferred: deferred at least once)."},
    {"report_deferrals_total", "Deferred delivery attempts per relay in the Postfix log, fed by "
                               "smarthostctl report --follow."},
};

static const char *fam(const char *name)
{
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        if (strcmp(families[i].name, name) == 0)
            return families[i].name;
    return NULL;
}

static unsigned reg1(const char *family, const char *lname, const char *lvalue)
{
    const char *n[1] = {lname}, *v[1] = {lvalue};
    return sh_ctr_register(fam(family), 1, n, v);
}

static unsigned loads_ok, loads_failed;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
    static const char *const outcome[] = {"found", "notfound", "temp", "perm"};

    for (int m = 0; m <= SH_MAP_TRANSPORT; m++)
        for (int o = 0; o <= SH_PERM; o++) {
            const char *n[2] = {"map", "outcome"},
                       *v[2] = {sh_map_name((enum sh_map)m), outcome[o]};
            sh_mid.lookup[m][o] = sh_ctr_register(fam("lookups_total"), 2, n, v);
        }
    sh_mid.route_direct = reg1("relay_routes_total", "relay", "direct");
    sh_mid.rule_default = reg1("sender_rule_hits_total", "rule", "default");
    for (int r = 0; r < SH_METRIC_REASONS; r++)
        sh_mid.policy[r] =
            reg1("policy_verdicts_total", "reason", policy_reason_name((enum policy_reason)r));
    loads_ok = sh_ctr_register(fam("config_loads_total"), 0, NULL, NULL);
    loads_failed = sh_ctr_register(fam("config_reload_failures_total"), 0, NULL, NULL);
}

void sh_metrics_init(void)
{
    pthread_once(&init_once, init);
}

static void milter_init(void)
{
    static const char *const mv[] = {"continue", "accept", "reject", "tempfail"};
    static const char *const mr[] = {"none", "policy", "invalid_sender", "header_rule",
                                     "internal_error"};

    for (int k = 0; k < SH_MV_COUNT_; k++)
        for (int r = 0; r < SH_MR_COUNT_; r++) {
            const char *n[2] = {"verdict", "reason"}, *v[2] = {mv[k], mr[r]};
            sh_mid.milter[k][r] = sh_ctr_register(fam("milter_verdicts_total"), 2, n, v);
        }
}

void sh_metrics_milter_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    sh_metrics_init();
    pthread_once(&once, milter_init);
}

unsigned sh_metrics_milter_edit(const char *kind)
{
    sh_metrics_init();
    return reg1("milter_edits_total", "kind", kind);
}

bool sh_metrics_delivery(const struct sh_snapshot *s, const char *relay, const char *status,
                         uint64_t n, const char **counted_as)
{
    static const char *const statuses[] = {"sent", "deferred", "bounced"};
    const char *names[2] = {"relay", "status"}, *values[2];

    /* Only names this daemon knows become labels, so a feeder cannot grow the slot table;
     * "(other)" cannot be a relay's name (libconfig names have no parentheses). */
    if (strcmp(relay, "direct") != 0 && (s == NULL || sh_snapshot_relay(s, relay) == NULL))
        relay = "(other)";
    *counted_as = relay;
    sh_metrics_init();
    if (strcmp(status, "deferrals") == 0) {
        sh_ctr_add(reg1("report_deferrals_total", "relay", relay), n);
        return true;
    }
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (strcmp(status, statuses[i]) == 0) {
            values[0] = relay, values[1] = statuses[i];
            sh_ctr_add(sh_ctr_register(fam("report_messages_total"), 2, names, values), n);
            return true;
        }
    return false;
}

static pthread_mutex_t rule_lock = PTHREAD_MUTEX_INITIALIZER;
static struct strmap *rule_slots; /* "reason\x1frule" -> slot + 1, at most SH_METRIC_POLICY_RULES */
static size_t rule_pairs;

void sh_metrics_policy_verdict(const struct policy_verdict *v)
{
    const char *names[2] = {"reason", "rule"}, *values[2];
    char key[SH_CTR_LABEL_MAX * 2 + 2];
    uintptr_t id;

    if ((unsigned)v->reason >= SH_METRIC_REASONS)
        return;
    sh_ctr_inc(sh_mid.policy[v->reason]);
    if (v->reason == PR_NONE || v->rule == NULL)
        return;
    /* Rules come from the config, so their number is the config's; the cap still keeps a
     * config of a million require_auth entries from taking every slot. A verdict is an
     * event the client already waited for: one short lock here is not the hot path. */
    values[0] = policy_reason_name(v->reason);
    values[1] = v->rule;
    snprintf(key, sizeof(key), "%s\x1f%s", values[0], values[1]);
    pthread_mutex_lock(&rule_lock);
    if (rule_slots == NULL)
        rule_slots = strmap_new(64);
    if ((id = (uintptr_t)strmap_get(rule_slots, key, strlen(key))) != 0) {
        id--;
    } else if (rule_pairs < SH_METRIC_POLICY_RULES) {
        id = sh_ctr_register(fam("policy_rule_verdicts_total"), 2, names, values);
        strmap_put(rule_slots, key, (void *)(id + 1)); /* the map copies the key */
        rule_pairs++;
    } else {
        values[1] = "(other)"; /* registered once, then found by its key */
        id = sh_ctr_register(fam("policy_rule_verdicts_total"), 2, names, values);
    }
    pthread_mutex_unlock(&rule_lock);
    sh_ctr_inc((unsigned)id);
}

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sh_load_record load_rec;

void sh_metrics_bind(struct sh_snapshot *s, const struct sh_snapshot *prev)
{
    sh_metrics_init();
    for (size_t i = 0; i < s->nrelays; i++) {
        s->relays[i]->ctr_routes = reg1("relay_routes_total", "relay", s->relays[i]->name);
        s->relays[i]->ctr_creds =
            reg1("relay_credentials_answers_total", "relay", s->relays[i]->name);
    }
    for (size_t i = 0; i < s->ncreds; i++)
        s->creds[i]->ctr_answers =
            reg1("credentials_answers_total", "credentials", s->creds[i]->name);
    if (s->policy)
        for (size_t i = 0; i < s->policy->nlimits; i++)
            s->policy->limits[i].ctr_deferrals =
                reg1("ratelimit_deferrals_total", "limit", s->policy->limits[i].name);
    /* Carry each rule's count over by key. Readers still pinning PREV may add a
     * few hits there after this copy: those are lost, by design of a cheap reload. */
    for (size_t i = 0; prev && i < prev->nrules; i++) {
        struct sh_rule *r =
            strmap_get(s->rule_index, prev->rules[i].key, strlen(prev->rules[i].key));
        if (r)
            atomic_store_explicit(&r->hits,
                                  atomic_load_explicit(&prev->rules[i].hits, memory_order_relaxed),
                                  memory_order_relaxed);
    }
    sh_ctr_inc(loads_ok);
    pthread_mutex_lock(&load_lock);
    load_rec.loads++;
    load_rec.last_ok = time(NULL);
    load_rec.last_was_ok = true;
    pthread_mutex_unlock(&load_lock);
}

void sh_metrics_load_failed(const char *error)
{
    sh_metrics_init();
    sh_ctr_inc(loads_failed);
    pthread_mutex_lock(&load_lock);
    load_rec.failures++;
    load_rec.last_failed = time(NULL);
    load_rec.last_was_ok = false;
    snprintf(load_rec.error, sizeof(load_rec.error), "%s", error ? error : "");
    pthread_mutex_unlock(&load_lock);
}

void sh_metrics_loads(struct sh_load_record *out)
{
    pthread_mutex_lock(&load_lock);
    *out = load_rec;
    pthread_mutex_unlock(&load_lock);
}

/* ---- writers ---- */

struct view {
    uint64_t v[SH_CTR_MAX];
    unsigned n;
};

static struct view *view_read(void)
{
    struct view *w = malloc(sizeof(*w));

    if (w == NULL)
        return NULL;
    w->n = sh_ctr_read(w->v, SH_CTR_MAX);
    if (w->n > SH_CTR_MAX)
        w->n = SH_CTR_MAX;
    return w;
}

static const char *help_of(const char *name)
{
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        if (strcmp(families[i].name, name) == 0)
            return families[i].help;
    return "Count of events.";
}

/* Each family once, in the order its first slot was registered. */
static bool family_first(unsigned id, const char *name)
{
    struct sh_ctr_info in;

    for (unsigned k = 0; k < id; k++)
        if (sh_ctr_info(k, &in) && in.family && strcmp(in.family, name) == 0)
            return false;
    return true;
}

static bool rules_prometheus(FILE *out, const char *full, const struct sh_snapshot *s)
{
    struct prom_label l = {"rule", NULL};
    uint64_t rest = 0;
    size_t shown = 0;
    bool ok = true;

    for (size_t i = 0; i < s->nrules && ok; i++) {
        uint64_t n = atomic_load_explicit(&s->rules[i].hits, memory_order_relaxed);
        if (n == 0)
            continue;
        if (shown == SH_METRIC_RULES_SHOWN) {
            rest += n;
            continue;
        }
        l.value = s->rules[i].key;
        ok = prom_sample_u64(out, full, &l, 1, n);
        shown++;
    }
    if (ok && rest) {
        l.value = "_other";
        ok = prom_sample_u64(out, full, &l, 1, rest);
    }
    return ok;
}

bool sh_metrics_prometheus(FILE *out, const char *prefix, const struct sh_snapshot *s)
{
    struct view *w = view_read();
    char full[160];
    bool ok = w != NULL;

    for (unsigned id = 0; ok && id < w->n; id++) {
        struct sh_ctr_info in;
        if (!sh_ctr_info(id, &in) || in.family == NULL || !family_first(id, in.family))
            continue;
        snprintf(full, sizeof(full), "%s%s", prefix, in.family);
        ok = prom_family(out, full, PROM_COUNTER, help_of(in.family));
        for (unsigned k = id; ok && k < w->n; k++) {
            struct sh_ctr_info ik;
            struct prom_label l[2];
            if (!sh_ctr_info(k, &ik) || ik.family == NULL || strcmp(ik.family, in.family) != 0)
                continue;
            for (size_t j = 0; j < ik.nlabels; j++)
                l[j] = (struct prom_label){ik.lname[j], ik.lvalue[j]};
            ok = prom_sample_u64(out, full, l, ik.nlabels, w->v[k]);
        }
        if (ok && s && strcmp(in.family, "sender_rule_hits_total") == 0)
            ok = rules_prometheus(out, full, s);
    }
    free(w);
    return ok && !ferror(out);
}

bool sh_metrics_table(FILE *out, const struct sh_snapshot *s)
{
    struct view *w = view_read();
    size_t shown = 0;

    if (w == NULL)
        return false;
    fprintf(out, "%-34s %-44s %12s\n", "COUNTER", "LABELS", "VALUE");
    for (unsigned id = 0; id < w->n; id++) {
        struct sh_ctr_info in;
        char labels[2 * SH_CTR_LABEL_MAX + 64] = "-";
        if (!sh_ctr_info(id, &in) || in.family == NULL || w->v[id] == 0)
            continue;
        if (in.nlabels == 1)
            snprintf(labels, sizeof(labels), "%s=%s", in.lname[0], in.lvalue[0]);
        else if (in.nlabels == 2)
            snprintf(labels, sizeof(labels), "%s=%s %s=%s", in.lname[0], in.lvalue[0], in.lname[1],
                     in.lvalue[1]);
        fprintf(out, "%-34s %-44s %12llu\n", in.family, labels, (unsigned long long)w->v[id]);
    }
    for (size_t i = 0; s && i < s->nrules; i++) {
        uint64_t n = atomic_load_explicit(&s->rules[i].hits, memory_order_relaxed);
        if (n == 0 || shown++ == SH_METRIC_RULES_SHOWN)
            continue;
        fprintf(out, "%-34s rule=%-39s %12llu\n", "sender_rule_hits_total", s->rules[i].key,
                (unsigned long long)n);
    }
    fprintf(out, "(counters at zero are not shown%s)\n",
            sh_ctr_enabled() ? "" : "; this build does not count");
    free(w);
    return !ferror(out);
}

void sh_metrics_summary(char *buf, size_t cap)
{
    struct view *w = view_read();
    uint64_t lookups = 0, verdicts = 0, deferred = 0, milter = 0;

    sh_metrics_init();
    if (w == NULL) {
        snprintf(buf, cap, "stats: out of memory");
        return;
    }
    for (int m = 0; m <= SH_MAP_TRANSPORT; m++)
        for (int o = 0; o <= SH_PERM; o++)
            lookups += w->v[sh_mid.lookup[m][o]];
    for (int r = 0; r < SH_METRIC_REASONS; r++)
        verdicts += w->v[sh_mid.policy[r]];
    deferred = w->v[sh_mid.policy[PR_RATE_LIMIT]] + w->v[sh_mid.policy[PR_STORE_FULL]] +
               w->v[sh_mid.policy[PR_STORE_DOWN]];
    for (int k = 0; k < SH_MV_COUNT_; k++)
        for (int r = 0; r < SH_MR_COUNT_; r++)
            milter += w->v[sh_mid.milter[k][r]];
    snprintf(buf, cap,
             "stats: lookups=%llu policy_verdicts=%llu rate_deferrals=%llu milter_verdicts=%llu "
             "loads=%llu reload_failures=%llu",
             (unsigned long long)lookups, (unsigned long long)verdicts,
             (unsigned long long)deferred, (unsigned long long)milter,
             (unsigned long long)w->v[loads_ok], (unsigned long long)w->v[loads_failed]);
    free(w);
}
