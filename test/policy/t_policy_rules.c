/* t_policy_rules.c - the facts of a request + snapshot -> verdict, with an injected clock. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conf_fixture.h"
#include "policy_facts.h"
#include "policy_rules.h"
#include "ratelimit.h"
#include "rl_all_or_nothing.h"
#include "snapshot.h"
#include "tap.h"

static const char *conf_text =
    "relays = { isp = { host = \"relay.isp.example\"; }; ses = { host = \"ses.example\"; port = "
    "587; }; };\n"
    "default_relay = \"isp\";\n"
    "senders = ( { match = \"@ses.test\"; relay = \"ses\"; }, { match = \"@direct.test\"; relay = "
    "\"direct\"; } );\n"
    "policy = {\n"
    "  logins = ( { user = \"Alice@Example.com\"; senders = [ \"alice@example.com\", "
    "\"@example.org\", \"@.sub.test\" ]; },\n"
    "             { user = \"bob\"; senders = \"bob@example.com\"; } );\n"
    "  require_auth = [ \"@example.com\" ];\n"
    "  require_tls = [ \"@secure.test\", \"@xn--bcher-kva.test\", \"@m\xc3\xbcller.test\" ];\n"
    "  relay_guard = true;\n"
    "  local_domains = [ \"example.com\", \".local.test\" ];\n"
    "  trusted_networks = [ \"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.7\" ];\n"
    "  rate_limits = (\n"
    "    { name = \"ses\"; per = \"relay\"; relay = \"ses\"; messages = 2; window = 10; },\n"
    "    { name = \"users\"; per = \"sasl_user\"; recipients = 3; window = 60; },\n"
    "    { name = \"dom\"; per = \"sender_domain\"; match = \"@rl.test\"; messages = 1; window = "
    "5; }\n"
    "  );\n"
    "};\n";

static struct sh_snapshot *snap;
static struct rl_store *mem;

#define ANY    (-1) /* any reason */
#define NOSIZE (-1L)

/* One request and what the rules must answer. NULL strings are absent facts. */
struct rule_case {
    time_t now;
    enum policy_state state;
    const char *sender, *rcpt, *user, *client;
    bool tls;
    long size; /* NOSIZE: none */
    enum policy_action want;
    int reason;       /* enum policy_reason, or ANY */
    const char *text; /* the reply text, or NULL: not checked */
    const char *name;
};

static struct policy_fact fact(const char *v)
{
    return (struct policy_fact){.p = v, .len = v ? strlen(v) : 0};
}

static struct policy_verdict eval_case(const struct sh_snapshot *s, struct rl_store *st,
                                       const struct rule_case *rc)
{
    struct policy_facts f = {
        .state = rc->state,
        .sender = fact(rc->sender),
        .recipient = fact(rc->rcpt),
        .sasl_username = fact(rc->user),
        .client_address = fact(rc->client),
        .tls = rc->tls,
        .has_size = rc->size != NOSIZE,
        .size = rc->size == NOSIZE ? 0 : (unsigned long)rc->size,
    };
    struct policy_verdict v;

    policy_eval(s, &f, st, rc->now ? rc->now : 1000, &v);
    return v;
}

static void run_cases(const struct sh_snapshot *s, struct rl_store *st, const char *group,
                      const struct rule_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct rule_case *rc = &cases[i];
        struct policy_verdict v = eval_case(s, st, rc);

        ok(v.action == rc->want && (rc->reason == ANY || (int)v.reason == rc->reason) &&
               (rc->text == NULL || strcmp(v.text, rc->text) == 0),
           "%s: %s", group, rc->name);
        if (v.action != rc->want || (rc->text && strcmp(v.text, rc->text) != 0))
            printf("#   got action %d reason %s text \"%s\" %s\n", v.action,
                   policy_reason_name(v.reason), v.text, v.detail);
    }
}

#define RUN(s, st, group, cases) run_cases(s, st, group, cases, sizeof(cases) / sizeof(cases[0]))

#define S      POLICY_STATE_OTHER
#define DUNNO  POLICY_DUNNO
#define REJECT POLICY_REJECT
#define DEFER  POLICY_DEFER_IF_PERMIT

static const struct rule_case sender_cases[] = {
    {0, S, "alice@example.com", NULL, "alice@example.com", NULL, true, NOSIZE, DUNNO, PR_NONE, NULL,
     "owner sending as itself"},
    {0, S, "ALICE+tag@example.com", NULL, "ALICE@example.com", NULL, false, NOSIZE, DUNNO, ANY,
     NULL, "case and extension folded like the router does"},
    {0, S, "anyone@example.org", NULL, "alice@example.com", NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "owned @domain"},
    {0, S, "x@a.sub.test", NULL, "alice@example.com", NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "owned @.parent"},
    {0, S, "x@sub.test", NULL, "alice@example.com", NULL, false, NOSIZE, REJECT, PR_NOT_OWNER, NULL,
     "@.parent does not own the parent itself"},
    {0, S, "bob@example.com", NULL, "alice@example.com", NULL, false, NOSIZE, REJECT, PR_NOT_OWNER,
     "5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice@example.com",
     "forging a listed address, in Postfix's words"},
    {0, S, "x@example.org", NULL, "mallory", NULL, false, NOSIZE, REJECT, PR_NOT_OWNER, NULL,
     "unlisted user owns nothing"},
    {0, S, "", NULL, "mallory", NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "null sender is nobody's to own"},
    {0, S, "carol@example.com", NULL, NULL, NULL, false, NOSIZE, REJECT, PR_AUTH_REQUIRED,
     "5.7.1 <carol@example.com>: Sender address rejected: authentication required",
     "require_auth without SASL"},
    {0, S, "carol@secure.test", NULL, NULL, NULL, false, NOSIZE, REJECT, PR_TLS_REQUIRED,
     "5.7.1 <carol@secure.test>: Sender address rejected: must use STARTTLS",
     "require_tls without TLS"},
    {0, S, "carol@secure.test", NULL, NULL, NULL, true, NOSIZE, DUNNO, ANY, NULL,
     "require_tls with TLS"},
};

/* Values the rules cannot judge are refused, never waved past every rule. */
static const struct rule_case hostile_cases[] = {
    {0, S, "bad\001@example.com", NULL, NULL, NULL, false, NOSIZE, REJECT, PR_BAD_SENDER,
     "5.1.7 Sender address too long or malformed to judge", "control byte in the sender"},
    {0, S, "carol@example.com", "r\033@example.com", NULL, NULL, false, NOSIZE, REJECT,
     PR_BAD_RECIPIENT, "5.1.3 Recipient address too long or malformed to judge",
     "control byte in the recipient"},
    {0, S, "carol@example.com", NULL, "bob\177", NULL, false, NOSIZE, REJECT, PR_BAD_LOGIN,
     "5.7.0 Login name too long or malformed to judge", "control byte in the login"},
};

static const struct rule_case relay_cases[] = {
    {0, S, "x@y.test", "r@elsewhere.test", NULL, "198.51.100.1", false, NOSIZE, REJECT,
     PR_RELAY_DENIED, "5.7.1 Relay access denied", "outsider to a remote domain"},
    {0, S, "x@y.test", "r@Example.COM.", NULL, "198.51.100.1", false, NOSIZE, DUNNO, ANY, NULL,
     "outsider to a local domain (case, trailing dot)"},
    {0, S, "x@y.test", "r@a.local.test", NULL, "198.51.100.1", false, NOSIZE, DUNNO, ANY, NULL,
     "outsider to a local subdomain"},
    {0, S, "x@y.test", "r@local.test", NULL, "198.51.100.1", false, NOSIZE, REJECT, ANY, NULL,
     ".local.test does not cover local.test itself"},
    {0, S, "x@y.test", "r@elsewhere.test", NULL, "10.200.0.1", false, NOSIZE, DUNNO, ANY, NULL,
     "trusted IPv4 network"},
    {0, S, "x@y.test", "r@elsewhere.test", NULL, "192.0.2.7", false, NOSIZE, DUNNO, ANY, NULL,
     "trusted single address"},
    {0, S, "x@y.test", "r@elsewhere.test", NULL, "192.0.2.8", false, NOSIZE, REJECT, ANY, NULL,
     "neighbour of a single address is not trusted"},
    {0, S, "x@y.test", "r@elsewhere.test", NULL, "2001:db8:1::5", false, NOSIZE, DUNNO, ANY, NULL,
     "trusted IPv6 network"},
    {0, S, "x@y.test", "r@elsewhere.test", NULL, "2001:db9::5", false, NOSIZE, REJECT, ANY, NULL,
     "untrusted IPv6"},
    {0, S, "bob@example.com", "r@elsewhere.test", "bob", "198.51.100.1", false, NOSIZE, DUNNO, ANY,
     NULL, "authenticated clients may relay"},
    {0, S, "x@y.test", "", NULL, "198.51.100.1", false, NOSIZE, DUNNO, ANY, NULL,
     "no recipient (e.g. END-OF-MESSAGE with several): no guard"},
    /* Postfix routes these to the remote domain (ADDRESS_REWRITING_README) */
    {0, S, "x@y.test", "victim%gmail.test@example.com", NULL, "198.51.100.1", false, NOSIZE, REJECT,
     PR_RELAY_DENIED, NULL, "percent hack through a local domain"},
    {0, S, "x@y.test", "gmail.test!victim@example.com", NULL, "198.51.100.1", false, NOSIZE, REJECT,
     PR_RELAY_DENIED, NULL, "bang path through a local domain"},
    {0, S, "x@y.test", "@example.com:victim@gmail.test", NULL, "198.51.100.1", false, NOSIZE,
     REJECT, PR_RELAY_DENIED, NULL, "source route"},
    {0, S, "x@y.test", "@a.test,@b.test:victim@example.com", NULL, "198.51.100.1", false, NOSIZE,
     DUNNO, ANY, NULL, "source route to a local domain: Postfix strips the route"},
    {0, S, "x@y.test", "victim@gmail.test@example.com", NULL, "198.51.100.1", false, NOSIZE, REJECT,
     PR_RELAY_DENIED, NULL, "quoted local part holding an @ (internal form)"},
    {0, S, "x@y.test", "victim%gmail.test", NULL, "198.51.100.1", false, NOSIZE, REJECT,
     PR_RELAY_DENIED, NULL, "percent hack in a bare name"},
    {0, S, "x@y.test", "victim%gmail.test@example.com", NULL, "10.1.1.1", false, NOSIZE, DUNNO, ANY,
     NULL, "... a trusted client may"},
    {0, S, "bob@example.com", "victim%gmail.test@example.com", "bob", "198.51.100.1", false, NOSIZE,
     DUNNO, ANY, NULL, "... an authenticated client may"},
    {0, S, "x@y.test", "postmaster", NULL, "198.51.100.1", false, NOSIZE, REJECT, PR_BAD_RECIPIENT,
     NULL, "a bare name, myorigin not known: cannot be judged"},
};

/* Senders as cleanup(8) will queue them: the rules of the address Postfix delivers. */
static const struct rule_case canon_cases[] = {
    {0, S, "carol%example.com", NULL, NULL, NULL, false, NOSIZE, REJECT, PR_AUTH_REQUIRED, NULL,
     "percent hack sender is judged as carol@example.com"},
    {0, S, "example.com!carol", NULL, NULL, NULL, false, NOSIZE, REJECT, PR_AUTH_REQUIRED, NULL,
     "bang path sender is judged as carol@example.com"},
    {0, S, "@relay.test:carol@example.com", NULL, NULL, NULL, false, NOSIZE, REJECT,
     PR_AUTH_REQUIRED, NULL, "source-routed sender is judged without its route"},
    {0, S, "Carol@EXAMPLE.COM.", NULL, NULL, NULL, false, NOSIZE, REJECT, PR_AUTH_REQUIRED, NULL,
     "case and trailing dot"},
    {0, S,
     "carol@b\xc3\xbc"
     "cher.test",
     NULL, NULL, NULL, false, NOSIZE, REJECT, PR_TLS_REQUIRED, NULL,
     "U-label sender, A-label rule"},
    {0, S, "carol@xn--mller-kva.test", NULL, NULL, NULL, false, NOSIZE, REJECT, PR_TLS_REQUIRED,
     NULL, "A-label sender, U-label rule"},
    {0, S,
     "carol@b\xc3\xbc"
     "cher.test",
     NULL, NULL, NULL, true, NOSIZE, DUNNO, ANY, NULL, "U-label sender with TLS"},
    {0, S,
     "carol@xn--zz-\xc3\xbc"
     ".test",
     NULL, NULL, NULL, false, NOSIZE, REJECT, PR_BAD_SENDER, NULL,
     "an invalid IDN cannot be judged"},
};

/* A null client: myorigin names a domain this host does not receive for, so
 * Postfix completes a bare name to a remote address. */
static const char *null_client_text =
    "policy = { relay_guard = true; local_domains = [ \"local.test\" ]; "
    "require_auth = [ \"@example.net\" ]; };\n"
    "postfix = { myorigin = \"example.net\"; };\n";

static const struct rule_case null_client_cases[] = {
    {0, S, "x@y.test", "victim", NULL, "198.51.100.1", false, NOSIZE, REJECT, PR_RELAY_DENIED, NULL,
     "a bare name completed to a remote $myorigin is relaying"},
    {0, S, "x@y.test", "victim@local.test", NULL, "198.51.100.1", false, NOSIZE, DUNNO, ANY, NULL,
     "the local domain itself"},
    {0, S, "carol", NULL, NULL, NULL, false, NOSIZE, REJECT, PR_AUTH_REQUIRED, NULL,
     "a bare sender gets $myorigin and its rules"},
};

#define R POLICY_STATE_RCPT
#define E POLICY_STATE_EOM

static const struct rule_case rate_cases[] = {
    /* relay "ses": 2 messages per 10 s window [1000, 1010) */
    {1000, R, "a@ses.test", "r@example.com", NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "message 1 RCPT"},
    {1000, E, "a@ses.test", "r@example.com", NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "message 1 counted at END-OF-MESSAGE"},
    {1001, R, "a@ses.test", "r@example.com", NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "message 2 RCPT"},
    {1001, E, "a@ses.test", "r@example.com", NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "message 2 counted"},
    {1009, R, "a@ses.test", "r@example.com", NULL, NULL, false, NOSIZE, DEFER, PR_RATE_LIMIT,
     "4.7.1 Message rate limit exceeded, retry later", "message 3 deferred at RCPT"},
    {1009, E, "a@ses.test", "r@example.com", NULL, NULL, false, NOSIZE, DEFER, ANY, NULL,
     "and at END-OF-MESSAGE (a race past RCPT)"},
    {1010, R, "a@ses.test", "r@example.com", NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "next window at its first second"},
    {1000, R, "a@direct.test", NULL, NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "direct mail spends no relay budget"},
    /* per sasl_user: 3 recipients per 60 s at RCPT; windows aligned to the epoch: [2040, 2100) */
    {2040, R, "bob@example.com", NULL, "bob", NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "recipient 1 of 3"},
    {2041, R, "bob@example.com", NULL, "bob", NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "recipient 2 of 3"},
    {2042, R, "bob@example.com", NULL, "bob", NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "recipient 3 of 3"},
    {2050, R, "bob@example.com", NULL, "BOB", NULL, false, NOSIZE, DEFER, ANY,
     "4.7.1 Recipient rate limit exceeded, retry later", "recipient 4 deferred (user case-folded)"},
    {2050, R, "alice@example.com", NULL, "alice@example.com", NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "another user has its own budget"},
    {2099, R, "bob@example.com", NULL, "bob", NULL, false, NOSIZE, DEFER, ANY, NULL,
     "still deferred at the window's last second"},
    {2100, R, "bob@example.com", NULL, "bob", NULL, false, NOSIZE, DUNNO, ANY, NULL, "new window"},
    /* per sender_domain, only for @rl.test: 1 message per 5 s; extensions do not escape it */
    {3000, E, "a+1@rl.test", NULL, NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL, "domain message 1"},
    {3000, E, "b+2@RL.test", NULL, NULL, NULL, false, NOSIZE, DEFER, ANY, NULL,
     "domain message 2, other user, same domain: deferred"},
    {3000, S, "b@rl.test", NULL, NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL,
     "other protocol states are not counted"},
};

static void test_rate_limits(void)
{
    struct rule_case other = {1000,  E,      "a@other.test",
                              NULL,  NULL,   NULL,
                              false, NOSIZE, DUNNO,
                              ANY,   NULL,   "relay filter: the default relay is not limited"};

    RUN(snap, mem, "rate", rate_cases);
    for (int i = 0; i < 5; i++)
        eval_case(snap, mem, &other);
    other.state = R;
    run_cases(snap, mem, "rate", &other, 1);
}

/* Two limits on one request: when the second defers, the first is not spent. */
static void test_limits_all_or_nothing(void)
{
    struct sh_error err;
    struct sh_snapshot *s;
    struct rl_store *st = rl_memory_new(100);
    struct policy_verdict v;
    struct rule_case rc = {6000,  R,      "a@aon.test", NULL, NULL, NULL,
                           false, NOSIZE, DUNNO,        ANY,  NULL, NULL};
    enum policy_action a[4];

    s = load_text("policy = { rate_limits = (\n"
                  "  { name = \"wide\"; per = \"sender_domain\"; messages = 100; recipients = 100; "
                  "window = 60; },\n"
                  "  { name = \"narrow\"; per = \"sender\"; messages = 1; recipients = 2; window = "
                  "60; } ); };\n",
                  &err);
    ok(s != NULL, "two-limit config loads %s", err.text);
    if (s == NULL)
        return;
    for (int i = 0; i < 3; i++) {
        v = eval_case(s, st, &rc);
        a[i] = v.action;
    }
    ok(a[0] == POLICY_DUNNO && a[1] == POLICY_DUNNO && a[2] == POLICY_DEFER_IF_PERMIT &&
           strstr(v.detail, "rule=narrow") != NULL,
       "recipients: the 3rd RCPT is deferred by the second limit (%s)", v.detail);
    ok(rl_held(st, "wide|r|aon.test", 6000, 60, 100) == 2,
       "recipients: the first limit counted 2, not the deferred 3rd (%u)",
       rl_held(st, "wide|r|aon.test", 6000, 60, 100));
    rc.state = E;
    for (int i = 0; i < 2; i++) {
        v = eval_case(s, st, &rc);
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
static const struct rule_case size_cases[] = {
    {0, E, "a@small.test", NULL, NULL, NULL, false, 1000, DUNNO, ANY, NULL, "at the limit: DUNNO"},
    {0, E, "a@small.test", NULL, NULL, NULL, false, 1001, REJECT, PR_SIZE_LIMIT,
     "5.3.4 Message size exceeds fixed limit", "one byte over: REJECT in Postfix's words"},
    {0, E, "A+ext@SMALL.test", NULL, NULL, NULL, false, 5000, REJECT, PR_SIZE_LIMIT, NULL,
     "case and extension folded"},
    {0, E, "boss@small.test", NULL, NULL, NULL, false, 5000, DUNNO, ANY, NULL,
     "an address rule beats its domain"},
    {0, E, "boss@small.test", NULL, NULL, NULL, false, 9001, REJECT, PR_SIZE_LIMIT, NULL,
     "... with its own limit"},
    {0, E, "a@x.sub.test", NULL, NULL, NULL, false, 3000, REJECT, PR_SIZE_LIMIT, NULL,
     "@.parent covers subdomains"},
    {0, E, "a@other.test", NULL, NULL, NULL, false, 999999999, DUNNO, ANY, NULL,
     "no rule for the domain"},
    {0, E, "", NULL, NULL, NULL, false, 999999999, DUNNO, ANY, NULL,
     "the null sender is not limited"},
    {0, R, "a@small.test", NULL, NULL, NULL, false, 0, DUNNO, ANY, NULL,
     "RCPT without SIZE=: DUNNO"},
    {0, R, "a@small.test", NULL, NULL, NULL, false, 2000, REJECT, PR_SIZE_LIMIT, NULL,
     "RCPT with a declared SIZE= over the limit"},
    {0, S, "a@small.test", NULL, NULL, NULL, false, 2000, DUNNO, ANY, NULL,
     "other states are not checked"},
    {0, E, "a@small.test", NULL, NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL, "no size: DUNNO"},
};

static void test_max_size(void)
{
    struct sh_error err;
    struct sh_snapshot *s;

    s = load_text("policy = { max_size = (\n"
                  "  { match = [ \"@small.test\", \"@.sub.test\" ]; bytes = 1000; },\n"
                  "  { match = \"boss@small.test\"; bytes = 9000; } ); };\n",
                  &err);
    ok(s != NULL, "max_size config loads %s", err.text);
    if (s == NULL)
        return;
    RUN(s, mem, "max_size", size_cases);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sh_policy_explain(s, "x@small.test", f);
    fclose(f);
    ok(strstr(buf, "policy_max_size=1000 rule=@small.test") != NULL, "explain: max_size");
    free(buf);
    sh_snapshot_free(s);
}

/* The policy adapter's translation of Postfix attributes into facts. */
static void test_facts_of(void)
{
    static const struct {
        const char *attrs;
        enum policy_state state;
        bool tls, has_size;
        unsigned long size;
        const char *name;
    } cases[] = {
        {"protocol_state=RCPT\nsize=0", R, false, true, 0, "RCPT with SIZE=0"},
        {"protocol_state=END-OF-MESSAGE\nsize=1234\nencryption_protocol=TLSv1.3", E, true, true,
         1234, "END-OF-MESSAGE with TLS"},
        {"protocol_state=DATA\nencryption_protocol=", S, false, false, 0, "empty TLS is none"},
        {"protocol_state=MAIL\nsize=12x", POLICY_STATE_MAIL, false, false, 0, "size not a number"},
        {"protocol_state=RCPT\nsize=", R, false, false, 0, "empty size"},
        {"protocol_state=RCPT\nsize=99999999999999999999999", R, false, true, (unsigned long)-1,
         "a size past ULONG_MAX saturates"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[512];
        struct policy_request req;
        struct policy_facts f;
        const char *why;
        size_t used;

        snprintf(buf, sizeof(buf), "request=smtpd_access_policy\n%s\n\n", cases[i].attrs);
        if (policy_parse(buf, strlen(buf), &req, &used, &why) != POLICY_OK) {
            ok(0, "facts: %s: fixture parses (%s)", cases[i].name, why);
            continue;
        }
        policy_facts_of(&req, &f);
        ok(f.state == cases[i].state && f.tls == cases[i].tls && f.has_size == cases[i].has_size &&
               (!f.has_size || f.size == cases[i].size),
           "facts: %s", cases[i].name);
    }
}

static void test_store_down(void)
{
    struct sh_error err;
    struct sh_snapshot *s;
    char text[2048];
    struct policy_verdict v;
    struct rule_case r = {1000,  R,      "a@x.test", NULL, NULL, NULL,
                          false, NOSIZE, DUNNO,      ANY,  NULL, NULL};

    for (int mode = 0; mode < 2; mode++) {
        /* Port 1 on loopback: nothing listens there, the connect is refused at once. */
        snprintf(text, sizeof(text),
                 "policy = { rate_limits = ( { name = \"s\"; per = \"sender\"; messages = 5; "
                 "window = 1; } );"
                 " rate_store = \"redis\"; rate_fail_mode = \"%s\";"
                 " redis = { address = \"inet:127.0.0.1:1\"; timeout_ms = 100; }; };\n",
                 mode ? "defer" : "allow");
        s = load_text(text, &err);
        ok(s != NULL, "redis store config loads (%s)", err.text);
        if (s == NULL)
            continue;
        v = eval_case(s, mem, &r);
        if (mode == 0)
            ok(v.action == POLICY_DUNNO && v.reason == PR_STORE_DOWN_ALLOWED,
               "redis down, fail mode allow: DUNNO, flagged for the log");
        else
            ok(v.action == POLICY_DEFER_IF_PERMIT && v.reason == PR_STORE_DOWN,
               "redis down, fail mode defer: DEFER_IF_PERMIT");
        sh_snapshot_free(s);
    }
}

/* A counter table an attacker filled: a new key is deferred whatever the fail
 * mode; once the windows pass, the space is reclaimed and keys are admitted. */
static void test_store_full(void)
{
    struct sh_error err;
    struct sh_snapshot *s = load_text("policy = { rate_limits = ( { name = \"s\"; per = "
                                      "\"sender\"; messages = 5; window = 10; } );"
                                      " rate_fail_mode = \"allow\"; };\n",
                                      &err);
    struct rl_store *small = rl_memory_new(3);
    static const struct rule_case cases[] = {
        {4000, R, "a@flood.test", NULL, NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL, "key 1 of 3"},
        {4001, R, "b@flood.test", NULL, NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL, "key 2 of 3"},
        {4002, R, "c@flood.test", NULL, NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL, "key 3 of 3"},
        {4003, R, "fresh@flood.test", NULL, NULL, NULL, false, NOSIZE, DEFER, PR_STORE_FULL,
         "4.7.1 Rate limit service busy, retry later", "a new key in a full table is deferred"},
        {4009, R, "a@flood.test", NULL, NULL, NULL, false, NOSIZE, DUNNO, ANY, NULL,
         "a key already counted still counts"},
        {4010, R, "fresh@flood.test", NULL, NULL, NULL, false, NOSIZE, DUNNO, PR_NONE, NULL,
         "after the window the space is reclaimed"},
    };

    ok(s != NULL && small != NULL, "store-full config loads %s", err.text);
    if (s && small)
        RUN(s, small, "store full", cases);
    rl_store_free(small);
    if (s)
        sh_snapshot_free(s);
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
    ok(strstr(buf, "policy_rate_limit=ses per=relay messages=2/10s") != NULL,
       "explain: relay limit");
    ok(strstr(buf, "policy_logins=none\n") != NULL, "explain: nobody owns it");
    free(buf);
}

static void test_config_errors(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"policy = { bogus = 1; };", "policy.bogus: unknown setting"},
        {"policy = { require_tls = [ \"example.com\" ]; };", "not a sender pattern"},
        {"policy = { trusted_networks = [ \"10.0.0.1/8\" ]; };", "host bits must be zero"},
        {"policy = { trusted_networks = \"300.1.1.1\"; };", "not an address or network"},
        {"policy = { relay_guard = true; };", "needs local_domains"},
        {"policy = { rate_limits = ( { name = \"a\"; per = \"sender\"; window = 1; } ); };",
         "set 'messages' or 'recipients'"},
        {"policy = { rate_limits = ( { name = \"a\"; per = \"relay\"; relay = \"nope\"; messages = "
         "1; window = 1; } ); };",
         "no relay named \"nope\""},
        {"policy = { rate_limits = ( { name = \"a\"; per = \"planet\"; messages = 1; window = 1; } "
         "); };",
         "must be sasl_user, sender, sender_domain or relay"},
        {"policy = { rate_store = \"redis\"; };", "needs a redis"},
        {"policy = { rate_store = \"redis\"; redis = { address = \"tcp:x\"; }; };",
         "inet:HOST:PORT"},
        {"policy = { logins = ( { user = \"a\"; senders = [ \"a@b.c\" ]; }, { user = \"A\"; "
         "senders = \"@x.y\"; } ); };",
         "already listed"},
        {"policy = { max_size = ( { match = \"@a.test\"; } ); };",
         "missing required setting 'bytes'"},
        {"policy = { max_size = ( { match = \"@a.test\"; bytes = 0; } ); };", "out of range"},
        {"policy = { max_size = ( { bytes = 10; } ); };", "match"},
        {"policy = { max_size = ( { match = \"a.test\"; bytes = 10; } ); };",
         "not a sender pattern"},
        {"policy = { max_size = ( { match = \"@a.test\"; bytes = 10; }, { match = [ \"@A.test\" ]; "
         "bytes = 20; } ); };",
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
    RUN(snap, mem, "sender", sender_cases);
    RUN(snap, mem, "hostile", hostile_cases);
    RUN(snap, mem, "relay_guard", relay_cases);
    RUN(snap, mem, "canon", canon_cases);
    {
        struct sh_snapshot *nc = load_text(null_client_text, &err);
        ok(nc != NULL, "null-client config loads %s", err.text);
        if (nc) {
            RUN(nc, mem, "null client", null_client_cases);
            sh_snapshot_free(nc);
        }
    }
    test_rate_limits();
    test_limits_all_or_nothing();
    test_max_size();
    test_store_down();
    test_store_full();
    test_facts_of();
    test_explain();
    test_config_errors();
    rl_store_free(mem);
    sh_snapshot_free(snap);
    return done_testing();
}
