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
    "  shared2 = { host = \"shared.example\"; port = 2525; credentials = \"other\"; };\n"
    "};\n"
    "senders = (\n"
    "  { match = \"@mg.test\"; relay = \"mg\"; },\n"
    "  { match = \"@smtps.test\"; relay = \"smtps\"; },\n"
    "  { match = \"@direct.test\"; relay = \"direct\"; }\n"
    ");\n"
    "transports = (\n"
    "  { domain = \"gmail.com\"; transport = \"slow:\"; },\n"
    "  { domain = \".corp.test\"; transport = \"smtp:[192.0.2.9]:25\"; },\n"
    "  { domain = \"ceo@corp.test\"; transport = \"vip:\"; }\n"
    ");\n";

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
    is_str(q(s, SH_MAP_SENDER_TRANSPORT, "a@mg.test"), "NOTFOUND",
           "normal relay: default transport");
    is_str(q(s, SH_MAP_RELAY, "a@smtps.test"), "OK [smtps.example]:465",
           "implicit TLS default port");

    is_str(q(s, SH_MAP_SASL, "a@mg.test"), "OK mg-user:mg:pass word", "sasl by sender");
    ok(sh_map_lookup(s, SH_MAP_SASL, "a@mg.test", 9, &a) == SH_FOUND && a.secret, "sasl is secret");
    is_str(q(s, SH_MAP_SASL, "a@else.test"), "NOTFOUND", "sasl: default relay has no credentials");
    is_str(q(s, SH_MAP_SASL, "a@direct.test"), "NOTFOUND", "sasl: direct");
    is_str(q(s, SH_MAP_SASL, "smtp.mg.example"), "OK mg-user:mg:pass word", "sasl by host");
    is_str(q(s, SH_MAP_SASL, "[smtp.mg.example]:587"), "OK mg-user:mg:pass word",
           "sasl by [host]:port");
    is_str(q(s, SH_MAP_SASL, "192.0.2.1"), "NOTFOUND", "IP-allowlisted relay never gets AUTH");
    is_str(q(s, SH_MAP_SASL, "[shared.example]:587"), "OK mg-user:mg:pass word",
           "shared host, own port");
    is_str(q(s, SH_MAP_SASL, "shared.example"), "NOTFOUND",
           "host with differing credentials: none");
    is_str(q(s, SH_MAP_SASL, "unknown.example"), "NOTFOUND", "unknown host");
    ok(has_warning(s, "relays at shared.example use different credentials"),
       "ambiguity is a warning");
    ok(has_warning(s, "\"gmail.com\" -> \"slow:\": an empty nexthop delivers to the recipient"),
       "an empty-nexthop lane beside relays is a warning");
    ok(!has_warning(s, "\".corp.test\" -> \"smtp:[192.0.2.9]:25\": an empty nexthop"),
       "a lane with its own nexthop is not");
    ok(has_warning(s, "\".corp.test\" -> \"smtp:[192.0.2.9]:25\": Postfix's smtp transport "
                      "offers the sender's relay password"),
       "a lane through Postfix's own smtp transport is a warning (sender-dependent AUTH)");
    ok(!has_warning(s, "\"ceo@corp.test\" -> \"vip:\": Postfix's"),
       "a lane transport of its own is not");

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
