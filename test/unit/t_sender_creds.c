/* t_sender_creds.c - credentials that belong to a sender pattern at one relay. */
#include <stdlib.h>

#include "conf_fixture.h"
#include "map_query.h"
#include "maps.h"
#include "tap.h"

/* One relay host shared by two domains with their own credentials (the Mailgun case),
 * a domain with credentials at the default relay, an address key, an opt-out with
 * credentials, and a more specific rule that moves a sender to another relay. */
static const char conf[] =
    "default_relay = \"dflt\";\n"
    "credentials = {\n"
    "  a = { user = \"a-user\"; password = \"a-pass\"; };\n"
    "  b = { user = \"b-user\"; password = \"b-pass\"; };\n"
    "  d = { user = \"d-user\"; password = \"d-pass\"; };\n"
    "  boss = { user = \"boss-user\"; password = \"boss-pass\"; };\n"
    "  x = { user = \"x-user\"; password = \"x-pass\"; };\n"
    "  own = { user = \"own-user\"; password = \"own-pass\"; };\n"
    "};\n"
    "relays = {\n"
    "  mg = { host = \"smtp.mg.test\"; port = 587; tls = \"encrypt\"; };\n"
    "  dflt = { host = \"smtp.z.test\"; port = 587; tls = \"encrypt\"; credentials = \"own\"; };\n"
    "  other = { host = \"other.test\"; port = 2525; tls = \"encrypt\"; };\n"
    "  ses = { host = \"smtp.ses.test\"; port = 465; };\n"
    "};\n"
    "senders = (\n"
    "  { match = \"@a.test\"; relay = \"mg\"; credentials = \"a\"; },\n"
    "  { match = \"@b.test\"; relay = \"mg\"; credentials = \"b\"; },\n"
    "  { match = \"@c.test\"; relay = \"mg\"; },\n"
    "  { match = \"@d.test\"; credentials = \"d\"; },\n"
    "  { match = \"boss@d.test\"; credentials = \"boss\"; },\n"
    "  { match = \"ext@d.test\"; relay = \"other\"; },\n"
    "  { match = \"@x.test\"; relay = \"direct\"; credentials = \"x\"; },\n"
    "  { match = \"@s.test\"; relay = \"ses\"; }\n"
    ");\n";

static void refused(const char *text, const char *want, const char *name)
{
    struct sh_error err;
    struct sh_snapshot *s = load_text(text, &err);

    ok(s == NULL && strstr(err.text, want) != NULL, "%s", name);
    if (s)
        sh_snapshot_free(s);
    else if (!strstr(err.text, want))
        printf("#   got: %s\n", err.text);
}

int main(void)
{
    struct sh_error err;
    struct sh_snapshot *s = load_text(conf, &err);

    ok(s != NULL, "config loads: %s", s ? "" : err.text);
    if (s == NULL)
        return done_testing();
    is_str(q(s, SH_MAP_RELAY, "u@a.test"), "OK [smtp.mg.test]:587", "@a.test at the shared host");
    is_str(q(s, SH_MAP_RELAY, "u@b.test"), "OK [smtp.mg.test]:587", "@b.test at the same host");
    is_str(q(s, SH_MAP_SASL, "u@a.test"), "OK a-user:a-pass", "@a.test logs in as a-user");
    is_str(q(s, SH_MAP_SASL, "u@b.test"), "OK b-user:b-pass", "@b.test logs in as b-user");
    is_str(q(s, SH_MAP_SASL, "u@c.test"), "NOTFOUND", "@c.test at that host: no credentials");
    is_str(q(s, SH_MAP_SASL, "smtp.mg.test"), "NOTFOUND", "the host itself has none");
    is_str(q(s, SH_MAP_TLS, "[smtp.mg.test]:587"), "OK encrypt", "one tls policy per nexthop");

    is_str(q(s, SH_MAP_RELAY, "u@d.test"), "OK [smtp.z.test]:587",
           "credentials only: default relay");
    is_str(q(s, SH_MAP_SASL, "u@d.test"), "OK d-user:d-pass", "... with the domain's credentials");
    is_str(q(s, SH_MAP_SASL, "boss@d.test"), "OK boss-user:boss-pass",
           "an address key beats @domain");
    is_str(q(s, SH_MAP_SASL, "boss+tag@d.test"), "OK boss-user:boss-pass",
           "... with an extension too");
    is_str(q(s, SH_MAP_RELAY, "ext@d.test"), "OK [other.test]:2525",
           "an address rule moves a sender");
    is_str(q(s, SH_MAP_SASL, "ext@d.test"), "NOTFOUND",
           "@d.test's credentials never follow it to another relay");
    is_str(q(s, SH_MAP_SASL, "u@else.test"), "OK own-user:own-pass", "the default relay's own");
    is_str(q(s, SH_MAP_RELAY, "u@x.test"), "NOTFOUND", "opt-out with credentials: direct");
    is_str(q(s, SH_MAP_SASL, "u@x.test"), "NOTFOUND", "... and its credentials are never answered");
    ok(has_warning(s, "\"@x.test\" has credentials but goes direct"), "... which is a warning");

    is_str(q(s, SH_MAP_SENDER_TRANSPORT, "u@s.test"), "OK smarthost-smtps",
           "port 465: implicit TLS");
    is_str(q(s, SH_MAP_TLS, "[smtp.ses.test]:465"), "OK encrypt", "... at tls encrypt");
    sh_snapshot_free(s);

    refused("relays = { r = { host = \"r.test\"; tls = \"may\"; }; };\n"
            "credentials = { c = { user = \"u\"; password = \"p\"; }; };\n"
            "senders = ( { match = \"@a.test\"; relay = \"r\"; credentials = \"c\"; } );\n",
            "must not cross the network in clear",
            "sender credentials at a tls may relay: refused");
    refused("relays = { r = { host = \"r.test\"; tls = \"may\"; }; };\n"
            "default_relay = \"r\";\n"
            "credentials = { c = { user = \"u\"; password = \"p\"; }; };\n"
            "senders = ( { match = \"@a.test\"; credentials = \"c\"; } );\n",
            "must not cross the network in clear", "... also when inherited from the default");
    refused("relays = { r = { host = \"r.test\"; tls = \"encrypt\"; failover = [\"f\"]; };\n"
            "  f = { host = \"f.test\"; tls = \"may\"; }; };\n"
            "credentials = { c = { user = \"u\"; password = \"p\"; }; };\n"
            "senders = ( { match = \"@a.test\"; relay = \"r\"; credentials = \"c\"; } );\n",
            "on failover", "... and when a failover relay would see them in clear");
    refused("relays = { r = { host = \"r.test\"; }; };\n"
            "credentials = { c = { user = \"u\"; password = \"p\"; }; };\n"
            "senders = ( { match = \"<>\"; relay = \"r\"; credentials = \"c\"; } );\n",
            "null sender", "credentials on <>: refused (Postfix asks by relay only)");
    refused("senders = ( { match = \"@a.test\"; } );\n", "needs relay", "a rule with neither");
    refused("senders = ( { match = \"@a.test\"; credentials = \"nope\"; } );\n",
            "no credentials named", "unknown credentials");

    setenv("RELAY_HOST", "env.relay.test", 1);
    s = load_text("credentials = { c = { user = \"u\"; password = \"p\"; }; };\n"
                  "senders = ( { match = \"@a.test\"; credentials = \"c\"; } );\n",
                  &err);
    ok(s != NULL, "RELAY_HOST + per-domain credentials loads: %s", s ? "" : err.text);
    if (s) {
        is_str(q(s, SH_MAP_SASL, "u@a.test"), "OK u:p",
               "the domain's credentials at the env relay");
        is_str(q(s, SH_MAP_SASL, "u@b.test"), "NOTFOUND", "other senders: none");
        is_str(q(s, SH_MAP_TLS, "[env.relay.test]:25"), "OK encrypt",
               "the env relay's tls is raised to encrypt");
        ok(has_warning(s, "raised from may to encrypt"), "... and the loader says so");
        sh_snapshot_free(s);
    }
    setenv("RELAY_PORT", "465", 1);
    s = load_text("", &err);
    is_str(s ? q(s, SH_MAP_SENDER_TRANSPORT, "u@a.test") : err.text, "OK smarthost-smtps",
           "RELAY_PORT=465: implicit TLS");
    if (s)
        sh_snapshot_free(s);
    unsetenv("RELAY_HOST");
    unsetenv("RELAY_PORT");
    s = load_text("credentials = { c = { user = \"u\"; password = \"p\"; }; };\n"
                  "senders = ( { match = \"@a.test\"; credentials = \"c\"; } );\n",
                  &err);
    ok(s && has_warning(s, "there is no default relay") &&
           strcmp(q(s, SH_MAP_SASL, "u@a.test"), "NOTFOUND") == 0,
       "credentials at a default relay that is not there: kept, never sent, a warning");
    if (s)
        sh_snapshot_free(s);
    return done_testing();
}
