/* policy_server.c - policy requests in, rules, action= replies out. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "msg.h"
#include "policy_facts.h"
#include "policy_conf.h"
#include "policy_server.h"
#include "ratelimit.h"
#include "snapshot.h"

/* In-process counters outlive reloads: a new snapshot keeps the budgets spent. */
static struct rl_store *memory_store;
static pthread_once_t memory_once = PTHREAD_ONCE_INIT;

static void memory_init(void)
{
    if ((memory_store = rl_memory_new(RL_MEMORY_MAX_KEYS)) == NULL)
        msg_warn("policy: no memory for rate-limit counters; the fail mode applies");
}

struct rl_store *policy_memory_store(void)
{
    pthread_once(&memory_once, memory_init);
    return memory_store;
}

/* The one place where a verdict becomes policy wire text. */
static bool reply(struct sh_conn *c, const struct policy_verdict *v)
{
    static const char *const word[] = {
        [POLICY_DUNNO] = "DUNNO",
        [POLICY_REJECT] = "REJECT",
        [POLICY_DEFER_IF_PERMIT] = "DEFER_IF_PERMIT",
    };
    char buf[POLICY_MAX_REPLY];
    int n;

    if ((unsigned)v->action >= sizeof(word) / sizeof(word[0]))
        return false; /* a bug: disconnect rather than say something wrong */
    if (v->action == POLICY_DUNNO)
        n = snprintf(buf, sizeof(buf), "action=DUNNO\n\n");
    else
        n = snprintf(buf, sizeof(buf), "action=%s %s\n\n", word[v->action], v->text);
    if (n < 0 || (size_t)n >= sizeof(buf) || memchr(buf, '\n', (size_t)n - 2) != NULL)
        return false;
    return sh_conn_send(c, buf, (size_t)n);
}

static const char *show(char *buf, size_t cap, const struct policy_value *v, const char *absent)
{
    return v->p && v->len ? msg_printable(buf, cap, v->p, v->len) : absent;
}

static void log_decision(const struct sh_snapshot *s, const struct policy_request *req,
                         const struct policy_verdict *v)
{
    static const char *const word[] = {
        [POLICY_DUNNO] = "DUNNO",
        [POLICY_REJECT] = "REJECT",
        [POLICY_DEFER_IF_PERMIT] = "DEFER_IF_PERMIT",
    };
    char qb[40], sb[SH_LOG_TEXT_MAX], rb[SH_LOG_TEXT_MAX], ub[SH_LOG_TEXT_MAX], stb[24];
    char cnb[SH_LOG_TEXT_MAX], cab[64];

    if (v->action == POLICY_DUNNO && v->reason == PR_NONE && !s->log_lookups)
        return;
    /* Postfix's own log lines start with the queue id: keep it first for grep. The
     * client is the SMTP client as smtpd logs it (name[address]), not our socket peer. */
    msg_info("%s: policy: sender=<%s> recipient=<%s> sasl_username=<%s> state=%s "
             "client=%s[%s] action=%s%s%s reason=%s%s%s",
             show(qb, sizeof(qb), &req->attr[PA_QUEUE_ID], "NOQUEUE"),
             show(sb, sizeof(sb), &req->attr[PA_SENDER], ""),
             show(rb, sizeof(rb), &req->attr[PA_RECIPIENT], ""),
             show(ub, sizeof(ub), &req->attr[PA_SASL_USERNAME], ""),
             show(stb, sizeof(stb), &req->attr[PA_PROTOCOL_STATE], "-"),
             show(cnb, sizeof(cnb), &req->attr[PA_CLIENT_NAME], "unknown"),
             show(cab, sizeof(cab), &req->attr[PA_CLIENT_ADDRESS], "unknown"), word[v->action],
             v->text[0] ? " " : "", v->text, policy_reason_name(v->reason), v->detail[0] ? " " : "",
             v->detail);
}

/* Peers can send malformed requests at will: their warnings share one budget. */
static struct msg_rate bad_input_rate = MSG_RATE_INIT;

static ssize_t on_input(struct sh_conn *c, const char *buf, size_t len, void *wake)
{
    const struct sh_snapshot *s = wake;
    struct policy_request req;
    struct policy_facts f;
    struct policy_verdict v;
    const char *why;
    size_t used;

    switch (policy_parse(buf, len, &req, &used, &why)) {
    case POLICY_NEED_MORE:
        return SH_INPUT_NEED_MORE;
    case POLICY_MALFORMED:
        msg_warn_rate(&bad_input_rate, "policy: %s: malformed request (%s); disconnecting",
                      sh_conn_peer(c), why);
        return SH_INPUT_CLOSE;
    case POLICY_OK:
        break;
    }
    if (s == NULL) {
        msg_warn_rate(&bad_input_rate, "policy: %s: no configuration loaded; disconnecting",
                      sh_conn_peer(c));
        return SH_INPUT_CLOSE;
    }
    /* SMTPD_POLICY_README: "The request attribute is required"; Postfix's own
     * example server exits on any other type. Answering DUNNO would let a
     * misconfigured client pass mail unchecked: treat it as malformed. */
    if (!policy_attr_is(&req, PA_REQUEST, "smtpd_access_policy")) {
        char rb[64];
        msg_warn_rate(&bad_input_rate,
                      "policy: %s: unrecognized request type \"%s\"; disconnecting",
                      sh_conn_peer(c), show(rb, sizeof(rb), &req.attr[PA_REQUEST], ""));
        return SH_INPUT_CLOSE;
    }
    pthread_once(&memory_once, memory_init);
    policy_facts_of(&req, &f);
    policy_eval(s, &f, memory_store, time(NULL), &v);
    sh_metrics_policy_verdict(&v);
    if (v.limit && v.action == POLICY_DEFER_IF_PERMIT)
        sh_ctr_inc(v.limit->ctr_deferrals);
    log_decision(s, &req, &v);
    if (!reply(c, &v)) {
        msg_warn_rate(&bad_input_rate, "policy: %s: cannot queue the reply; disconnecting",
                      sh_conn_peer(c));
        return SH_INPUT_CLOSE;
    }
    return (ssize_t)used;
}

const struct sh_proto sh_policy_proto = {
    .name = "policy",
    .max_input = POLICY_MAX_REQUEST,
    .max_reply = POLICY_MAX_REPLY,
    /* Postfix keeps an idle policy connection up to smtpd_policy_service_max_idle
     * (300 s). Closed earlier, its next request fails and is retried after
     * smtpd_policy_service_retry_delay (1 s), inside a client's SMTP session. */
    .idle_timeout = 330,
    .on_input = on_input,
};
