/* t_headers.c - header engine, header_checks parser and milter config (TAP). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "header_checks.h"
#include "headers.h"
#include "milter_conf.h"
#include "tap.h"

static char tmpdir[] = "/tmp/t_headers.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[4][512];
    static int slot;
    char *p = path[slot++ % 4];
    FILE *f;

    snprintf(p, 512, "%s/%s", tmpdir, name);
    f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

#define RELAYS                                                                                     \
    "relays = { isp = { host = \"127.0.0.1\"; port = 2626; };\n"                                   \
    "           ses = { host = \"127.0.0.2\"; port = 2627; }; };\n"                                \
    "default_relay = \"isp\";\n"                                                                   \
    "senders = ( { match = \"@verified.example\"; relay = \"ses\"; } );\n"

static struct sh_snapshot *load(const char *milter_group, struct sh_error *err)
{
    char text[8192];
    snprintf(text, sizeof(text), RELAYS "%s", milter_group);
    return sh_config_load(write_file("smarthostd.conf", text), err);
}

static const struct sh_edit *find_edit(const struct sh_plan *p, enum sh_edit_kind k,
                                       const char *name, size_t from)
{
    for (size_t i = from; i < p->n; i++)
        if (p->e[i].kind == k &&
            (name == NULL || (p->e[i].name && strcmp(p->e[i].name, name) == 0)))
            return &p->e[i];
    return NULL;
}

static enum sh_outcome plan(const struct sh_snapshot *s, const char *sender,
                            const char *const *hdrs, struct sh_plan *p)
{
    struct sh_msg m;
    struct sh_msg_env env = {
        .sender = sender, .now = 1700000000, .unique = "Q1.abc", .hostname = "fallback.example"};
    enum sh_outcome o;

    sh_msg_init(&m);
    for (size_t i = 0; hdrs[i]; i += 2)
        sh_msg_add(&m, hdrs[i], hdrs[i + 1]);
    o = sh_plan_build(s, &m, &env, p);
    sh_msg_reset(&m);
    return o;
}

static void test_header_checks_parser(void)
{
    struct sh_hc_rule *rules = NULL;
    size_t n = 0;
    struct sh_hc_error err = {0};
    const char *good = "# comment\n"
                       "/^X-Secret:/ IGNORE\n"
                       "\n"
                       "/^Subject: (.*)/\n"
                       "    REPLACE Subject: [ext] $1\n"
                       "!/^X-Keep:/i ignore\r\n"
                       "#/^X-Off:/ REJECT\n"
                       "/^X-Tag: (\\S+)/ PREPEND X-Tag-Copy: ${1}\n"
                       "/^Received:/ DUNNO\n"
                       "/^X-Warn:/ WARN seen\n"
                       "|^X-Pipe:| IGNORE"; /* no final newline, other delimiter */

    ok(sh_header_checks_parse(good, strlen(good), &rules, &n, &err), "valid table parses (%s)",
       err.text);
    ok(n == 7, "7 rules (got %zu)", n);
    ok(n == 7 && rules[0].action == SH_HC_IGNORE && rules[1].action == SH_HC_REPLACE &&
           rules[2].negate && rules[2].action == SH_HC_IGNORE && rules[3].action == SH_HC_PREPEND &&
           rules[4].action == SH_HC_DUNNO && rules[5].action == SH_HC_WARN,
       "actions and negation");
    ok(n == 7 && strcmp(rules[1].text, "Subject: [ext] $1") == 0,
       "continuation line joined into the REPLACE text");
    sh_hc_rules_free(rules, n);

    static const struct {
        const char *text;
        unsigned line;
        const char *msg;
    } bad[] = {
        {"/^X:/ IGNORE\n/^Y:/ REJECT spam\n", 2, "not supported"},
        {"/^X: IGNORE\n", 1, "missing closing"},
        {"/^X:/q IGNORE\n", 1, "unknown pattern flag"},
        {"/^X:/ REPLACE no header here\n", 1, "needs a header line"},
        {"/^X:/ PREPEND\n", 1, "needs a header line"},
        {"if /^X:/\n/^Y:/ IGNORE\nendif\n", 1, "if/endif"},
        {"/^X:(/ IGNORE\n", 1, "pattern error"},
        {"/^X:/\n", 1, "missing action"},
        {"  /^X:/ IGNORE\n", 1, "continuation line without a rule"},
        {"/^X:/ IGNORE\n/a\0b/ IGNORE\n", 2, "NUL byte"},
        {"!/^X:(a)/ REPLACE X: $1\n", 1, "no $N"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = strlen(bad[i].text);
        if (strstr(bad[i].msg, "NUL"))
            len = 26;
        rules = NULL;
        n = 0;
        memset(&err, 0, sizeof(err));
        bool r = sh_header_checks_parse(bad[i].text, len, &rules, &n, &err);
        ok(!r && err.line == bad[i].line && strstr(err.text, bad[i].msg),
           "bad table %zu refused at line %u: %s", i, err.line, err.text);
        sh_hc_rules_free(rules, n);
    }
}

static void test_cidr(void)
{
    struct sh_cidr nets[3];
    ok(sh_cidr_parse("10.0.0.0/8", &nets[0]) && sh_cidr_parse("fd00::/8", &nets[1]) &&
           sh_cidr_parse("192.168.1.7", &nets[2]),
       "CIDRs parse");
    ok(!sh_cidr_parse("10.1.0.0/8", &nets[0]) && !sh_cidr_parse("10.0.0.0/33", &nets[0]) &&
           !sh_cidr_parse("300.0.0.0/8", &nets[0]) && !sh_cidr_parse("10.0.0.0/", &nets[0]),
       "bad CIDRs refused");
    sh_cidr_parse("10.0.0.0/8", &nets[0]);
    ok(sh_cidr_match_text(nets, 3, "10.200.1.1", 10), "10.200.1.1 in 10/8");
    ok(!sh_cidr_match_text(nets, 3, "11.0.0.1", 8), "11.0.0.1 not internal");
    ok(sh_cidr_match_text(nets, 3, "IPv6:fd12::1", 12), "IPv6:fd12::1 in fd00::/8");
    ok(sh_cidr_match_text(nets, 3, "::ffff:10.0.0.1", 15), "v4-mapped address matches");
    ok(sh_cidr_match_text(nets, 3, "192.168.1.7", 11) &&
           !sh_cidr_match_text(nets, 3, "192.168.1.8", 11),
       "a bare address is a /32");
}

#define PRIVACY                                                                                    \
    "milter = { hostname = \"mx.example.test\";\n"                                                 \
    "  privacy = { internal_networks = [ \"10.0.0.0/8\" ]; internal_hosts = [ \"*.lan\" ]; };\n"

static void test_privacy(void)
{
    struct sh_error err;
    struct sh_snapshot *s = load(PRIVACY "};\n", &err);
    struct sh_plan p;
    const struct sh_edit *e;

    ok(s != NULL, "privacy config loads (%s)", s ? "" : err.text);
    if (s == NULL)
        return;
    const char *h1[] = {
        "Received",
        "from mx.example.net (mx.example.net [203.0.113.5]) by gw; Mon, 1 Jan 2024",
        "Received",
        "from pc1.lan (pc1.lan [10.1.2.3]) by gw; Mon, 1 Jan 2024",
        "Received",
        "from box (unknown [10.7.7.7]) by gw; Mon, 1 Jan 2024",
        "Received",
        "from printer.LAN. (helo=printer) by gw; Mon, 1 Jan 2024",
        "X-Originating-IP",
        "[10.9.9.9]",
        "X-Mailer",
        "kept unless remove_mailer",
        "Date",
        "Mon, 1 Jan 2024 00:00:00 +0000",
        "Message-ID",
        "<a@b>",
        NULL,
    };
    ok(plan(s, "<alice@example.org>", h1, &p) == SH_FOUND, "plan builds");
    /* deletes bottom up: Received 4, 3, 2 (1-based among Received), then X-Originating-IP */
    ok(p.n == 4, "4 edits (got %zu)", p.n);
    ok(p.n == 4 && p.e[0].kind == SH_EDIT_CHANGE && !strcmp(p.e[0].name, "X-Originating-IP") &&
           p.e[0].idx == 1 && p.e[0].value == NULL,
       "X-Originating-IP deleted");
    ok(p.n == 4 && p.e[1].idx == 4 && p.e[2].idx == 3 && p.e[3].idx == 2 &&
           !strcmp(p.e[3].name, "Received") && p.e[1].value == NULL,
       "internal Received 4, 3, 2 deleted in that order; external Received 1 kept");
    ok(find_edit(&p, SH_EDIT_ADD, NULL, 0) == NULL, "nothing added: Date and Message-ID present");
    sh_plan_free(&p);

    const char *h2[] = {"Subject", "x", NULL};
    ok(plan(s, "<>", h2, &p) == SH_FOUND, "null sender plans");
    e = find_edit(&p, SH_EDIT_ADD, "Date", 0);
    ok(e && !strcmp(e->value, "Tue, 14 Nov 2023 22:13:20 +0000"), "Date added: %s",
       e ? e->value : "-");
    e = find_edit(&p, SH_EDIT_ADD, "Message-ID", 0);
    ok(e && !strcmp(e->value, "<20231114221320.Q1.abc@mx.example.test>"), "Message-ID added: %s",
       e ? e->value : "-");
    sh_plan_free(&p);
    sh_snapshot_free(s);
}

static void test_rules_and_checks(void)
{
    struct sh_error err;
    char group[2048];
    struct sh_snapshot *s;
    struct sh_plan p;
    const char *hc = write_file("hc", "/^X-A: del/ IGNORE\n"
                                      "/^X-A: tag/ PREPEND X-A: new\n"
                                      "/^Subject: \\[int\\] (.*)/ REPLACE Subject: $1\n"
                                      "/^X-Old: (.*)/ REPLACE X-New: $1\n"
                                      "/^X-Spam-Flag:/ IGNORE\n");

    snprintf(group, sizeof(group),
             "milter = { add_date = false; add_message_id = false;\n"
             "  headers = ( { remove = \"X-Spam-Flag\"; },\n"
             "              { remove_pattern = \"^X-Internal-\"; },\n"
             "              { replace = \"Organization\"; value = \"Example\"; },\n"
             "              { add = \"X-Via\"; value = \"ses\"; relay = \"ses\"; } );\n"
             "  header_checks = \"regexp:%s\"; };\n",
             hc);
    s = load(group, &err);
    ok(s != NULL, "rules config loads (%s)", s ? "" : err.text);
    if (s == NULL)
        return;
    const char *h[] = {
        "X-A",
        "tag", /* 0: PREPEND X-A: new before it */
        "X-A",
        "del", /* 1: IGNORE; after the insert it is X-A #3 */
        "Subject",
        "[int] hello", /* 2: REPLACE same name: change */
        "X-Old",
        "v1", /* 3: REPLACE other name: insert X-New, delete X-Old */
        "X-Internal-Host",
        "h", /* 4: config remove_pattern */
        "organization",
        "Acme", /* 5: config replace, name caseless */
        NULL,
    };
    ok(plan(s, "bob@example.org", h, &p) == SH_FOUND, "plan builds");
    ok(p.n == 7, "7 edits (got %zu)", p.n);
    if (p.n == 7) {
        ok(p.e[0].kind == SH_EDIT_INSERT && !strcmp(p.e[0].name, "X-New") &&
               !strcmp(p.e[0].value, "v1") && p.e[0].idx == 3,
           "X-New inserted at position 3");
        ok(p.e[1].kind == SH_EDIT_INSERT && !strcmp(p.e[1].name, "X-A") &&
               !strcmp(p.e[1].value, "new") && p.e[1].idx == 0,
           "X-A: new prepended at position 0 (inserts bottom up)");
        ok(p.e[2].kind == SH_EDIT_CHANGE && !strcmp(p.e[2].name, "organization") &&
               !strcmp(p.e[2].value, "Example") && p.e[2].idx == 1,
           "Organization replaced");
        ok(p.e[3].kind == SH_EDIT_CHANGE && !strcmp(p.e[3].name, "X-Internal-Host") &&
               !p.e[3].value,
           "X-Internal-Host removed by pattern");
        ok(p.e[4].kind == SH_EDIT_CHANGE && !strcmp(p.e[4].name, "X-Old") && !p.e[4].value &&
               p.e[4].idx == 1,
           "X-Old deleted (replaced by X-New)");
        ok(p.e[5].kind == SH_EDIT_CHANGE && !strcmp(p.e[5].name, "Subject") &&
               !strcmp(p.e[5].value, "hello"),
           "Subject rewritten with $1");
        /* the "del" X-A is at position 1; with "new" inserted above it, it is X-A #3 */
        ok(p.e[6].kind == SH_EDIT_CHANGE && !strcmp(p.e[6].name, "X-A") && !p.e[6].value &&
               p.e[6].idx == 3,
           "X-A \"del\" deleted as X-A #3 (after the insert above it)");
    }
    sh_plan_free(&p);
    sh_snapshot_free(s);
}

static void test_same_name_index(void)
{
    struct sh_error err;
    char group[512];
    struct sh_snapshot *s;
    struct sh_plan p;
    const char *hc = write_file("hc2", "/^X-A: del/ IGNORE\n/^X-A: tag/ PREPEND X-A: new\n");

    snprintf(group, sizeof(group),
             "milter = { add_date = false; add_message_id = false; header_checks = \"%s\"; };\n",
             hc);
    s = load(group, &err);
    ok(s != NULL, "header_checks-only config loads (%s)", s ? "" : err.text);
    if (s == NULL)
        return;
    const char *h[] = {"X-A", "keep", "X-A", "tag", "X-A", "del", NULL};
    ok(plan(s, "bob@example.org", h, &p) == SH_FOUND && p.n == 2, "2 edits");
    ok(p.n == 2 && p.e[0].kind == SH_EDIT_INSERT && p.e[0].idx == 1,
       "X-A: new inserted at position 1");
    ok(p.n == 2 && p.e[1].kind == SH_EDIT_CHANGE && p.e[1].idx == 4 && p.e[1].value == NULL,
       "X-A \"del\" is X-A #4 after the insert above it, and deleted");
    sh_plan_free(&p);
    sh_snapshot_free(s);
}

static void test_rewrite(void)
{
    struct sh_error err;
    struct sh_snapshot *s;
    struct sh_plan p;
    const struct sh_edit *e;

    s = load("milter = { add_date = false; add_message_id = false;\n"
             "  headers = ( { add = \"X-Via\"; value = \"ses\"; relay = \"ses\"; } );\n"
             "  list_unsubscribe = ( { domain = \"verified.example\"; url = "
             "\"<https://u.example/x>\"; one_click = true; } );\n"
             "  sender_rewrite = ( { relay = \"ses\"; identity = \"bounce@verified.example\"; "
             "from_header = true; } ); };\n",
             &err);
    ok(s != NULL, "rewrite config loads (%s)", s ? "" : err.text);
    if (s == NULL)
        return;
    const char *h[] = {"From", "Alice Example <alice@verified.example>", "Subject", "s", NULL};
    ok(plan(s, "<Alice+tag@Verified.Example>", h, &p) == SH_FOUND, "plan builds");
    e = find_edit(&p, SH_EDIT_CHANGE, "From", 0);
    ok(e && !strcmp(e->value, "Alice Example <bounce@verified.example>") && e->idx == 1,
       "From rewritten keeping the display name: %s", e ? e->value : "-");
    e = find_edit(&p, SH_EDIT_ADD, "Reply-To", 0);
    ok(e && !strcmp(e->value, "Alice Example <alice@verified.example>"),
       "original From kept in Reply-To");
    e = find_edit(&p, SH_EDIT_CHGFROM, NULL, 0);
    ok(e && !strcmp(e->value, "<bounce@verified.example>") && e == &p.e[p.n - 1],
       "envelope sender changed, last");
    ok(find_edit(&p, SH_EDIT_ADD, "X-Via", 0) != NULL, "relay-scoped rule applies");
    ok(find_edit(&p, SH_EDIT_ADD, "List-Unsubscribe", 0) &&
           find_edit(&p, SH_EDIT_ADD, "List-Unsubscribe-Post", 0),
       "List-Unsubscribe and -Post added for the sender domain");
    sh_plan_free(&p);

    const char *h2[] = {"From", "alice@verified.example", "Reply-To", "<desk@verified.example>",
                        NULL};
    ok(plan(s, "alice@verified.example", h2, &p) == SH_FOUND, "plan with Reply-To");
    ok(find_edit(&p, SH_EDIT_ADD, "Reply-To", 0) == NULL, "existing Reply-To kept, none added");
    e = find_edit(&p, SH_EDIT_CHANGE, "From", 0);
    ok(e && !strcmp(e->value, "bounce@verified.example"), "bare From becomes the bare identity");
    sh_plan_free(&p);

    const char *h3[] = {"From", "bob@example.org", NULL};
    ok(plan(s, "bob@example.org", h3, &p) == SH_FOUND && p.n == 0,
       "another relay's sender: no rewrite, no relay-scoped header");
    sh_plan_free(&p);
    sh_snapshot_free(s);
}

/* Rules and List-Unsubscribe limited to sender patterns, matched like routing
 * rules: address, address without +extension, @domain, @.parent, <>. */
static void test_sender_scoped(void)
{
    struct sh_error err;
    struct sh_snapshot *s;
    struct sh_plan p;
    const struct sh_edit *e;

    s = load("milter = { add_date = false; add_message_id = false;\n"
             "  headers = ( { remove = \"X-Campaign\"; senders = [ \"@news.example\" ]; },\n"
             "              { replace = \"Organization\"; value = \"Shop\"; senders = [ "
             "\"@.shop.example\", \"ceo@corp.example\" ]; },\n"
             "              { add = \"X-Bounce\"; value = \"yes\"; senders = \"<>\"; },\n"
             "              { add = \"X-Verified\"; value = \"1\"; relay = \"ses\"; senders = [ "
             "\"@news.example\" ]; } );\n"
             "  list_unsubscribe = ( { senders = [ \"promo@news.example\" ]; url = "
             "\"<https://n.example/promo>\"; one_click = true; },\n"
             "                       { senders = [ \"@news.example\", \"@.lists.example\" ]; url = "
             "\"<mailto:u@news.example>\"; } ); };\n",
             &err);
    ok(s != NULL, "sender-scoped config loads (%s)", s ? "" : err.text);
    if (s == NULL)
        return;
    const char *h[] = {"X-Campaign", "c1", "Organization", "Acme", "From", "x@y", NULL};

    ok(plan(s, "<Promo+May@News.Example>", h, &p) == SH_FOUND, "plan for promo+may@news.example");
    ok(find_edit(&p, SH_EDIT_CHANGE, "X-Campaign", 0) != NULL,
       "@news.example rule removes X-Campaign");
    ok(find_edit(&p, SH_EDIT_CHANGE, "Organization", 0) == NULL, "other senders' rule not applied");
    e = find_edit(&p, SH_EDIT_ADD, "List-Unsubscribe", 0);
    ok(e && !strcmp(e->value, "<https://n.example/promo>"),
       "address rule (without +extension) chosen first: %s", e ? e->value : "-");
    ok(find_edit(&p, SH_EDIT_ADD, "List-Unsubscribe-Post", 0) != NULL, "one-click Post added");
    ok(find_edit(&p, SH_EDIT_ADD, "X-Verified", 0) == NULL, "relay + senders: both must hold");
    sh_plan_free(&p);

    ok(plan(s, "desk@news.example", h, &p) == SH_FOUND, "plan for desk@news.example");
    e = find_edit(&p, SH_EDIT_ADD, "List-Unsubscribe", 0);
    ok(e && !strcmp(e->value, "<mailto:u@news.example>") &&
           find_edit(&p, SH_EDIT_ADD, "List-Unsubscribe-Post", 0) == NULL,
       "domain entry: mailto List-Unsubscribe, no one-click Post");
    sh_plan_free(&p);

    ok(plan(s, "a@eu.shop.example", h, &p) == SH_FOUND, "plan for a@eu.shop.example");
    e = find_edit(&p, SH_EDIT_CHANGE, "Organization", 0);
    ok(e && !strcmp(e->value, "Shop"), "@.shop.example matches a subdomain");
    ok(find_edit(&p, SH_EDIT_CHANGE, "X-Campaign", 0) == NULL &&
           find_edit(&p, SH_EDIT_ADD, "List-Unsubscribe", 0) == NULL,
       "news rules not applied to shop mail");
    sh_plan_free(&p);

    ok(plan(s, "a@shop.example", h, &p) == SH_FOUND &&
           find_edit(&p, SH_EDIT_CHANGE, "Organization", 0) == NULL,
       "@.shop.example does not match shop.example itself");
    sh_plan_free(&p);
    ok(plan(s, "CEO@corp.example", h, &p) == SH_FOUND &&
           find_edit(&p, SH_EDIT_CHANGE, "Organization", 0) != NULL,
       "address pattern matches caselessly");
    sh_plan_free(&p);
    ok(plan(s, "x@list1.lists.example", h, &p) == SH_FOUND &&
           find_edit(&p, SH_EDIT_ADD, "List-Unsubscribe", 0) != NULL,
       "List-Unsubscribe for a subdomain pattern");
    sh_plan_free(&p);
    ok(plan(s, "<>", h, &p) == SH_FOUND && find_edit(&p, SH_EDIT_ADD, "X-Bounce", 0) != NULL &&
           find_edit(&p, SH_EDIT_CHANGE, "X-Campaign", 0) == NULL,
       "<> pattern matches the null sender only");
    sh_plan_free(&p);
    ok(plan(s, "bob@example.org", h, &p) == SH_FOUND && p.n == 0, "unlisted sender: nothing");
    sh_plan_free(&p);

    e = NULL;
    ok(plan(s, "x@verified.example", h, &p) == SH_FOUND &&
           find_edit(&p, SH_EDIT_ADD, "X-Verified", 0) == NULL,
       "relay matches but sender does not: not applied");
    sh_plan_free(&p);
    sh_snapshot_free(s);
}

static void test_bounds(void)
{
    struct sh_error err;
    struct sh_snapshot *s = load("milter = { };\n", &err);
    struct sh_msg m;
    struct sh_msg_env env = {.sender = "a@b.example", .now = 0, .unique = "u", .hostname = "h"};
    struct sh_plan p;
    char *big = malloc(SH_MILTER_MAX_HEADER + 2);
    bool all = true;

    ok(s != NULL, "empty milter group loads");
    if (s == NULL)
        return;
    sh_msg_init(&m);
    for (int i = 0; i < SH_MILTER_MAX_HEADERS; i++)
        all &= sh_msg_add(&m, "X-N", "v");
    ok(all && !sh_msg_add(&m, "X-N", "v") && m.oversize, "header %d is refused",
       SH_MILTER_MAX_HEADERS + 1);
    enum sh_outcome o = sh_plan_build(s, &m, &env, &p);
    ok(o == SH_PERM && p.why, "oversize message is rejected: %s", p.why ? p.why : "-");
    sh_plan_free(&p);
    sh_msg_reset(&m);
    memset(big, 'a', SH_MILTER_MAX_HEADER + 1);
    big[SH_MILTER_MAX_HEADER + 1] = 0;
    ok(!sh_msg_add(&m, "X-Big", big) && m.oversize, "a header over %d bytes is refused",
       SH_MILTER_MAX_HEADER);
    sh_msg_reset(&m);
    free(big);
    env.sender = "bad\001sender@x";
    sh_msg_add(&m, "Subject", "x");
    ok(sh_plan_build(s, &m, &env, &p) == SH_PERM, "sender with a control character is rejected");
    sh_plan_free(&p);
    sh_msg_reset(&m);
    sh_snapshot_free(s);
}

static void test_config_errors(void)
{
    static const struct {
        const char *group;
        const char *msg;
    } bad[] = {
        {"milter = { bogus = 1; };\n", ":5: milter.bogus: unknown setting"},
        {"milter = { default_action = \"discard\"; };\n", "must be tempfail, accept or reject"},
        {"milter = { privacy = { internal_networks = [ \"10.1.0.0/8\" ]; }; };\n",
         "milter.privacy.internal_networks[0]: \"10.1.0.0/8\""},
        {"milter = { headers = ( { remove = \"X-A\"; add = \"X-B\"; value = \"v\"; } ); };\n",
         "needs exactly one of"},
        {"milter = { headers = ( { remove_pattern = \"(\"; } ); };\n", "pattern error"},
        {"milter = { headers = ( { add = \"Bad Name\"; value = \"v\"; } ); };\n",
         "is not a header name"},
        {"milter = { sender_rewrite = ( { relay = \"ses\"; identity = \"x@elsewhere.example\"; } "
         "); };\n",
         "routes to isp, not to relay \"ses\""},
        {"milter = { sender_rewrite = ( { relay = \"nope\"; identity = \"x@verified.example\"; } "
         "); };\n",
         "no relay named \"nope\""},
        {"milter = { header_checks = \"/nonexistent/hc\"; };\n", "/nonexistent/hc: No such file"},
        {"milter = { hostname = \"10.0.0.1\"; };\n", "not an address"},
        {"milter = { list_unsubscribe = ( { domain = \"n.example\"; url = "
         "\"<mailto:u@n.example>\"; one_click = true; } ); };\n",
         "needs an https URL"},
        {"milter = { headers = ( { remove = \"X-A\"; senders = [ \"news.example\" ]; } ); };\n",
         "milter.headers[0].senders[0]: \"news.example\": not an address"},
        {"milter = { headers = ( { remove = \"X-A\"; senders = [ ]; } ); };\n",
         "would match no sender"},
        {"milter = { headers = ( { remove = \"X-A\"; senders = [ \"@A.example\", \"@a.example\" ]; "
         "} ); };\n",
         "\"@a.example\" is listed twice"},
        {"milter = { list_unsubscribe = ( { domain = \"n.example\"; senders = \"@n.example\"; url "
         "= \"<mailto:u@n.example>\"; } ); };\n",
         "needs exactly one of domain"},
        {"milter = { list_unsubscribe = ( { url = \"<mailto:u@n.example>\"; } ); };\n",
         "needs exactly one of domain"},
    };
    struct sh_error err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sh_snapshot *s = load(bad[i].group, &err);
        ok(s == NULL && strstr(err.text, bad[i].msg) != NULL, "config error %zu: %s", i,
           s ? "(loaded)" : err.text);
        sh_snapshot_free(s);
    }
    const char *hc = write_file("hc_bad", "/^X:/ IGNORE\n/^Y:/ HOLD\n");
    char group[512];
    snprintf(group, sizeof(group), "milter = { header_checks = \"%s\"; };\n", hc);
    struct sh_snapshot *s = load(group, &err);
    ok(s == NULL && strstr(err.text, "hc_bad:2: header_checks: action \"HOLD\""),
       "header_checks error names file:line: %s", s ? "(loaded)" : err.text);
    sh_snapshot_free(s);
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    test_header_checks_parser();
    test_cidr();
    test_privacy();
    test_rules_and_checks();
    test_same_name_index();
    test_rewrite();
    test_sender_scoped();
    test_bounds();
    test_config_errors();
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return done_testing();
}
