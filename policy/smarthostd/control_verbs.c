/* control_verbs.c - smarthostd's own control verbs (route, ratelimit, deliveries) and status
 * lines. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "control_verbs.h"
#include "maps.h"
#include "metrics.h"
#include "policy_server.h"
#include "ratelimit_view.h"
#include "snapshot.h"

/* What the running daemon answers Postfix for SENDER: the relay map and what
 * follows from it. Credentials by user name only. */
static void route(FILE *out, const struct sh_snapshot *s, const char *sender)
{
    struct sh_answer a = {0}, t = {0}, sa = {0};
    enum sh_outcome o = sh_map_lookup(s, SH_MAP_RELAY, sender, strlen(sender), &a);
    enum sh_outcome ot = sh_map_lookup(s, SH_MAP_SENDER_TRANSPORT, sender, strlen(sender), &t);
    const struct sh_relay *r = a.has_decision ? a.decision.relay : NULL;
    /* smtp(8) on our relay transport: by sender (never the null sender), then nexthop. */
    enum sh_outcome os = sh_map_sasl_session(s, sender, true, r ? r->nexthop : NULL, &sa);

    fprintf(out, "sender=%s\n", sender);
    fprintf(out, "relay_map=%s %s\n", sh_outcome_name(o),
            o == SH_FOUND ? a.value : (a.why ? a.why : ""));
    if (a.has_decision) {
        fprintf(out, "relay_name=%s\n", a.decision.relay ? a.decision.relay->name : "direct");
        fprintf(out, "rule=%s\nmatch=%s\n",
                a.decision.rule                    ? a.decision.rule->key
                : a.decision.via == SH_VIA_DEFAULT ? "default_relay"
                                                   : "none",
                sh_via_name(a.decision.via));
    }
    fprintf(out, "sender_transport_map=%s %s\n", sh_outcome_name(ot),
            ot == SH_FOUND ? t.value : "");
    if (os == SH_FOUND && sa.matched)
        fprintf(out, "sasl_user=%s\n", ((const struct sh_cred *)sa.matched)->user);
    else
        fprintf(out, "sasl_user=none\n");
}

/* ratelimit show [KEY] (a read), ratelimit reset KEY (a write: root only, whatever
 * the control group may read). */
static bool ratelimit(FILE *out, const struct ctl_request *r, const struct sh_snapshot *s,
                      bool root, const char **err)
{
    if (r->nargs >= 1 && r->nargs <= 2 && strcmp(r->args[0], "show") == 0)
        return rl_view_show(out, s, policy_memory_store(), r->nargs == 2 ? r->args[1] : NULL,
                            time(NULL), err);
    if (r->nargs == 2 && strcmp(r->args[0], "reset") == 0) {
        if (!root) {
            *err = "ERR permission denied: reset is root's";
            return false;
        }
        return rl_view_reset(out, s, policy_memory_store(), r->args[1], time(NULL), err);
    }
    *err = "ERR usage: ratelimit show [KEY] | ratelimit reset KEY";
    return false;
}

#define MAX_DELIVERIES 1000000000ULL /* more than any log adds between two feeds */

/* deliveries RELAY STATUS N: counts from the Postfix log (smarthostctl report --follow),
 * root's like every write. */
static void deliveries(FILE *out, const struct ctl_request *r, const struct sh_snapshot *s,
                       bool root, const char **err)
{
    unsigned long long n = 0;
    const char *as;

    if (!root) {
        *err = "ERR permission denied: deliveries is root's";
        return;
    }
    for (const char *p = r->nargs == 3 ? r->args[2] : ""; *p; p++) {
        if (*p < '0' || *p > '9' || (n = n * 10 + (unsigned)(*p - '0')) > MAX_DELIVERIES) {
            n = 0;
            break;
        }
    }
    if (n == 0 || !sh_metrics_delivery(s, r->args[0], r->args[1], n, &as)) {
        *err = "ERR usage: deliveries RELAY sent|deferred|bounced|deferrals N (1 to 1000000000)";
        return;
    }
    fprintf(out, "counted=%llu relay=%s\n", n, as);
}

static bool verb(FILE *out, const struct ctl_request *r, const struct sh_snapshot *s, bool root,
                 const char **err)
{
    if (strcmp(r->verb, "route") == 0 && r->nargs == 1) {
        if (s)
            route(out, s, r->args[0]);
        else
            *err = "ERR no configuration loaded";
        return true;
    }
    if (strcmp(r->verb, "ratelimit") == 0) {
        ratelimit(out, r, s, root, err);
        return true;
    }
    if (strcmp(r->verb, "deliveries") == 0) {
        deliveries(out, r, s, root, err);
        return true;
    }
    return false;
}

static void status(FILE *out, const struct sh_snapshot *s)
{
    rl_view_status(out, s, policy_memory_store());
}

const struct control_ext sh_smarthostd_control = {
    .verb = verb,
    .usage = ", route SENDER, ratelimit show [KEY], ratelimit reset KEY, deliveries RELAY STATUS N",
    .status = status,
};
