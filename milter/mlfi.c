/* mlfi.c - libmilter callbacks.
 *
 * Each connection pins the config snapshot current at connect time (released
 * at close), so a reload never changes the rules under a message in flight.
 * Macros that Postfix sends only at HELO/MAIL ({auth_authen}, {tls_version})
 * are kept in the per-connection data. All decisions come from headers.c and
 * the policy service's own rules (policy_rules.c); outcome_reply() is the only
 * place that turns an outcome into SMFIS_*, and counts each verdict on a message
 * (metrics.h: verdict and reason; applied edits by kind).
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "counter.h"
#include "headers.h"
#include "metrics.h"
#include "milter_conf.h"
#include "policy_rules.h"
#include "mlfi.h"
#include "msg.h"
#include "resolve.h"
#include "snapshot.h"

struct conn {
    struct sh_snapshot *snap;         /* pinned for the connection's lifetime */
    unsigned long proto;              /* SMFIP_* steps negotiated with the MTA */
    bool local;                       /* emulated SMTP: sendmail(1)/pickup, no client */
    bool failed;                      /* connect-time trouble, answered at MAIL */
    bool bad_sender;                  /* MAIL had no usable address: rejected at end of message */
    bool unjudged;                    /* this message's headers cannot be judged: never accepted */
    char auth_authen[SH_MAX_KEY + 2]; /* one past the rules' bound: see copy_macro() */
    char tls_version[64];
    char sender[SH_MAX_KEY + 3];
    char qid[64];
    struct sh_msg msg;
};

static char default_hostname[256] = "localhost";

/* Edit counters: the kinds of struct sh_edit, a deletion apart from a replacement. */
enum { ED_INSERTED, ED_REPLACED, ED_REMOVED, ED_ADDED, ED_SENDER, ED_COUNT_ };
static unsigned edit_ctr[ED_COUNT_];

void sh_mlfi_metrics_init(void)
{
    static const char *const kind[ED_COUNT_] = {
        "header_inserted", "header_replaced", "header_removed", "header_added", "sender_rewritten"};

    sh_metrics_milter_init();
    for (int k = 0; k < ED_COUNT_; k++)
        edit_ctr[k] = sh_metrics_milter_edit(kind[k]);
}

static void count_verdict(sfsistat r, enum sh_milter_reason why)
{
    enum sh_milter_verdict v = r == SMFIS_REJECT     ? SH_MV_REJECT
                               : r == SMFIS_TEMPFAIL ? SH_MV_TEMPFAIL
                               : r == SMFIS_ACCEPT   ? SH_MV_ACCEPT
                                                     : SH_MV_CONTINUE;
    sh_ctr_inc(sh_mid.milter[v][why]);
}

void sh_mlfi_set_hostname(const char *hostname)
{
    snprintf(default_hostname, sizeof(default_hostname), "%s", hostname);
}

static struct conn *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* The connection's state, made at the first callback (negotiate, or connect
 * with an MTA that does not negotiate). NULL when out of memory. */
static struct conn *conn_get(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
        sh_msg_init(&c->msg);
        smfi_setpriv(ctx, c);
    }
    return c;
}

/* The answer to a step whose reply we may have negotiated away. */
static sfsistat no_reply(const struct conn *c, unsigned long nr_flag)
{
    return c && (c->proto & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* Copy a macro's value. A value longer than CAP - 1 is cut there: CAP is
 * chosen one past what the rules judge (SH_MAX_KEY), so a cut value is still
 * too long and refused, never matched as a shorter one. */
static void copy_macro(SMFICTX *ctx, const char *name, char *out, size_t cap)
{
    const char *v = smfi_getsymval(ctx, (char *)name);
    if (v)
        snprintf(out, cap, "%s", v);
}

static const char *qid_of(const struct conn *c)
{
    return c && c->qid[0] ? c->qid : "NOQUEUE";
}

/* The one translation from a core outcome to the milter wire. WHY is the text
 * for the SMTP reply and the log; for SH_PERM it may start with its own
 * enhanced status code ("5.7.1 <a@b>: Sender address rejected: ..."), as the
 * policy service's verdicts do. REASON is what the verdict is counted under:
 * a message's final verdict (FINAL: end of message) or an objection earlier. */
static sfsistat reply(SMFICTX *ctx, const struct conn *c, enum sh_outcome o, const char *why);

static sfsistat outcome_reply(SMFICTX *ctx, const struct conn *c, enum sh_outcome o,
                              const char *why, enum sh_milter_reason reason, bool final)
{
    sfsistat r = reply(ctx, c, o, why);

    if (r != SMFIS_CONTINUE || final)
        count_verdict(r, r == SMFIS_CONTINUE ? SH_MR_NONE : reason);
    return r;
}

static sfsistat reply(SMFICTX *ctx, const struct conn *c, enum sh_outcome o, const char *why)
{
    char dsn[16] = "5.7.1";
    const char *text = why;

    const struct sh_milter_conf *mc = c && c->snap ? c->snap->milter : NULL;
    enum sh_milter_default def = mc ? mc->on_error : SH_MDEF_TEMPFAIL;

    switch (o) {
    case SH_FOUND:
    case SH_NOTFOUND:
        return SMFIS_CONTINUE;
    case SH_PERM: {
        size_t n = strspn(why, "0123456789.");
        char shown[SH_LOG_TEXT_MAX], buf[POLICY_TEXT_MAX];
        if (n >= 5 && n < sizeof(dsn) && why[0] == '5' && why[n] == ' ') {
            memcpy(dsn, why, n);
            dsn[n] = 0;
            text = why + n + 1;
        }
        msg_info("%s: milter: reject: %s", qid_of(c),
                 msg_printable(shown, sizeof(shown), why, strlen(why)));
        /* libmilter reads '%' in reply texts as an escape: double them */
        size_t w = 0;
        for (const char *p = text; *p && w + 2 < sizeof(buf); p++) {
            if (*p == '%')
                buf[w++] = '%';
            buf[w++] = *p;
        }
        buf[w] = 0;
        smfi_setreply(ctx, "554", dsn, buf);
        return SMFIS_REJECT;
    }
    case SH_TEMP:
        break;
    }
    if (c && c->unjudged) { /* a message, not the milter, is in trouble */
        char shown[SH_LOG_TEXT_MAX];
        msg_info("%s: milter: tempfail: %s", qid_of(c),
                 msg_printable(shown, sizeof(shown), why, strlen(why)));
        if (def == SH_MDEF_ACCEPT)
            def = SH_MDEF_TEMPFAIL;
    } else
        msg_warn("%s: milter: internal error: %s", qid_of(c), why);
    switch (def) {
    case SH_MDEF_ACCEPT:
        return SMFIS_ACCEPT; /* the operator chose this in default_action */
    case SH_MDEF_REJECT:
        smfi_setreply(ctx, "550", "5.3.0", "message filter failed");
        return SMFIS_REJECT;
    case SH_MDEF_TEMPFAIL:
        break;
    }
    smfi_setreply(ctx, "451", "4.3.0", "message filter temporarily unavailable");
    return SMFIS_TEMPFAIL;
}

/* Every round trip costs the MTA a wait: ask it to skip the steps we never
 * look at (RCPT, DATA, body, EOH, unknown commands; connect and HELO too when
 * the connection's snapshot has no SMTP-time rules) and not to wait for our
 * answer where we never object (connect, HELO, each header, and MAIL when the
 * connection's snapshot has no SMTP-time rules). End of message keeps its
 * reply: it carries the edits and the verdict. The snapshot is pinned here,
 * the first callback of a connection, because it decides the flags. */
static sfsistat mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                               unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                               unsigned long *pf2, unsigned long *pf3)
{
    const unsigned long need = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM;
    unsigned long skip = SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN;
    struct conn *c = conn_get(ctx);
    unsigned long nr = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR;

    (void)f2;
    (void)f3;
    if (c && c->snap == NULL)
        c->snap = sh_snapshot_acquire();
    /* Without SMTP-time rules, connect (local or not) and HELO ({tls_version})
     * tell us nothing, and MAIL only gives the sender. */
    if (c && c->snap && c->snap->policy == NULL) {
        nr |= SMFIP_NR_MAIL;
        skip |= SMFIP_NOCONNECT | SMFIP_NOHELO;
    }
    if ((f0 & need) != need) {
        msg_warn("milter: the MTA does not offer header and sender changes; refusing");
        return SMFIS_REJECT;
    }
    *pf0 = need;
    /* without state we could not tell later whether a reply is due */
    *pf1 = f1 & (c ? skip | nr : skip);
    *pf2 = *pf3 = 0;
    if (c)
        c->proto = *pf1;
    return SMFIS_CONTINUE;
}

/* Mail from sendmail(1)/pickup, which Postfix's cleanup(8) hands to
 * non_smtpd_milters with an emulated SMTP connect. Seen with Postfix 3.7.11
 * (host name, family, address, port as libmilter passes them):
 *   sendmail(1)/pickup:         "localhost", AF_INET, 127.0.0.1, port 0
 *   smtpd over TCP:             "localhost", AF_INET, 127.0.0.1, the client's port
 *   smtpd on a unix socket:     "localhost", no address (unknown family)
 * The macros ({daemon_name}, {daemon_addr}, _) were the same for all three.
 * Port 0 is what no TCP client has, so only that connect is a local
 * submission; an unknown family is an SMTP client we cannot name, and the
 * rules apply to it as to any other. */
static bool emulated_client(const char *host, const _SOCK_ADDR *addr)
{
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;

    return addr != NULL && addr->sa_family == AF_INET && in->sin_port == 0 &&
           in->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && host != NULL &&
           strcmp(host, "localhost") == 0;
}

static sfsistat mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    struct conn *c = conn_get(ctx);

    if (c == NULL) /* without a place to remember it, MAIL will tempfail */
        return SMFIS_CONTINUE;
    c->local = emulated_client(host, addr);
    if (c->snap == NULL && (c->snap = sh_snapshot_acquire()) == NULL)
        c->failed = true;
    if (msg_verbose)
        msg_info("milter: connect from %s%s", host ? host : "?",
                 c->local ? " (local submission)" : "");
    return no_reply(c, SMFIP_NR_CONN);
}

static sfsistat mlfi_helo(SMFICTX *ctx, char *helo)
{
    struct conn *c = conn_of(ctx);

    (void)helo;
    if (c) /* after STARTTLS, Postfix sends {tls_version} with the new EHLO */
        copy_macro(ctx, "{tls_version}", c->tls_version, sizeof(c->tls_version));
    return no_reply(c, SMFIP_NR_HELO);
}

static struct policy_fact fact(const char *v)
{
    return (struct policy_fact){.p = v, .len = strlen(v)};
}

/* The policy service's SMTP-time rules (require_tls, require_auth, sender
 * ownership) for mail that never meets check_policy_service: setups without
 * the policy hook, and local submissions (non_smtpd_milters). SMTP mail is
 * judged at MAIL. Local mail is judged at end of message, where Postfix's
 * cleanup(8) turns a reject into a bounce to the local sender (it must never
 * see one at RCPT, and we never ask for RCPT). Asked in the MAIL state, so rate
 * limits, which the policy service counts at RCPT and END-OF-MESSAGE, are not
 * counted twice. */
static sfsistat enforce(SMFICTX *ctx, const struct conn *c)
{
    const struct sh_milter_conf *mc = c->snap->milter;
    struct policy_facts f = {.state = POLICY_STATE_MAIL};
    struct policy_verdict v;

    if (c->snap->policy == NULL)
        return SMFIS_CONTINUE;
    /* Local submissions carry no SASL login and no TLS: by default the local
     * user counts as authenticated (see local_submission in smarthostd.conf). */
    if (c->local && (mc == NULL || mc->local_submission == SH_LOCAL_TRUST))
        return SMFIS_CONTINUE;
    f.sender = fact(c->sender);
    f.sender_external = true; /* the client's MAIL FROM text: cleanup rewrites it later */
    f.sasl_username = fact(c->auth_authen);
    f.tls = c->tls_version[0] != 0;
    if (c->qid[0])
        f.queue_id = fact(c->qid);
    policy_eval(c->snap, &f, NULL, time(NULL), &v);
    sh_metrics_policy_verdict(&v);
    if (v.action == POLICY_REJECT)
        return outcome_reply(ctx, c, SH_PERM, v.text, SH_MR_POLICY, false);
    if (v.action == POLICY_DEFER_IF_PERMIT) /* rate limits: not asked in the MAIL state */
        return outcome_reply(ctx, c, SH_TEMP, v.text, SH_MR_POLICY, false);
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_envfrom(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);

    if (c == NULL || c->snap == NULL || c->failed)
        return outcome_reply(ctx, c, SH_TEMP, "no connection state", SH_MR_ERROR, false);
    sh_msg_reset(&c->msg);
    c->qid[0] = 0;
    c->auth_authen[0] = 0; /* a login, like its absence, holds for this MAIL only */
    copy_macro(ctx, "i", c->qid, sizeof(c->qid)); /* Postfix knows it at MAIL already */
    copy_macro(ctx, "{auth_authen}", c->auth_authen, sizeof(c->auth_authen));
    copy_macro(ctx, "{tls_version}", c->tls_version, sizeof(c->tls_version));
    c->bad_sender = argv[0] == NULL || !sh_envelope_addr(argv[0], c->sender, sizeof(c->sender));
    if (c->bad_sender) {
        c->sender[0] = 0;
        if (!(c->proto & SMFIP_NR_MAIL))
            return outcome_reply(ctx, c, SH_PERM, "invalid envelope sender", SH_MR_SENDER, false);
    }
    if (c->local || (c->proto & SMFIP_NR_MAIL))
        return no_reply(c, SMFIP_NR_MAIL);
    return enforce(ctx, c);
}

static sfsistat mlfi_header(SMFICTX *ctx, char *name, char *value)
{
    struct conn *c = conn_of(ctx);

    if (c == NULL) /* no state, and maybe no reply expected: end of message tempfails */
        return no_reply(c, SMFIP_NR_HDR);
    /* Over a bound: keep reading, the plan rejects at end of message. */
    sh_msg_add(&c->msg, name, value ? value : "");
    return no_reply(c, SMFIP_NR_HDR);
}

static enum sh_outcome apply(SMFICTX *ctx, const struct sh_plan *p, const char **why)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct sh_edit *e = &p->e[i];
        int rc = MI_FAILURE;
        unsigned kind = ED_ADDED;
        switch (e->kind) {
        case SH_EDIT_INSERT:
            rc = smfi_insheader(ctx, (int)e->idx, e->name, e->value);
            kind = ED_INSERTED;
            break;
        case SH_EDIT_CHANGE:
            rc = smfi_chgheader(ctx, e->name, (int)e->idx, e->value);
            kind = e->value ? ED_REPLACED : ED_REMOVED;
            break;
        case SH_EDIT_ADD:
            rc = smfi_addheader(ctx, e->name, e->value);
            kind = ED_ADDED;
            break;
        case SH_EDIT_CHGFROM:
            rc = smfi_chgfrom(ctx, e->value, NULL);
            kind = ED_SENDER;
            break;
        }
        if (rc != MI_SUCCESS) {
            *why = "the MTA refused a header change";
            return SH_TEMP;
        }
        sh_ctr_inc(edit_ctr[kind]);
    }
    return SH_FOUND;
}

static void unique_token(const struct conn *c, char *out, size_t cap)
{
    unsigned char r[8] = {0};
    char hex[17];

    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(r, &ts.tv_nsec, sizeof(ts.tv_nsec) < 8 ? sizeof(ts.tv_nsec) : 8);
    }
    for (int i = 0; i < 8; i++) {
        hex[2 * i] = "0123456789abcdef"[r[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
    }
    hex[16] = 0;
    snprintf(out, cap, "%s%s%s", c->qid[0] ? c->qid : "", c->qid[0] ? "." : "", hex);
}

static sfsistat mlfi_eom(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    struct sh_plan plan;
    struct sh_msg_env env;
    char unique[96];
    const char *why = NULL;
    enum sh_outcome o;

    if (c == NULL || c->snap == NULL)
        return outcome_reply(ctx, c, SH_TEMP, "no connection state", SH_MR_ERROR, false);
    copy_macro(ctx, "i", c->qid, sizeof(c->qid));
    if (c->bad_sender) {
        sh_msg_reset(&c->msg);
        return outcome_reply(ctx, c, SH_PERM, "invalid envelope sender", SH_MR_SENDER, false);
    }
    if (c->local) {
        sfsistat r = enforce(ctx, c);
        if (r != SMFIS_CONTINUE) {
            sh_msg_reset(&c->msg);
            return r;
        }
    }
    unique_token(c, unique, sizeof(unique));
    env.sender = c->sender;
    env.now = time(NULL);
    env.unique = unique;
    env.hostname = default_hostname;
    o = sh_plan_build(c->snap, &c->msg, &env, &plan);
    why = plan.why;
    c->unjudged = plan.unjudged;
    if (o == SH_FOUND)
        o = apply(ctx, &plan, &why);
    if (o == SH_FOUND && plan.n > 0 && msg_verbose)
        msg_info("%s: milter: %zu header edit(s)", qid_of(c), plan.n);
    {
        char text[sizeof(plan.why_text)];
        sfsistat r;
        snprintf(text, sizeof(text), "%s", why ? why : "internal error"); /* may be plan's */
        sh_plan_free(&plan);
        sh_msg_reset(&c->msg);
        r = outcome_reply(ctx, c, o, text,
                          o == SH_PERM || c->unjudged ? SH_MR_HEADERS : SH_MR_ERROR, true);
        c->unjudged = false;
        return r;
    }
}

static sfsistat mlfi_abort(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    if (c)
        sh_msg_reset(&c->msg);
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_close(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    if (c) {
        sh_msg_reset(&c->msg);
        sh_snapshot_release(c->snap);
        explicit_bzero(c, sizeof(*c));
        free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc sh_mlfi_desc = {
    .xxfi_name = "smarthostd-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM,
    .xxfi_connect = mlfi_connect,
    .xxfi_helo = mlfi_helo,
    .xxfi_envfrom = mlfi_envfrom,
    .xxfi_header = mlfi_header,
    .xxfi_eom = mlfi_eom,
    .xxfi_abort = mlfi_abort,
    .xxfi_close = mlfi_close,
    .xxfi_negotiate = mlfi_negotiate,
};
