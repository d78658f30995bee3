/* policy_rules.c - SMTP-time rules: who may send as whom, TLS/auth per sender
 * domain, relay guard, rate limits. Knows requests and snapshots, no wire. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "msg.h"
#include "policy_conf.h"
#include "policy_rules.h"
#include "ratelimit.h"
#include "resolve.h"
#include "strmap.h"

const char *policy_reason_name(enum policy_reason r)
{
    switch (r) {
    case PR_NONE:
        return "none";
    case PR_BAD_SENDER:
        return "bad-sender";
    case PR_BAD_RECIPIENT:
        return "bad-recipient";
    case PR_BAD_LOGIN:
        return "bad-sasl-username";
    case PR_TLS_REQUIRED:
        return "require_tls";
    case PR_AUTH_REQUIRED:
        return "require_auth";
    case PR_NOT_OWNER:
        return "login-mismatch";
    case PR_RELAY_DENIED:
        return "relay_guard";
    case PR_SIZE_LIMIT:
        return "max_size";
    case PR_RATE_LIMIT:
        return "rate-limit";
    case PR_STORE_FULL:
        return "rate-store-full";
    case PR_STORE_DOWN:
        return "rate-store-down";
    case PR_STORE_DOWN_ALLOWED:
        return "rate-store-down-allowed";
    }
    return "?";
}

static const struct sh_sender_item *sender_match(const struct sh_sender_set *set, const char *key,
                                                 const char *delims)
{
    return sh_sender_set_match(set, key, delims);
}

static bool client_trusted(const struct sh_policy_conf *p, const struct policy_fact *addr)
{
    return addr->p != NULL && sh_cidr_match_text(p->trusted, p->ntrusted, addr->p, addr->len);
}

/* Lowercase copy of a value into OUT (SH_MAX_KEY + 1 bytes); false when it is
 * too long or holds a control byte: a value no rule can judge. */
static bool fact_copy(const struct policy_fact *v, char *out)
{
    if (v->p == NULL) {
        out[0] = 0;
        return true;
    }
    return sh_sender_key(v->p, v->len, out) >= 0;
}

static void verdict(struct policy_verdict *v, enum policy_action a, enum policy_reason r,
                    const struct sh_origin *o, const char *rule, const char *fmt, ...)
    SH_PRINTF(6, 7);

static void verdict(struct policy_verdict *v, enum policy_action a, enum policy_reason r,
                    const struct sh_origin *o, const char *rule, const char *fmt, ...)
{
    va_list ap;

    v->action = a;
    v->reason = r;
    v->rule = rule;
    va_start(ap, fmt);
    vsnprintf(v->text, sizeof(v->text), fmt, ap);
    va_end(ap);
    if (o)
        snprintf(v->detail, sizeof(v->detail), "rule=%s origin=%s:%d", rule, o->file, o->line);
    else
        snprintf(v->detail, sizeof(v->detail), "rule=%s", rule);
}

struct ctx {
    const struct sh_snapshot *s;
    const struct sh_policy_conf *p;
    char sender[SH_MAX_KEY + 1]; /* normalized; "" for the null sender */
    char noext[SH_MAX_KEY + 1];  /* without its extension: what rate limits count */
    char user[SH_MAX_KEY + 1];   /* sasl_username, lowercase; "" when unauthenticated */
    char rcpt[SH_MAX_KEY + 1];   /* recipient, lowercase; "" when none */
    char shown[SH_LOG_TEXT_MAX]; /* the sender as the client wrote it, for reply texts */
};

static bool sender_rules(struct ctx *c, const struct policy_facts *f, struct policy_verdict *v)
{
    const struct sh_policy_conf *p = c->p;
    const struct sh_sender_item *it;

    if (c->sender[0] == 0)
        return false; /* the null sender: bounces are nobody's to own */
    if (!f->tls && (it = sender_match(&p->require_tls, c->sender, c->s->delimiters)) != NULL) {
        verdict(v, POLICY_REJECT, PR_TLS_REQUIRED, &it->origin, it->key,
                "5.7.1 <%s>: Sender address rejected: must use STARTTLS", c->shown);
        return true;
    }
    if (c->user[0] == 0 &&
        (it = sender_match(&p->require_auth, c->sender, c->s->delimiters)) != NULL) {
        verdict(v, POLICY_REJECT, PR_AUTH_REQUIRED, &it->origin, it->key,
                "5.7.1 <%s>: Sender address rejected: authentication required", c->shown);
        return true;
    }
    if (c->user[0] && p->nlogins > 0) {
        const struct policy_login *l = strmap_get(p->login_index, c->user, strlen(c->user));
        if (l == NULL || sender_match(&l->senders, c->sender, c->s->delimiters) == NULL) {
            char shown_user[SH_LOG_TEXT_MAX];
            msg_printable(shown_user, sizeof(shown_user), c->user, strlen(c->user));
            verdict(v, POLICY_REJECT, PR_NOT_OWNER, l ? &l->origin : NULL,
                    l ? l->user : "unlisted-user",
                    "5.7.1 <%s>: Sender address rejected: not owned by user %s", c->shown,
                    shown_user);
            return true;
        }
    }
    return false;
}

static bool domain_local(void *ctx, const char *dom)
{
    return sh_domain_set_has(ctx, dom);
}

static bool relay_guard(struct ctx *c, const struct policy_facts *f, struct policy_verdict *v)
{
    const struct sh_policy_conf *p = c->p;

    const char *why;
    char key[SH_MAX_KEY + 1];
    bool local;

    if (!p->relay_guard || c->user[0] || c->rcpt[0] == 0)
        return false; /* no recipient in this state */
    if (client_trusted(p, &f->client_address))
        return false;
    /* As smtpd's own relay check resolves it (canon.h): a bare name gets
     * $myorigin, user%remote@local and remote!user@local go to remote. */
    switch (sh_canon_recipient(&c->s->canon, f->recipient.p, f->recipient.len, SH_CANON_INTERNAL,
                               domain_local, (void *)&p->local_domains, key, &local, &why)) {
    case SH_CANON_OK:
        break;
    case SH_CANON_NULL:
        return false;
    case SH_CANON_UNJUDGEABLE:
        verdict(v, POLICY_REJECT, PR_BAD_RECIPIENT, NULL, "input",
                "5.1.3 Recipient address cannot be judged: %s", why);
        return true;
    }
    if (local)
        return false;
    verdict(v, POLICY_REJECT, PR_RELAY_DENIED, &p->origin, "relay_guard",
            "5.7.1 Relay access denied");
    return true;
}

/* max_size for the sender's most specific pattern. The actual size comes at
 * END-OF-MESSAGE; a SIZE= the client declared at MAIL FROM is already there
 * at RCPT (0 when none), so a declared oversize is refused before DATA, as
 * smtpd does for message_size_limit. */
static bool size_rule(struct ctx *c, const struct policy_facts *f, struct policy_verdict *v)
{
    const struct sh_sender_item *it;
    unsigned long size = f->size;

    if (c->sender[0] == 0 || c->p->max_size.n == 0 ||
        !(f->state == POLICY_STATE_EOM || f->state == POLICY_STATE_RCPT) || !f->has_size ||
        (it = sender_match(&c->p->max_size, c->sender, c->s->delimiters)) == NULL ||
        size <= it->value)
        return false;
    /* smtpd's own words for message_size_limit (552 5.3.4) */
    verdict(v, POLICY_REJECT, PR_SIZE_LIMIT, &it->origin, it->key,
            "5.3.4 Message size exceeds fixed limit");
    snprintf(v->detail + strlen(v->detail), sizeof(v->detail) - strlen(v->detail),
             " size=%lu limit=%lu", size, it->value);
    return true;
}

/* The counted value of limit L for this request, or NULL when L does not apply. */
static const char *limit_value(const struct ctx *c, const struct policy_limit *l)
{
    const char *at = strrchr(c->noext, '@');

    if (l->match.n > 0 &&
        (c->sender[0] == 0 || !sender_match(&l->match, c->sender, c->s->delimiters)))
        return NULL;
    switch (l->per) {
    case POLICY_PER_SASL_USER:
        return c->user[0] ? c->user : NULL;
    case POLICY_PER_SENDER:
        return c->noext[0] ? c->noext : NULL;
    case POLICY_PER_SENDER_DOMAIN:
        return at && at[1] ? at + 1 : NULL;
    case POLICY_PER_RELAY: {
        struct sh_decision d;
        const char *key = c->sender[0] ? c->sender : "<>";
        if (sh_resolve_sender(c->s, key, strlen(key), &d) != SH_FOUND || d.relay == NULL)
            return NULL; /* direct mail spends no relay's budget */
        if (l->relay && l->relay != d.relay)
            return NULL;
        return d.relay->name;
    }
    }
    return NULL;
}

/* The verdict for a limit that did not fit (RL_EXCEEDED) or a store that
 * could not answer; false when the request may pass anyway (fail mode allow). */
static bool limit_verdict(struct ctx *c, const struct policy_limit *l, const char *value, char kind,
                          unsigned limit, enum rl_result r, struct policy_verdict *v)
{
    char shown[SH_LOG_TEXT_MAX];

    v->limit = l;
    if (r == RL_EXCEEDED) {
        msg_printable(shown, sizeof(shown), value, strlen(value));
        verdict(v, POLICY_DEFER_IF_PERMIT, PR_RATE_LIMIT, &l->origin, l->name,
                "4.7.1 %s rate limit exceeded, retry later", kind == 'm' ? "Message" : "Recipient");
        snprintf(v->detail + strlen(v->detail), sizeof(v->detail) - strlen(v->detail),
                 " %s=%s limit=%u/%us", policy_per_name(l->per), shown, limit, l->window);
        return true;
    }
    if (r == RL_FULL) { /* never a way past the limits, whatever the fail mode */
        verdict(v, POLICY_DEFER_IF_PERMIT, PR_STORE_FULL, &l->origin, l->name,
                "4.7.1 Rate limit service busy, retry later");
        return true;
    }
    if (c->p->fail_mode == POLICY_FAIL_DEFER) {
        verdict(v, POLICY_DEFER_IF_PERMIT, PR_STORE_DOWN, &l->origin, l->name,
                "4.7.1 Rate limit service unavailable, retry later");
        return true;
    }
    verdict(v, POLICY_DUNNO, PR_STORE_DOWN_ALLOWED, &l->origin, l->name, "%s", "");
    return false;
}

/* Every applicable limit's counters for this request, taken in one store call:
 * when one limit defers, no other limit's budget is spent on the request. */
struct pending {
    struct rl_take t[RL_MAX_TAKES];
    const struct policy_limit *l[RL_MAX_TAKES];
    const char *value[RL_MAX_TAKES];
    char kind[RL_MAX_TAKES];
    char (*key)[RL_MAX_KEY]; /* on the heap: 2 per limit */
    size_t n;
};

_Static_assert(2 * POLICY_MAX_LIMITS <= RL_MAX_TAKES, "a request's takes fit one store call");

static void pend(struct pending *pd, const struct policy_limit *l, const char *value, char kind,
                 unsigned limit, bool commit, time_t now)
{
    size_t i = pd->n++;

    snprintf(pd->key[i], sizeof(pd->key[i]), "%s|%c|%s", l->name, kind, value);
    pd->t[i] = (struct rl_take){.key = pd->key[i],
                                .now = now,
                                .window = l->window,
                                .n = 1,
                                .limit = limit,
                                .commit = commit};
    pd->l[i] = l;
    pd->value[i] = value;
    pd->kind[i] = kind;
}

static bool rate_limits(struct ctx *c, const struct policy_facts *f, struct rl_store *memory,
                        time_t now, struct policy_verdict *v)
{
    const struct sh_policy_conf *p = c->p;
    struct rl_store *st = p->redis ? p->redis : memory;
    bool rcpt = f->state == POLICY_STATE_RCPT;
    bool eom = f->state == POLICY_STATE_EOM;
    struct pending pending, *pd = &pending;
    enum rl_result r;
    size_t failed;
    bool stop;

    if ((!rcpt && !eom) || p->nlimits == 0)
        return false;
    if (st == NULL) /* the caller has no store for us: as if it were down */
        return limit_verdict(c, &p->limits[0], "", 'm', 0, RL_UNAVAILABLE, v);
    if ((pd->key = malloc(2 * p->nlimits * sizeof(*pd->key))) == NULL)
        return limit_verdict(c, &p->limits[0], "", 'm', 0, RL_UNAVAILABLE, v);
    pd->n = 0;
    for (size_t i = 0; i < p->nlimits; i++) {
        const struct policy_limit *l = &p->limits[i];
        const char *value = limit_value(c, l);

        if (value == NULL)
            continue;
        /* At RCPT each recipient counts and a spent message budget defers early;
         * at END-OF-MESSAGE the message counts. */
        if (rcpt && l->recipients)
            pend(pd, l, value, 'r', l->recipients, true, now);
        if (l->messages)
            pend(pd, l, value, 'm', l->messages, eom, now);
    }
    r = rl_take_all(st, pd->t, pd->n, &failed);
    stop = r != RL_OK && limit_verdict(c, pd->l[failed], pd->value[failed], pd->kind[failed],
                                       pd->t[failed].limit, r, v);
    free(pd->key);
    return stop;
}

/* A value no rule can judge is refused, never waved past the rules. */
static bool unjudgeable(struct policy_verdict *v, enum policy_reason r, const char *text)
{
    verdict(v, POLICY_REJECT, r, NULL, "input", "%s", text);
    return true;
}

static bool load_facts(struct ctx *c, const struct policy_facts *f, struct policy_verdict *v)
{
    const struct policy_fact *sv = &f->sender;
    const char *at;

    /* RFC 3463: 5.1.7 bad sender mailbox syntax, 5.1.3 bad destination mailbox
     * syntax, 5.7.0 a security matter (the login) */
    const char *why;
    size_t local;

    if (!fact_copy(sv, c->sender))
        return unjudgeable(v, PR_BAD_SENDER, "5.1.7 Sender address too long or malformed to judge");
    /* the sender cleanup(8) will queue, not the text the client sent */
    switch (sh_canon_sender(&c->s->canon, sv->p ? sv->p : "", sv->p ? sv->len : 0,
                            f->sender_external ? SH_CANON_EXTERNAL : SH_CANON_INTERNAL, c->sender,
                            &why)) {
    case SH_CANON_OK:
        break;
    case SH_CANON_NULL:
        c->sender[0] = 0;
        break;
    case SH_CANON_UNJUDGEABLE:
        verdict(v, POLICY_REJECT, PR_BAD_SENDER, NULL, "input",
                "5.1.7 Sender address cannot be judged: %s", why);
        return true;
    }
    if (!fact_copy(&f->recipient, c->rcpt))
        return unjudgeable(v, PR_BAD_RECIPIENT,
                           "5.1.3 Recipient address too long or malformed to judge");
    if (!fact_copy(&f->sasl_username, c->user))
        return unjudgeable(v, PR_BAD_LOGIN, "5.7.0 Login name too long or malformed to judge");
    msg_printable(c->shown, sizeof(c->shown), sv->p ? sv->p : "", sv->p ? sv->len : 0);
    strcpy(c->noext, c->sender);
    at = strrchr(c->sender, '@');
    if (at && (local = sh_canon_noext(c->sender, strlen(c->sender), c->s->delimiters)) > 0)
        strcpy(c->noext + local, at);
    return false;
}

void policy_eval(const struct sh_snapshot *s, const struct policy_facts *f, struct rl_store *memory,
                 time_t now, struct policy_verdict *v)
{
    struct ctx c;

    memset(v, 0, sizeof(*v));
    v->action = POLICY_DUNNO;
    if (s == NULL || (c.p = s->policy) == NULL)
        return; /* no policy group: no rule to apply */
    c.s = s;
    if (load_facts(&c, f, v) || sender_rules(&c, f, v) || relay_guard(&c, f, v) ||
        size_rule(&c, f, v))
        return;
    rate_limits(&c, f, memory, now, v);
}

/* ---- smarthostctl route ---- */

void sh_policy_explain(const struct sh_snapshot *s, const char *sender, FILE *out)
{
    const struct sh_policy_conf *p = s->policy;
    const struct sh_sender_item *it;
    char key[SH_MAX_KEY + 1];
    struct ctx c = {.s = s, .p = p};
    size_t nusers = 0;

    if (p == NULL)
        return; /* no policy group: nothing is checked at SMTP time */
    const char *why;
    enum sh_canon_result cr =
        strcmp(sender, "<>") == 0
            ? SH_CANON_NULL
            : sh_canon_sender(&s->canon, sender, strlen(sender), SH_CANON_INTERNAL, key, &why);

    if (cr == SH_CANON_UNJUDGEABLE) {
        fprintf(out, "policy=invalid-sender\n");
        return;
    }
    if (cr == SH_CANON_NULL)
        key[0] = 0;
    if (key[0] && (it = sender_match(&p->require_tls, key, s->delimiters)) != NULL)
        fprintf(out, "policy_require_tls=yes rule=%s origin=%s:%d\n", it->key, it->origin.file,
                it->origin.line);
    else
        fprintf(out, "policy_require_tls=no\n");
    if (key[0] && (it = sender_match(&p->require_auth, key, s->delimiters)) != NULL)
        fprintf(out, "policy_require_auth=yes rule=%s origin=%s:%d\n", it->key, it->origin.file,
                it->origin.line);
    else
        fprintf(out, "policy_require_auth=no\n");
    if (p->nlogins == 0) {
        fprintf(out, "policy_logins=any\n");
    } else if (key[0] == 0) {
        fprintf(out, "policy_logins=any (null sender)\n");
    } else {
        fprintf(out, "policy_logins=");
        for (size_t i = 0; i < p->nlogins; i++)
            if (sender_match(&p->logins[i].senders, key, s->delimiters))
                fprintf(out, "%s%s", nusers++ ? "," : "", p->logins[i].user);
        fprintf(out, "%s\n", nusers ? "" : "none");
    }
    fprintf(out, "policy_relay_guard=%s\n", p->relay_guard ? "on" : "off");
    if (key[0] && (it = sender_match(&p->max_size, key, s->delimiters)) != NULL)
        fprintf(out, "policy_max_size=%lu rule=%s origin=%s:%d\n", it->value, it->key,
                it->origin.file, it->origin.line);
    strcpy(c.sender, key);
    strcpy(c.noext, key); /* the per-sender key is not shown; the extension does not matter */
    c.user[0] = 'x';      /* "some user": per-user limits apply to every authenticated client */
    c.user[1] = 0;
    for (size_t i = 0; i < p->nlimits; i++) {
        const struct policy_limit *l = &p->limits[i];
        if (limit_value(&c, l) == NULL)
            continue;
        fprintf(out, "policy_rate_limit=%s per=%s", l->name, policy_per_name(l->per));
        if (l->messages)
            fprintf(out, " messages=%u/%us", l->messages, l->window);
        if (l->recipients)
            fprintf(out, " recipients=%u/%us", l->recipients, l->window);
        fprintf(out, " origin=%s:%d\n", l->origin.file, l->origin.line);
    }
    fprintf(out, "policy_rate_store=%s\n", p->redis ? p->redis_address : "memory");
}
