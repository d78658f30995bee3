/* control_verbs.c - smarthostd's own control verbs: route (and what status adds). */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "control_verbs.h"
#include "maps.h"
#include "snapshot.h"

/* What the running daemon answers Postfix for SENDER: the relay map and what
 * follows from it. Credentials by user name only. */
static void route(FILE *out, const struct sh_snapshot *s, const char *sender)
{
    struct sh_answer a = {0}, t = {0}, sa = {0};
    enum sh_outcome o = sh_map_lookup(s, SH_MAP_RELAY, sender, strlen(sender), &a);
    enum sh_outcome ot = sh_map_lookup(s, SH_MAP_SENDER_TRANSPORT, sender, strlen(sender), &t);
    enum sh_outcome os = sh_map_lookup(s, SH_MAP_SASL, sender, strlen(sender), &sa);

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

static bool verb(FILE *out, const struct ctl_request *r, const struct sh_snapshot *s, bool root,
                 const char **err)
{
    (void)root;
    if (strcmp(r->verb, "route") == 0 && r->nargs == 1) {
        if (s)
            route(out, s, r->args[0]);
        else
            *err = "ERR no configuration loaded";
        return true;
    }
    return false;
}

const struct control_ext sh_smarthostd_control = {
    .verb = verb,
    .usage = ", route SENDER",
};
