/* t_resolve.c - sender key handling and rule precedence. */
#include <stdint.h>
#include <stdlib.h>

#include "conf_fixture.h"
#include "resolve.h"
#include "tap.h"

static const char conf[] = "default_relay = \"dflt\";\n"
                           "relays = {\n"
                           "  dflt = { host = \"192.0.2.1\"; };\n"
                           "  addr = { host = \"192.0.2.2\"; };\n"
                           "  noext = { host = \"192.0.2.3\"; };\n"
                           "  dom = { host = \"192.0.2.4\"; };\n"
                           "  sub = { host = \"192.0.2.5\"; };\n"
                           "  near = { host = \"192.0.2.6\"; };\n"
                           "  null = { host = \"192.0.2.7\"; };\n"
                           "};\n"
                           "senders = (\n"
                           "  { match = \"a+tag@example.com\"; relay = \"addr\"; },\n"
                           "  { match = \"a@example.com\"; relay = \"noext\"; },\n"
                           "  { match = \"@example.com\"; relay = \"dom\"; },\n"
                           "  { match = \"@.example.com\"; relay = \"sub\"; },\n"
                           "  { match = \"@.b.example.com\"; relay = \"near\"; },\n"
                           "  { match = \"@excluded.example\"; relay = \"direct\"; },\n"
                           "  { match = \"<>\"; relay = \"null\"; }\n"
                           ");\n";

static const char *route(const struct sh_snapshot *s, const char *sender, enum sh_via *via)
{
    struct sh_decision d;

    if (sh_resolve_sender(s, sender, strlen(sender), &d) != SH_FOUND)
        return "PERM";
    *via = d.via;
    return d.relay ? d.relay->name : "direct";
}

int main(void)
{
    struct sh_error err;
    struct sh_snapshot *s = load_text(conf, &err), *s2;
    enum sh_via via = SH_VIA_NONE;
    char key[SH_MAX_KEY + 1], big[600];

    ok(s != NULL, "config loads: %s", s ? "" : err.text);
    if (s == NULL)
        return done_testing();
    ok((uintptr_t)s->rules % 64 == 0, "sender rules start on a cache line (one line each)");
    is_str(route(s, "a+tag@example.com", &via), "addr", "full address with extension wins");
    ok(via == SH_VIA_ADDRESS, "via address");
    is_str(route(s, "a+other@example.com", &via), "noext", "other extension: address without it");
    ok(via == SH_VIA_ADDRESS_NOEXT, "via address-without-extension");
    is_str(route(s, "A@EXAMPLE.COM", &via), "noext", "case folded");
    is_str(route(s, "b@example.com", &via), "dom", "@domain");
    ok(via == SH_VIA_DOMAIN, "via domain");
    is_str(route(s, "b@example.com.", &via), "dom", "trailing dot on the domain ignored");
    is_str(route(s, "b@x.example.com", &via), "sub", "@.parent for a subdomain");
    ok(via == SH_VIA_PARENT, "via parent-domain");
    is_str(route(s, "b@x.b.example.com", &via), "near", "nearest parent wins");
    is_str(route(s, "b@b.example.com", &via), "sub", "@.b.example.com is not b.example.com itself");
    is_str(route(s, "x@excluded.example", &via), "direct", "exclusion beats the default relay");
    is_str(route(s, "x@other.example", &via), "dflt", "no rule: default relay");
    ok(via == SH_VIA_DEFAULT, "via default");
    is_str(route(s, "<>", &via), "null", "null sender rule");
    ok(via == SH_VIA_NULL_SENDER, "via null-sender");
    is_str(route(s, "", &via), "null", "empty sender is the null sender");
    is_str(route(s, "+tag@example.com", &via), "dom", "delimiter first: no extension to strip");
    is_str(route(s, "postmaster", &via), "dflt", "unqualified sender: default");
    is_str(route(s, "a@", &via), "dflt", "empty domain: default");
    is_str(route(s, "a\n@example.com", &via), "PERM", "control character refused");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    is_str(route(s, big, &via), "PERM", "key over 512 bytes refused");
    ok(sh_sender_key("Ab@Ex.COM.", 10, key) == 9 && strcmp(key, "ab@ex.com") == 0, "sh_sender_key");
    sh_snapshot_free(s);

    /* Delimiters are configurable, several at once, like Postfix recipient_delimiter. */
    s2 = load_text("recipient_delimiter = \"-+\";\nrelays = { r = { host = \"h.example\"; }; };\n"
                   "senders = ( { match = \"a@x.test\"; relay = \"r\"; } );\n",
                   &err);
    ok(s2 != NULL, "delimiter config loads");
    is_str(route(s2, "a-list@x.test", &via), "r", "'-' delimiter");
    is_str(route(s2, "a+t@x.test", &via), "r", "'+' delimiter");
    is_str(route(s2, "ab@x.test", &via), "direct", "no rule, no default: direct");
    ok(via == SH_VIA_NONE, "via none");
    sh_snapshot_free(s2);
    s2 = load_text("recipient_delimiter = \"\";\nrelays = { r = { host = \"h.example\"; }; };\n"
                   "senders = ( { match = \"a@x.test\"; relay = \"r\"; } );\n",
                   &err);
    is_str(route(s2, "a+t@x.test", &via), "direct", "empty delimiter: no extension stripping");
    sh_snapshot_free(s2);
    return done_testing();
}
