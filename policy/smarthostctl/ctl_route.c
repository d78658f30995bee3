/* ctl_route.c - `smarthostctl route SENDER [RECIPIENT]`: the decision as
 * key=value lines, computed by the same maps the daemon serves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control_codec.h"
#include "ctl.h"
#include "ctl_status.h"
#include "ctl_args.h"
#include "ctl_env.h"
#include "ctl_snapshot.h"
#include "ctl_usage.h"
#include "maps.h"
#include "policy_rules.h"
#include "snapshot.h"

void ctl_route_usage(FILE *out)
{
    fprintf(out,
            "usage: smarthostctl [-c FILE] route [--control PATH] SENDER [RECIPIENT]\n"
            "  SENDER: user@domain or <>; RECIPIENT: user@domain\n"
            "  without RECIPIENT and -c, or with --control, the running daemon answers first\n"
            "  (source=daemon; default " CTL_CONTROL_DEFAULT "), else the files\n"
            "  prints the relay, transport, tls level, login and SMTP-time rules as key=value;\n"
            "  a password is shown only as where it lives and a fingerprint\n");
}

/* "FILE:LINE", or for the environment's relay which variable and where it was set
 * (the daemon's environment file, or this process's environment). */
static void print_origin(const char *what, const struct sh_origin *o, const char *var)
{
    const char *where;

    if (strcmp(o->file, "environment") != 0) {
        printf("%s=%s:%d\n", what, o->file, o->line);
        return;
    }
    if (strcmp(var, "RELAY_HOST") == 0 && ctl_env_origin("RELAY_HOST") == NULL)
        var = "DEFAULT_RELAY_HOST";
    where = ctl_env_origin(var);
    printf("%s=%s (%s)\n", what, var, where ? where : "environment");
}

static void print_rule(const struct sh_decision *d, const struct sh_snapshot *s)
{
    if (d->rule) {
        printf("rule=%s\n", d->rule->key);
        printf("rule_origin=%s:%d\n", d->rule->origin.file, d->rule->origin.line);
    } else if (d->via == SH_VIA_DEFAULT) {
        printf("rule=default_relay\n");
        print_origin("rule_origin", &s->default_origin, "RELAY_HOST");
    } else {
        printf("rule=none\n");
    }
    printf("match=%s\n", sh_via_name(d->via));
}

int ctl_route(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *sender, *recipient = argc > 2 ? argv[2] : NULL;
    struct sh_answer relay, sasl, st, tls, tr;
    const char *nexthop, *transport = "default";
    char secret[CTL_SECRET_MAX], tkey[600], domain[600];
    struct sh_snapshot *s;
    const char *control = CTL_CONTROL_DEFAULT;
    bool ask = strcmp(ctx->config_path, SH_DEFAULT_CONFIG) == 0;

    /* A running daemon answers first (what Postfix gets, environment included), unless
     * -c names another configuration than the one the daemon loads by default. */
    if (argc > 2 && strcmp(argv[1], "--control") == 0) {
        control = argv[2];
        argc -= 2, argv += 2;
        ask = true;
    }
    if (ask && argc == 2 && argv[1][0] != '-') {
        char req[CTL_MAX_LINE + 1], *ans = NULL;
        size_t alen = 0;
        FILE *fp = open_memstream(&ans, &alen);
        enum ctl_ask a;

        snprintf(req, sizeof(req), "route %.*s", CTL_MAX_LINE - 6, argv[1]);
        a = fp ? ctl_ask(control, req, fp) : CTL_ASK_ERROR;
        if (fp)
            fclose(fp);
        if (a == CTL_ASK_OK)
            printf("source=daemon %s\n%s", control, ans);
        free(ans);
        if (a != CTL_ASK_ABSENT)
            return a == CTL_ASK_OK ? CTL_OK : CTL_FAIL;
        /* stderr: stdout stays the files' answer, as before there was a daemon to ask */
        fprintf(stderr, "route: no daemon at %s; answer from the files\n", control);
    }
    if (argc < 2 || argc > 3) {
        ctl_route_usage(stderr);
        return CTL_USAGE;
    }
    sender = argv[1];
    if (!ctl_address_valid("sender", sender, true) ||
        (recipient && !ctl_address_valid("recipient", recipient, false)))
        return CTL_USAGE;
    if ((s = ctl_load(ctx->config_path)) == NULL)
        return CTL_FAIL;
    if (sh_map_lookup(s, SH_MAP_RELAY, sender, strlen(sender), &relay) == SH_PERM) {
        sh_snapshot_free(s);
        return ctl_usage_err("sender \"%.80s\": not an address the daemon would look up", sender);
    }
    sh_map_lookup(s, SH_MAP_SENDER_TRANSPORT, sender, strlen(sender), &st);
    printf("sender=%s\n", sender);
    print_rule(&relay.decision, s);
    nexthop = relay.value;
    if (st.value)
        transport = st.value;
    if (recipient) {
        printf("recipient=%s\n", recipient);
        if (sh_map_lookup(s, SH_MAP_TRANSPORT, recipient, strlen(recipient), &tr) == SH_FOUND) {
            const struct sh_transport_rule *t = tr.matched;
            const char *colon = strchr(tr.value, ':');
            /* transport_maps beats the sender's transport; a nexthop in it beats the relay. */
            printf("recipient_rule=%s\nrecipient_rule_origin=%s:%d\n", t->key, t->origin.file,
                   t->origin.line);
            snprintf(tkey, sizeof(tkey), "%.*s", (int)(colon - tr.value), tr.value);
            transport = tkey;
            /* transport(5): an empty nexthop is the recipient domain (its MX hosts);
             * either way the sender's relay no longer applies. */
            if (colon[1]) {
                nexthop = colon + 1;
            } else {
                const char *at = strrchr(recipient, '@');
                snprintf(domain, sizeof(domain), "%s (MX lookup)", at ? at + 1 : recipient);
                nexthop = domain;
            }
        }
    }
    printf("relay=%s\n", nexthop ? nexthop : "direct");
    printf("relay_name=%s\n",
           relay.decision.relay && nexthop == relay.value ? relay.decision.relay->name : "none");
    printf("transport=%s\n", transport);
    if (nexthop && nexthop == relay.value) {
        const struct sh_relay *r = relay.decision.relay;
        sh_map_lookup(s, SH_MAP_TLS, r->nexthop, strlen(r->nexthop), &tls);
        printf("tls=%s\n", tls.value);
    } else {
        printf("tls=default\n"); /* smtp_tls_security_level decides */
    }
    /* What smtp(8) gets on this delivery: our relay transport asks by sender first (not
     * for the null sender), a lane's or the direct transport by nexthop only. */
    if (nexthop && nexthop == relay.value)
        sh_map_sasl_session(s, sender, true, relay.decision.relay->nexthop, &sasl);
    else
        sh_map_sasl_session(s, sender, false, nexthop == domain ? NULL : nexthop, &sasl);
    if (sasl.value) {
        const struct sh_cred *c = sasl.matched;
        printf("sasl_user=%s\nsasl_password=%s\n", c->user, ctl_secret_describe(c, secret));
        printf("sasl_key=%s\n", sasl.has_decision ? "sender" : "nexthop");
        if (sasl.decision.cred_rule) /* the sender pattern's own, at this relay */
            printf("sasl_rule=%s\n", sasl.decision.cred_rule->key);
        print_origin("sasl_origin", &c->origin, "RELAY_USER");
    } else {
        printf("sasl_user=none\nsasl_password=none\n");
    }
    sh_policy_explain(s, sender, stdout); /* the SMTP-time rules for this sender */
    sh_snapshot_free(s);
    return CTL_OK;
}
