/* t_policy_rules.c - request attributes + snapshot -> verdict, with an injected clock. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conf_fixture.h"
#include "policy_codec.h"
#include "policy_rules.h"
#include "ratelimit.h"
#include "rl_all_or_nothing.h"
#include "snapshot.h"
#include "tap.h"

static const char *conf_text =
    "relays = { isp = { host = \"relay.isp.example\"; }; ses = { host = \"ses.example\"; port = 587; }; };\n"
    "default_relay = \"isp\";\n"
    "senders = ( { match = \"@ses.test\"; relay = \"ses\"; }, { match = \"@direct.test\"; relay = \"direct\"; } );\n"
    "policy = {\n"
    "  logins = ( { user = \"Alice@Example.com\"; senders = [ \"alice@example.com\", \"@example.org\", \"@.sub.test\" ]; },\n"
    "             { user = \"bob\"; senders = \"bob@example.com\"; } );\n"
    "  require_auth = [ \"@example.com\" ];\n"
    "  require_tls = [ \"@secure.test\" ];\n"
    "  relay_guard = true;\n"
    "  local_domains = [ \"example.com\", \".local.test\" ];\n"
    "  trusted_networks = [ \"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.7\" ];\n"
    "  rate_limits = (\n"
    "    { name = \"ses\"; per = \"relay\"; relay = \"ses\"; messages = 2; window = 10; },\n"
    "    { name = \"users\"; per = \"sasl_user\"; recipients = 3; window = 60; },\n"
    "    { name = \"dom\"; per = \"sender_domain\"; match = \"@rl.test\"; messages = 1; window = 5; }\n"
    "  );\n"
    "};\n";

static struct sh_snapshot *snap;
static struct rl_store *mem;

/* Evaluate the request given as "name=value" lines (without the final empty line). */
static struct policy_verdict eval_at(time_t now, const char *fmt, ...)
{
    char buf[4096], full[4200];
    struct policy_request req;
    struct policy_verdict v;
    const char *why;
    size_t used;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "request=smtpd_access_policy\n%s\n\n", buf);
    if (policy_parse(full, strlen(full), &req, &used, &why) != POLICY_OK) {
        printf("# fixture does not parse: %s\n", why);
        memset(&v, 0xff, sizeof(v));
        v.text[0] = 0;
        return v;
    }
    policy_eval(snap, &req, mem, now, &v);
    return v;
}

#define eval(...) eval_at(1000, __VA_ARGS__)

static void test_sender_rules(void)
{
    struct policy_verdict v;

    v = eval("sender=alice@example.com\nsasl_username=alice@example.com\nencryption_protocol=TLSv1.3");
    ok(v.action == POLICY_DUNNO && v.reason == PR_NONE, "owner sending as itself: DUNNO");
    v = eval("sender=ALICE+tag@example.com\nsasl_username=ALICE@example.com");
    ok(v.action == POLICY_DUNNO, "case and extension folded like the router does");
    v = eval("sender=anyone@example.org\nsasl_username=alice@example.com");
    ok(v.action == POLICY_DUNNO, "owned @domain");
    v = eval("sender=x@a.sub.test\nsasl_username=alice@example.com");
    ok(v.action == POLICY_DUNNO, "owned @.parent");
    v = eval("sender=x@sub.test\nsasl_username=alice@example.com");
    ok(v.action == POLICY_REJECT && v.reason == PR_NOT_OWNER, "@.parent does not own the parent itself");
    v = eval("sender=bob@example.com\nsasl_username=alice@example.com");
    ok(v.action == POLICY_REJECT, "forging a listed address: REJECT");
    is_str(v.text, "5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice@example.com",
           "forgery reply text as Postfix words it");
    v = eval("sender=x@example.org\nsasl_username=mallory");
    ok(v.action == POLICY_REJECT && v.reason == PR_NOT_OWNER, "unlisted user owns nothing");
    v = eval("sender=\nsasl_username=mallory");
    ok(v.action == POLICY_DUNNO, "null sender is nobody's to own");

    v = eval("sender=carol@example.com");
    ok(v.action == POLICY_REJECT && v.reason == PR_AUTH_REQUIRED, "require_auth without SASL");
    is_str(v.text, "5.7.1 <carol@example.com>: Sender address rejected: authentication required",
           "require_auth text");
    v = eval("sender=carol@secure.test\nencryption_protocol=");
    ok(v.action == POLICY_REJECT && v.reason == PR_TLS_REQUIRED, "require_tls without TLS");
    is_str(v.text, "5.7.1 <carol@secure.test>: Sender address rejected: must use STARTTLS",
           "require_tls text");
    v = eval("sender=carol@secure.test\nencryption_protocol=TLSv1.3");
    ok(v.action == POLICY_DUNNO, "require_tls with TLS");
    v = eval("sender=bad\001@x");
    ok(v.action == POLICY_DUNNO && v.reason == PR_BAD_SENDER, "control character in sender: DUNNO");
    v = eval("request=junk\nsender=carol@example.com");
    ok(v.action == POLICY_DUNNO && v.reason == PR_NOT_POLICY, "not an smtpd_access_policy request");
}

static void test_relay_guard(void)
{
    struct policy_verdict v;

    v = eval("sender=x@y.test\nrecipient=r@elsewhere.test\nclient_address=198.51.100.1");
    ok(v.action == POLICY_REJECT && v.reason == PR_RELAY_DENIED, "outsider to a remote domain");
    is_str(v.text, "5.7.1 Relay access denied", "relay text");
    v = eval("sender=x@y.test\nrecipient=r@Example.COM.\nclient_address=198.51.100.1");
    ok(v.action == POLICY_DUNNO, "outsider to a local domain (case, trailing dot)");
    v = eval("sender=x@y.test\nrecipient=r@a.local.test\nclient_address=198.51.100.1");
    ok(v.action == POLICY_DUNNO, "outsider to a local subdomain");
    v = eval("sender=x@y.test\nrecipient=r@local.test\nclient_address=198.51.100.1");
    ok(v.action == POLICY_REJECT, ".local.test does not cover local.test itself");
    v = eval("sender=x@y.test\nrecipient=r@elsewhere.test\nclient_address=10.200.0.1");
    ok(v.action == POLICY_DUNNO, "trusted IPv4 network");
    v = eval("sender=x@y.test\nrecipient=r@elsewhere.test\nclient_address=192.0.2.7");
    ok(v.action == POLICY_DUNNO, "trusted single address");
    v = eval("sender=x@y.test\nrecipient=r@elsewhere.test\nclient_address=192.0.2.8");
    ok(v.action == POLICY_REJECT, "neighbour of a single address is not trusted");
    v = eval("sender=x@y.test\nrecipient=r@elsewhere.test\nclient_address=2001:db8:1::5");
    ok(v.action == POLICY_DUNNO, "trusted IPv6 network");
    v = eval("sender=x@y.test\nrecipient=r@elsewhere.test\nclient_address=2001:db9::5");
    ok(v.action == POLICY_REJECT, "untrusted IPv6");
    v = eval("sender=bob@example.com\nsasl_username=bob\nrecipient=r@elsewhere.test\nclient_address=198.51.100.1");
    ok(v.action == POLICY_DUNNO, "authenticated clients may relay");
    v = eval("sender=x@y.test\nrecipient=\nclient_address=198.51.100.1");
    ok(v.action == POLICY_DUNNO, "no recipient (e.g. END-OF-MESSAGE with several): no guard");
}

static void test_rate_limits(void)
{
    struct policy_verdict v;
    const char *rcpt = "protocol_state=RCPT\nsender=a@ses.test\nrecipient=r@example.com";
    const char *eom = "protocol_state=END-OF-MESSAGE\nsender=a@ses.test\nrecipient=r@example.com";

    /* relay "ses": 2 messages per 10 s window [1000, 1010). */
    ok(eval_at(1000, "%s", rcpt).action == POLICY_DUNNO, "message 1 RCPT");
    ok(eval_at(1000, "%s", eom).action == POLICY_DUNNO, "message 1 counted at END-OF-MESSAGE");
    ok(eval_at(1001, "%s", rcpt).action == POLICY_DUNNO, "message 2 RCPT");
    ok(eval_at(1001, "%s", eom).action == POLICY_DUNNO, "message 2 counted");
    v = eval_at(1009, "%s", rcpt);
    ok(v.action == POLICY_DEFER_IF_PERMIT && v.reason == PR_RATE_LIMIT, "message 3 deferred at RCPT");
    is_str(v.text, "4.7.1 Message rate limit exceeded, retry later", "rate limit text");
    v = eval_at(1009, "%s", eom);
    ok(v.action == POLICY_DEFER_IF_PERMIT, "and at END-OF-MESSAGE (a race past RCPT)");
    ok(eval_at(1010, "%s", rcpt).action == POLICY_DUNNO, "next window at its first second");
    ok(eval_at(1000, "protocol_state=RCPT\nsender=a@direct.test").action == POLICY_DUNNO,
       "direct mail spends no relay budget");
    for (int i = 0; i < 5; i++)
        eval_at(1000, "protocol_state=END-OF-MESSAGE\nsender=a@other.test");
    ok(eval_at(1000, "protocol_state=RCPT\nsender=a@other.test").action == POLICY_DUNNO,
       "relay filter: the default relay is not limited");

    /* per sasl_user: 3 recipients per 60 s, counted at RCPT; windows are aligned to the epoch: [2040, 2100). */
    for (int i = 0; i < 3; i++)
        ok(eval_at(2040 + i, "protocol_state=RCPT\nsender=bob@example.com\nsasl_username=bob")
               .action == POLICY_DUNNO, "recipient %d of 3", i + 1);
    v = eval_at(2050, "protocol_state=RCPT\nsender=bob@example.com\nsasl_username=BOB");
    ok(v.action == POLICY_DEFER_IF_PERMIT, "recipient 4 deferred (user case-folded)");
    is_str(v.text, "4.7.1 Recipient rate limit exceeded, retry later", "recipient limit text");
    ok(eval_at(2050, "protocol_state=RCPT\nsender=alice@example.com\nsasl_username=alice@example.com")
           .action == POLICY_DUNNO, "another user has its own budget");
    ok(eval_at(2099, "protocol_state=RCPT\nsender=bob@example.com\nsasl_username=bob").action
           == POLICY_DEFER_IF_PERMIT, "still deferred at the window's last second");
    ok(eval_at(2100, "protocol_state=RCPT\nsender=bob@example.com\nsasl_username=bob").action
           == POLICY_DUNNO, "new window");

    /* per sender_domain, only for @rl.test: 1 message per 5 s; extensions do not escape it. */
    ok(eval_at(3000, "protocol_state=END-OF-MESSAGE\nsender=a+1@rl.test").action == POLICY_DUNNO,
       "domain message 1");
    ok(eval_at(3000, "protocol_state=END-OF-MESSAGE\nsender=b+2@RL.test").action
           == POLICY_DEFER_IF_PERMIT, "domain message 2, other user, same domain: deferred");
    ok(eval_at(3000, "protocol_state=VRFY\nsender=b@rl.test").action == POLICY_DUNNO,
       "other protocol states are not counted");
}

/* Two limits on one request: when the second defers, the first is not spent. */
static void test_limits_all_or_nothing(void)
{
    struct sh_error err;
    struct sh_snapshot *s;
    struct rl_store *st = rl_memory_new(100);
    struct policy_request req;
    struct policy_verdict v;
    const char *why;
    size_t used;
    const char *rcpt = "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@aon.test\n\n";
    const char *eom = "request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\nsender=a@aon.test\n\n";
    enum policy_action a[4];

    s = load_text("policy = { rate_limits = (\n"
                  "  { name = \"wide\"; per = \"sender_domain\"; messages = 100; recipients = 100; window = 60; },\n"
                  "  { name = \"narrow\"; per = \"sender\"; messages = 1; recipients = 2; window = 60; } ); };\n",
                  &err);
    ok(s != NULL, "two-limit config loads %s", err.text);
    if (s == NULL)
        return;
    policy_parse(rcpt, strlen(rcpt), &req, &used, &why);
    for (int i = 0; i < 3; i++) {
        policy_eval(s, &req, st, 6000, &v);
        a[i] = v.action;
    }
    ok(a[0] == POLICY_DUNNO && a[1] == POLICY_DUNNO && a[2] == POLICY_DEFER_IF_PERMIT &&
           strstr(v.detail, "rule=narrow") != NULL,
       "recipients: the 3rd RCPT is deferred by the second limit (%s)", v.detail);
    ok(rl_held(st, "wide|r|aon.test", 6000, 60, 100) == 2,
       "recipients: the first limit counted 2, not the deferred 3rd (%u)",
       rl_held(st, "wide|r|aon.test", 6000, 60, 100));
    policy_parse(eom, strlen(eom), &req, &used, &why);
    for (int i = 0; i < 2; i++) {
        policy_eval(s, &req, st, 6000, &v);
        a[i] = v.action;
    }
    ok(a[0] == POLICY_DUNNO && a[1] == POLICY_DEFER_IF_PERMIT,
       "messages: the 2nd message is deferred by the second limit");
    ok(rl_held(st, "wide|m|aon.test", 6000, 60, 100) == 1,
       "messages: the first limit counted 1 message, not the deferred one (%u)",
       rl_held(st, "wide|m|aon.test", 6000, 60, 100));
    rl_store_free(st);
    sh_snapshot_free(s);
}

/* max_size: most specific sender pattern wins; END-OF-MESSAGE size, or a
 * declared SIZE= at RCPT; REJECT in smtpd's own words. */
static void test_max_size(void)
{
    struct sh_error err;
    struct sh_snapshot *s;
    struct policy_request req;
    struct policy_verdict v;
    const char *why;
    size_t used;
    char r[512];
    static const struct {
        const char *state, *sender, *size;
        enum policy_action want;
        const char *name;
    } cases[] = {
        {"END-OF-MESSAGE", "a@small.test", "1000", POLICY_DUNNO, "at the limit: DUNNO"},
        {"END-OF-MESSAGE", "a@small.test", "1001", POLICY_REJECT, "one byte over: REJECT"},
        {"END-OF-MESSAGE", "A+ext@SMALL.test", "5000", POLICY_REJECT, "case and extension folded"},
        {"END-OF-MESSAGE", "boss@small.test", "5000", POLICY_DUNNO, "an address rule beats its domain"},
        {"END-OF-MESSAGE", "boss@small.test", "9001", POLICY_REJECT, "... with its own limit"},
        {"END-OF-MESSAGE", "a@x.sub.test", "3000", POLICY_REJECT, "@.parent covers subdomains"},
        {"END-OF-MESSAGE", "a@other.test", "999999999", POLICY_DUNNO, "no rule for the domain"},
        {"END-OF-MESSAGE", "", "999999999", POLICY_DUNNO, "the null sender is not limited"},
        {"RCPT", "a@small.test", "0", POLICY_DUNNO, "RCPT without SIZE=: DUNNO"},
        {"RCPT", "a@small.test", "2000", POLICY_REJECT, "RCPT with a declared SIZE= over the limit"},
        {"DATA", "a@small.test", "2000", POLICY_DUNNO, "other states are not checked"},
        {"END-OF-MESSAGE", "a@small.test", "12x", POLICY_DUNNO, "a size that is not a number: DUNNO"},
        {"END-OF-MESSAGE", "a@small.test", "", POLICY_DUNNO, "an empty size: DUNNO"},
        {"END-OF-MESSAGE", "a@small.test", "99999999999999999999999", POLICY_REJECT,
         "a size past ULONG_MAX saturates"},
    };

    s = load_text("policy = { max_size = (\n"
                  "  { match = [ \"@small.test\", \"@.sub.test\" ]; bytes = 1000; },\n"
                  "  { match = \"boss@small.test\"; bytes = 9000; } ); };\n",
                  &err);
    ok(s != NULL, "max_size config loads %s", err.text);
    if (s == NULL)
        return;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(r, sizeof(r), "request=smtpd_access_policy\nprotocol_state=%s\nsender=%s\nsize=%s\n\n",
                 cases[i].state, cases[i].sender, cases[i].size);
        policy_parse(r, strlen(r), &req, &used, &why);
        policy_eval(s, &req, mem, 1000, &v);
        ok(v.action == cases[i].want && (v.action != POLICY_REJECT || v.reason == PR_SIZE_LIMIT),
           "max_size: %s (%s)", cases[i].name, v.detail);
    }
    is_str(v.text, "5.3.4 Message size exceeds fixed limit", "max_size: Postfix's wording");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sh_policy_explain(s, "x@small.test", f);
    fclose(f);
    ok(strstr(buf, "policy_max_size=1000 rule=@small.test") != NULL, "explain: max_size");
    free(buf);
    sh_snapshot_free(s);
}

static void test_store_down(void)
{
    struct sh_error err;
    struct sh_snapshot *s;
    char text[2048];
    struct policy_verdict v;
    struct policy_request req;
    const char *why;
    size_t used;
    const char *r = "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@x.test\n\n";

    policy_parse(r, strlen(r), &req, &used, &why);
    for (int mode = 0; mode < 2; mode++) {
        /* Port 1 on loopback: nothing listens there, the connect is refused at once. */
        snprintf(text, sizeof(text),
                 "policy = { rate_limits = ( { name = \"s\"; per = \"sender\"; messages = 5; window = 1; } );"
                 " rate_store = \"redis\"; rate_fail_mode = \"%s\";"
                 " redis = { address = \"inet:127.0.0.1:1\"; timeout_ms = 100; }; };\n",
                 mode ? "defer" : "allow");
        s = load_text(text, &err);
        ok(s != NULL, "redis store config loads (%s)", err.text);
        if (s == NULL)
            continue;
        policy_eval(s, &req, mem, 1000, &v);
        if (mode == 0)
            ok(v.action == POLICY_DUNNO && v.reason == PR_STORE_DOWN_ALLOWED,
               "redis down, fail mode allow: DUNNO, flagged for the log");
        else
            ok(v.action == POLICY_DEFER_IF_PERMIT && v.reason == PR_STORE_DOWN,
               "redis down, fail mode defer: DEFER_IF_PERMIT");
        sh_snapshot_free(s);
    }
}

static void test_explain(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    sh_policy_explain(snap, "x@a.sub.test", f);
    fclose(f);
    ok(strstr(buf, "policy_logins=alice@example.com\n") != NULL, "explain: who may send as it");
    ok(strstr(buf, "policy_relay_guard=on\n") != NULL, "explain: relay guard");
    free(buf);
    f = open_memstream(&buf, &len);
    sh_policy_explain(snap, "a@ses.test", f);
    fclose(f);
    ok(strstr(buf, "policy_rate_limit=ses per=relay messages=2/10s") != NULL, "explain: relay limit");
    ok(strstr(buf, "policy_logins=none\n") != NULL, "explain: nobody owns it");
    free(buf);
}

static void test_config_errors(void)
{
    static const struct { const char *text, *want; } cases[] = {
        {"policy = { bogus = 1; };", "policy.bogus: unknown setting"},
        {"policy = { require_tls = [ \"example.com\" ]; };", "not a sender pattern"},
        {"policy = { trusted_networks = [ \"10.0.0.1/8\" ]; };", "host bits must be zero"},
        {"policy = { trusted_networks = \"300.1.1.1\"; };", "not an address or network"},
        {"policy = { relay_guard = true; };", "needs local_domains"},
        {"policy = { rate_limits = ( { name = \"a\"; per = \"sender\"; window = 1; } ); };",
         "set 'messages' or 'recipients'"},
        {"policy = { rate_limits = ( { name = \"a\"; per = \"relay\"; relay = \"nope\"; messages = 1; window = 1; } ); };",
         "no relay named \"nope\""},
        {"policy = { rate_limits = ( { name = \"a\"; per = \"planet\"; messages = 1; window = 1; } ); };",
         "must be sasl_user, sender, sender_domain or relay"},
        {"policy = { rate_store = \"redis\"; };", "needs a redis"},
        {"policy = { rate_store = \"redis\"; redis = { address = \"tcp:x\"; }; };", "inet:HOST:PORT"},
        {"policy = { logins = ( { user = \"a\"; senders = [ \"a@b.c\" ]; }, { user = \"A\"; senders = \"@x.y\"; } ); };",
         "already listed"},
        {"policy = { max_size = ( { match = \"@a.test\"; } ); };", "missing required setting 'bytes'"},
        {"policy = { max_size = ( { match = \"@a.test\"; bytes = 0; } ); };", "out of range"},
        {"policy = { max_size = ( { bytes = 10; } ); };", "match"},
        {"policy = { max_size = ( { match = \"a.test\"; bytes = 10; } ); };", "not a sender pattern"},
        {"policy = { max_size = ( { match = \"@a.test\"; bytes = 10; }, { match = [ \"@A.test\" ]; bytes = 20; } ); };",
         "listed twice"},
        {"policy = { max_size = { match = \"@a.test\"; bytes = 10; }; };", "must be a list"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sh_error err = {{0}};
        struct sh_snapshot *s = load_text(cases[i].text, &err);
        ok(s == NULL && strstr(err.text, cases[i].want) != NULL && strstr(err.text, ":1: ") != NULL,
           "config error: %s", cases[i].want);
        if (s)
            sh_snapshot_free(s);
        else if (strstr(err.text, cases[i].want) == NULL)
            printf("#   got: %s\n", err.text);
    }
}

int main(void)
{
    struct sh_error err = {{0}};

    snap = load_text(conf_text, &err);
    ok(snap != NULL, "fixture config loads %s", err.text);
    if (snap == NULL)
        return done_testing();
    mem = rl_memory_new(1000);
    test_sender_rules();
    test_relay_guard();
    test_rate_limits();
    test_limits_all_or_nothing();
    test_max_size();
    test_store_down();
    test_explain();
    test_config_errors();
    rl_store_free(mem);
    sh_snapshot_free(snap);
    return done_testing();
}
