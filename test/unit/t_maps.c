/* t_maps.c - the five tables, answered from one decision. */
#include <stdlib.h>

#include "conf_fixture.h"
#include "map_query.h"
#include "maps.h"
#include "tap.h"

static const char conf[] =
    "default_relay = \"isp\";\n"
    "credentials = {\n"
    "  mg = { user = \"mg-user\"; password = \"mg:pass word\"; };\n"
    "  other = { user = \"o-user\"; password = \"o-pass\"; };\n"
    "};\n"
    "relays = {\n"
    "  isp = { host = \"192.0.2.1\"; };\n"
    "  mg = { host = \"smtp.mg.example\"; port = 587; tls = \"secure\";\n"
    "         tls_match = [\"nexthop\", \".mg.example\"]; credentials = \"mg\"; failover = "
    "[\"mg2\"]; };\n"
    "  mg2 = { host = \"smtp2.mg.example\"; port = 587; credentials = \"mg\"; };\n"
    "  smtps = { host = \"smtps.example\"; implicit_tls = true; credentials = \"other\";\n"
    "            tls = \"fingerprint\"; tls_match = "
    "[\"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\"]; };\n"
    "  shared1 = { host = \"shared.example\"; port = 587; credentials = \"mg\"; };\n"
    "  shared2 = { host = \"shared.example\"; port = 587; credentials = \"other\"; };\n"
    "  shared3 = { host = \"shared.example\"; port = 2525; credentials = \"other\"; };\n"
    "};\n"
    "senders = (\n"
    "  { match = \"@mg.test\"; relay = \"mg\"; },\n"
    "  { match = \"@smtps.test\"; relay = \"smtps\"; },\n"
    "  { match = \"@direct.test\"; relay = \"direct\"; },\n"
    "  { match = \"<>\"; relay = \"smtps\"; }\n"
    ");\n"
    "transports = (\n"
    "  { domain = \"gmail.com\"; transport = \"slow:\"; },\n"
    "  { domain = \".corp.test\"; transport = \"smtp:[192.0.2.9]:25\"; },\n"
    "  { domain = \"ceo@corp.test\"; transport = \"vip:\"; }\n"
    ");\n";

/* The sasl map as smtp(8) asks it for one delivery: "OK value (sender|nexthop)". */
static const char *session(const struct sh_snapshot *s, const char *sender, bool sender_auth,
                           const char *nexthop)
{
    static char out[600];
    struct sh_answer a;

    if (sh_map_sasl_session(s, sender, sender_auth, nexthop, &a) != SH_FOUND)
        return "NOTFOUND";
    snprintf(out, sizeof(out), "OK %s (%s)", a.value, a.has_decision ? "sender" : "nexthop");
    return out;
}

int main(void)
{
    struct sh_error err;
    struct sh_snapshot *s = load_text(conf, &err);
    struct sh_answer a;

    ok(s != NULL, "config loads: %s", s ? "" : err.text);
    if (s == NULL)
        return done_testing();
    ok(sh_map_by_name("relay", 5) == SH_MAP_RELAY, "map name relay");
    ok(sh_map_by_name("sasl", 4) == SH_MAP_SASL, "map name sasl");
    ok(sh_map_by_name("relayx", 6) == -1 && sh_map_by_name("rela", 4) == -1, "unknown map names");

    is_str(q(s, SH_MAP_RELAY, "a@mg.test"), "OK [smtp.mg.example]:587, [smtp2.mg.example]:587",
           "relay with failover list");
    is_str(q(s, SH_MAP_RELAY, "a@direct.test"), "NOTFOUND", "direct: NOTFOUND");
    is_str(q(s, SH_MAP_RELAY, "a@else.test"), "OK [192.0.2.1]:25", "default relay");
    is_str(q(s, SH_MAP_SENDER_TRANSPORT, "a@smtps.test"), "OK smarthost-smtps",
           "465 relay transport");
    is_str(q(s, SH_MAP_SENDER_TRANSPORT, "a@mg.test"), "OK smarthost",
           "normal relay: the relay transport (sender-dependent AUTH there only)");
    is_str(q(s, SH_MAP_SENDER_TRANSPORT, "a@direct.test"), "NOTFOUND",
           "direct: default_transport (no sender-dependent AUTH)");
    is_str(q(s, SH_MAP_SENDER_TRANSPORT, "a@else.test"), "OK smarthost",
           "default relay: the relay transport");

    /* trivial-rewrite asks "\"<>\"" (mail_addr_find's quoted form) first, then "<>". */
    is_str(q(s, SH_MAP_RELAY, "\"<>\""), "OK [smtps.example]:465",
           "null sender, quoted key: the <> rule, not the default relay");
    is_str(q(s, SH_MAP_RELAY, "<>"), "OK [smtps.example]:465", "null sender, bare key: the same");
    is_str(q(s, SH_MAP_SENDER_TRANSPORT, "\"<>\""), "OK smarthost-smtps",
           "null sender, quoted key: the <> relay's transport");
    is_str(q(s, SH_MAP_RELAY, "\"a\"@else.test"), "OK [192.0.2.1]:25",
           "a quoted local part is only a local part");
    is_str(q(s, SH_MAP_RELAY, "a@smtps.test"), "OK [smtps.example]:465",
           "implicit TLS default port");

    is_str(q(s, SH_MAP_SASL, "a@mg.test"), "OK mg-user:mg:pass word", "sasl by sender");
    ok(sh_map_lookup(s, SH_MAP_SASL, "a@mg.test", 9, &a) == SH_FOUND && a.secret, "sasl is secret");
    is_str(q(s, SH_MAP_SASL, "a@else.test"), "NOTFOUND", "sasl: default relay has no credentials");
    is_str(q(s, SH_MAP_SASL, "a@direct.test"), "NOTFOUND", "sasl: direct");
    /* A host name is asked for every session on that host, a direct delivery to
     * user@[host] included: never answered. */
    is_str(q(s, SH_MAP_SASL, "smtp.mg.example"), "NOTFOUND", "sasl by bare host: never");
    is_str(q(s, SH_MAP_SASL, "SMTP.mg.example"), "NOTFOUND", "... whatever its case");
    is_str(q(s, SH_MAP_SASL, "[smtp.mg.example]"), "NOTFOUND",
           "the nexthop of a direct delivery to user@[host] (no port): never");
    is_str(q(s, SH_MAP_SASL, "[smtp.mg.example]:587"), "OK mg-user:mg:pass word",
           "sasl by the relay's [host]:port");
    is_str(q(s, SH_MAP_SASL, "[smtp.mg.example]:25"), "NOTFOUND", "... and no other port");
    is_str(q(s, SH_MAP_SASL, "[192.0.2.1]:25"), "NOTFOUND", "IP-allowlisted relay never gets AUTH");
    is_str(q(s, SH_MAP_SASL, "[shared.example]:587"), "NOTFOUND",
           "relays at one nexthop with differing credentials: none");
    is_str(q(s, SH_MAP_SASL, "[shared.example]:2525"), "OK o-user:o-pass",
           "the same host at another port: its own");
    is_str(q(s, SH_MAP_SASL, "unknown.example"), "NOTFOUND", "unknown host");
    ok(has_warning(s, "relays at [shared.example]:587 use different credentials"),
       "ambiguity is a warning");
    ok(!has_warning(s, "relays at [shared.example]:2525"), "... only where they share a nexthop");
    is_str(q(s, SH_MAP_SASL, "<>"), "NOTFOUND", "sasl by the null sender: Postfix never asks");
    is_str(q(s, SH_MAP_SASL, "\"<>\""), "NOTFOUND", "... nor quoted");

    /* One delivery, asked as smtp_sasl_passwd_lookup() asks. */
    is_str(session(s, "a@mg.test", true, "[smtp.mg.example]:587"),
           "OK mg-user:mg:pass word (sender)", "relay transport: by sender");
    is_str(session(s, "<>", true, "[smtp.mg.example]:587"), "OK mg-user:mg:pass word (nexthop)",
           "a bounce: by nexthop, the relay's own");
    is_str(session(s, "a@mg.test", false, "[192.0.2.9]:25"), "NOTFOUND",
           "a lane (smtp, no sender-dependent AUTH): nothing of the sender's relay");
    is_str(session(s, "a@direct.test", false, "[smtp.mg.example]"), "NOTFOUND",
           "direct to user@[relay host]: nothing");
    is_str(session(s, "a@mg.test", false, "[smtp.mg.example]:587"),
           "OK mg-user:mg:pass word (nexthop)", "a lane to the relay itself: the relay's own");
    ok(has_warning(s, "\"gmail.com\" -> \"slow:\": an empty nexthop delivers to the recipient"),
       "an empty-nexthop lane beside relays is a warning");
    ok(!has_warning(s, "\".corp.test\" -> \"smtp:[192.0.2.9]:25\": an empty nexthop"),
       "a lane with its own nexthop is not");
    ok(!has_warning(s, "offers the sender's relay password"),
       "a lane through Postfix's own smtp transport is no warning (no sender-dependent AUTH)");

    is_str(q(s, SH_MAP_TLS, "[smtp.mg.example]:587"), "OK secure match=nexthop:.mg.example",
           "tls secure");
    is_str(q(s, SH_MAP_TLS, "[SMTP2.mg.example]:587"), "OK encrypt",
           "tls default with credentials");
    is_str(q(s, SH_MAP_TLS, "[192.0.2.1]:25"), "OK may", "tls default without credentials");
    is_str(q(s, SH_MAP_TLS, "[smtps.example]:465"),
           "OK fingerprint match=AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
           "tls fingerprint");
    is_str(q(s, SH_MAP_TLS, "gmail.com"), "NOTFOUND", "tls: not a relay");

    is_str(q(s, SH_MAP_TRANSPORT, "bob@gmail.com"), "OK slow:", "transport by domain");
    is_str(q(s, SH_MAP_TRANSPORT, "bob@GMAIL.com"), "OK slow:", "transport case folded");
    is_str(q(s, SH_MAP_TRANSPORT, "bob@mail.gmail.com"), "NOTFOUND",
           "domain rule is not for subdomains");
    is_str(q(s, SH_MAP_TRANSPORT, "x@a.b.corp.test"), "OK smtp:[192.0.2.9]:25",
           ".domain for subdomains");
    is_str(q(s, SH_MAP_TRANSPORT, "x@corp.test"), "NOTFOUND", ".domain is not the domain itself");
    is_str(q(s, SH_MAP_TRANSPORT, "ceo@corp.test"), "OK vip:", "full address");
    is_str(q(s, SH_MAP_TRANSPORT, "gmail.com"), "OK slow:", "bare domain key");
    is_str(q(s, SH_MAP_TRANSPORT, "*"), "NOTFOUND", "wildcard probe");
    is_str(q(s, SH_MAP_RELAY, "a\001@mg.test"), "PERM", "control character: PERM");
    sh_snapshot_free(s);
    return done_testing();
}
