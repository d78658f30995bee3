/* headers.c - decide what happens to each header of one message. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addrlist.h"
#include "canon.h"
#include "header_checks.h"
#include "headers.h"
#include "milter_conf.h"
#include "msg.h"
#include "resolve.h"

#define MAX_TOKEN 300

/* ---- the message ---- */

void sh_msg_init(struct sh_msg *m)
{
    memset(m, 0, sizeof(*m));
}

void sh_msg_reset(struct sh_msg *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->h[i].name);
        free(m->h[i].value);
    }
    free(m->h);
    sh_msg_init(m);
}

bool sh_msg_add(struct sh_msg *m, const char *name, const char *value)
{
    size_t nl = strnlen(name, SH_MILTER_MAX_HEADER + 1);
    size_t vl = strnlen(value, SH_MILTER_MAX_HEADER + 1);

    if (m->oversize || m->n >= SH_MILTER_MAX_HEADERS || nl + vl > SH_MILTER_MAX_HEADER ||
        m->bytes + nl + vl > SH_MILTER_MAX_HEADER_BYTES) {
        m->oversize = true;
        return false;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        struct sh_hdr *h = reallocarray(m->h, cap, sizeof(*h));
        if (h == NULL) {
            m->oversize = true;
            return false;
        }
        m->h = h;
        m->cap = cap;
    }
    m->h[m->n].name = strndup(name, nl);
    m->h[m->n].value = strndup(value, vl);
    if (m->h[m->n].name == NULL || m->h[m->n].value == NULL) {
        free(m->h[m->n].name);
        free(m->h[m->n].value);
        m->oversize = true;
        return false;
    }
    m->n++;
    m->bytes += nl + vl;
    return true;
}

/* ---- the plan ---- */

void sh_plan_free(struct sh_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->e[i].name);
        free(p->e[i].value);
    }
    free(p->e);
    memset(p, 0, sizeof(*p));
}

static bool plan_push(struct sh_plan *p, enum sh_edit_kind kind, const char *name,
                      const char *value, unsigned idx)
{
    struct sh_edit *e;

    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        if ((e = reallocarray(p->e, cap, sizeof(*e))) == NULL)
            return false;
        p->e = e;
        p->cap = cap;
    }
    e = &p->e[p->n];
    e->kind = kind;
    e->idx = idx;
    e->name = name ? strdup(name) : NULL;
    e->value = value ? strdup(value) : NULL;
    if ((name && !e->name) || (value && !e->value)) {
        free(e->name);
        free(e->value);
        return false;
    }
    p->n++;
    return true;
}

/* ---- privacy ---- */

bool sh_received_internal(const struct sh_milter_conf *c, const char *value)
{
    const char *p = value, *end = strchr(value, ';'); /* the date part names no host */
    char tok[MAX_TOKEN + 1];

    if (end == NULL)
        end = value + strlen(value);
    while (p < end) {
        size_t len;
        while (p < end && strchr(" \t\r\n()[];=,", *p))
            p++;
        len = strcspn(p, " \t\r\n()[];=,");
        if (p + len > end)
            len = (size_t)(end - p);
        if (len == 0)
            break;
        if (len <= MAX_TOKEN && !memchr(p, '@', len) && !memchr(p, '<', len)) {
            if (sh_cidr_match_text(c->nets, c->nnets, p, len))
                return true;
            memcpy(tok, p, len);
            tok[len] = 0;
            if (len > 1 && tok[len - 1] == '.')
                tok[len - 1] = 0;
            for (size_t i = 0; i < c->nhost_patterns; i++)
                if (fnmatch(c->host_patterns[i], tok, FNM_CASEFOLD) == 0)
                    return true;
        }
        p += len;
    }
    return false;
}

static bool privacy_removes(const struct sh_milter_conf *c, const struct sh_hdr *h)
{
    if (!c->privacy)
        return false;
    if (strcasecmp(h->name, "Received") == 0)
        return sh_received_internal(c, h->value);
    if (c->remove_originating && (strcasecmp(h->name, "X-Originating-IP") == 0 ||
                                  strcasecmp(h->name, "X-PHP-Originating-Script") == 0))
        return true;
    return c->remove_mailer &&
           (strcasecmp(h->name, "X-Mailer") == 0 || strcasecmp(h->name, "User-Agent") == 0);
}

/* ---- rule matching ---- */

enum fate { KEEP, DELETE, CHANGE };

struct hdr_plan {
    enum fate fate;
    char *value;    /* CHANGE: the new value */
    char *ins_name; /* a header line inserted before this one */
    char *ins_value;
    unsigned nth; /* 1-based among same-name headers, before any edit */
};

static int match(const pcre2_code *re, const char *subject, size_t len, pcre2_match_data *md)
{
    return pcre2_match(re, (PCRE2_SPTR)subject, len, 0, 0, md, NULL);
}

/* Expand $N / ${N} / $$ of TEMPLATE with the captures in MD. */
static bool expand(const char *tmpl, const char *subject, pcre2_match_data *md, int rc, char *out,
                   size_t cap)
{
    PCRE2_SIZE *ov = md ? pcre2_get_ovector_pointer(md) : NULL;
    size_t o = 0;

    for (const char *p = tmpl; *p; p++) {
        const char *src = p;
        size_t slen = 1;
        if (*p == '$' && p[1] == '$') {
            p++;
        } else if (*p == '$' && (isdigit((unsigned char)p[1]) || p[1] == '{')) {
            bool brace = p[1] == '{';
            char *endp;
            unsigned long n = strtoul(p + 1 + brace, &endp, 10);
            if (endp == p + 1 + brace || (brace && *endp != '}'))
                return false;
            p = endp - !brace;
            if (ov && n < (unsigned long)rc && ov[2 * n] != PCRE2_UNSET) {
                src = subject + ov[2 * n];
                slen = ov[2 * n + 1] - ov[2 * n];
            } else
                slen = 0;
        }
        if (o + slen >= cap)
            return false;
        memcpy(out + o, src, slen);
        o += slen;
    }
    out[o] = 0;
    return true;
}

/* Split "Name: value" (validated) into freshly allocated parts. */
static bool split_line(const char *line, char **name, char **value)
{
    const char *colon = strchr(line, ':');
    const char *v;

    if (colon == NULL || colon == line)
        return false;
    for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
        ;
    *name = strndup(line, (size_t)(colon - line));
    *value = strdup(v);
    return *name && *value;
}

/* Apply the header_checks rules to H; first match wins, as in Postfix. */
static enum sh_outcome header_checks(const struct sh_milter_conf *c, const struct sh_hdr *h,
                                     struct hdr_plan *hp, char *buf, pcre2_match_data *md,
                                     const char **why)
{
    size_t nl = strlen(h->name), vl = strlen(h->value), len = nl + 2 + vl;
    char *line = malloc(len + 1);
    enum sh_outcome out = SH_FOUND;

    if (line == NULL)
        return (*why = "out of memory"), SH_TEMP;
    memcpy(line, h->name, nl);
    memcpy(line + nl, ": ", 2);
    memcpy(line + nl + 2, h->value, vl + 1);
    for (size_t i = c->nconfig_rules; i < c->nrules; i++) {
        const struct sh_hdr_rule *r = &c->rules[i];
        int rc = match(r->re, line, len, md);
        bool hit;

        if (rc < -1) { /* PCRE2_ERROR_NOMATCH is -1; others: limits hit */
            *why = "header_checks pattern failed (match limit)";
            out = SH_TEMP;
            break;
        }
        hit = r->negate ? rc < 0 : rc >= 0;
        if (!hit)
            continue;
        if (r->op == SH_HDR_DUNNO)
            break;
        if (r->op == SH_HDR_WARN) {
            char shown[SH_LOG_TEXT_MAX];
            msg_info("header_checks %s:%d: %s", r->origin.file ? r->origin.file : "rule",
                     r->origin.line, msg_printable(shown, sizeof(shown), line, len));
            break;
        }
        if (r->op == SH_HDR_REMOVE) {
            hp->fate = DELETE;
            break;
        }
        /* REPLACE / PREPEND: a new header line from the template */
        char *name = NULL, *value = NULL;
        if (!expand(r->text, line, r->negate ? NULL : md, rc, buf, SH_MILTER_MAX_HEADER + 1) ||
            !sh_header_line_valid(buf) || !split_line(buf, &name, &value)) {
            free(name);
            free(value);
            *why = "header_checks replacement is not a valid header line";
            out = SH_TEMP;
            break;
        }
        if (r->op == SH_HDR_REPLACE && strcasecmp(name, h->name) == 0) {
            hp->fate = CHANGE;
            hp->value = value;
            free(name);
        } else {
            if (r->op == SH_HDR_REPLACE)
                hp->fate = DELETE;
            hp->ins_name = name;
            hp->ins_value = value;
        }
        break;
    }
    free(line);
    return out;
}

/* Whose mail a message is: its route and its original envelope sender. */
struct who {
    const struct sh_relay *relay;
    const char *sender;
    const char *delims; /* recipient delimiters, for sender patterns */
};

static bool rule_applies(const struct sh_hdr_rule *r, const struct who *w)
{
    return (r->relay == NULL || r->relay == w->relay) &&
           sh_sender_set_has(&r->senders, w->sender, w->delims);
}

static bool name_matches(const struct sh_hdr_rule *r, const char *name, pcre2_match_data *md)
{
    if (r->name)
        return strcasecmp(r->name, name) == 0;
    return match(r->re, name, strlen(name), md) >= 0;
}

/* ---- message-level additions ---- */

static bool present(const struct sh_msg *m, const struct hdr_plan *hp, const struct sh_plan *p,
                    const char *name)
{
    for (size_t i = 0; i < m->n; i++) {
        if (hp[i].fate != DELETE && strcasecmp(m->h[i].name, name) == 0)
            return true;
        if (hp[i].ins_name && strcasecmp(hp[i].ins_name, name) == 0)
            return true;
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->e[i].kind == SH_EDIT_ADD && strcasecmp(p->e[i].name, name) == 0)
            return true;
    return false;
}

bool sh_envelope_addr(const char *in, char *out, size_t cap)
{
    size_t len = strlen(in);

    if (len >= 2 && in[0] == '<' && in[len - 1] == '>') {
        in++;
        len -= 2;
    }
    if (len >= cap)
        return false;
    memcpy(out, in, len);
    out[len] = 0;
    return true;
}

/* The value of an address header (From, Sender) once IDENTITY is its address. One mailbox
 * outside any group keeps everything but its addr-spec: `Alice <a@x>` -> `Alice <identity>`,
 * `a@x (Carol <c@x>)` -> `identity (Carol <c@x>)`, an obs-route inside <> goes with the old
 * address. Several mailboxes (RFC 5322 allows them in From, with a Sender) or groups (RFC
 * 6854) become one mailbox, the first display name and IDENTITY: a relay that accepts only
 * verified senders checks every From address, and mail must not leave under an unverified
 * one beside the identity. NULL when out of memory. */
static char *address_value(const char *old, const struct sh_addrlist *al, const char *identity)
{
    size_t il = strlen(identity), ol = strlen(old);
    char *out;

    if (al->n == 1 && al->ngroups == 0) {
        struct sh_span r = al->mbox[0].angle ? al->mbox[0].inside : al->mbox[0].spec;
        if ((out = malloc(ol - r.len + il + 1)) == NULL)
            return NULL;
        memcpy(out, old, r.off);
        memcpy(out + r.off, identity, il);
        memcpy(out + r.off + il, old + r.off + r.len, ol - r.off - r.len + 1);
        return out;
    }
    struct sh_span name = al->n > 0 ? al->mbox[0].name : (struct sh_span){0, 0};
    if ((out = malloc(name.len + il + 4)) == NULL)
        return NULL;
    if (name.len > 0)
        sprintf(out, "%.*s <%s>", (int)name.len, old + name.off, identity);
    else
        sprintf(out, "<%s>", identity);
    return out;
}

/* Give every NAME header (From, Sender) IDENTITY as its address. SH_PERM: a value the parser
 * refuses, said in WHY; SH_TEMP: out of memory. */
static enum sh_outcome rewrite_addresses(const struct sh_msg *m, struct hdr_plan *hp,
                                         const char *name, const char *identity,
                                         struct sh_addrlist *al, char *why, size_t whycap)
{
    for (size_t i = 0; i < m->n; i++) {
        const char *v, *err;
        size_t at;
        char *nv;

        if (hp[i].fate == DELETE || strcasecmp(m->h[i].name, name) != 0)
            continue;
        v = hp[i].fate == CHANGE ? hp[i].value : m->h[i].value;
        if (!sh_addrlist_parse(v, strlen(v), al, &err, &at)) {
            snprintf(why, whycap, "%s header cannot be parsed: %s at byte %zu", name, err, at);
            return SH_PERM;
        }
        if ((nv = address_value(v, al, identity)) == NULL)
            return SH_TEMP;
        free(hp[i].value);
        hp[i].value = nv;
        hp[i].fate = CHANGE;
    }
    return SH_FOUND;
}

/* The original From values, joined into one address list for Reply-To; NULL when out of
 * memory, "" when there is no From. */
static char *original_from(const struct sh_msg *m, const struct hdr_plan *hp)
{
    size_t len = 0, o = 0;
    char *out;

    for (size_t i = 0; i < m->n; i++)
        if (hp[i].fate != DELETE && strcasecmp(m->h[i].name, "From") == 0)
            len += strlen(hp[i].fate == CHANGE ? hp[i].value : m->h[i].value) + 2;
    if ((out = malloc(len + 1)) == NULL)
        return NULL;
    for (size_t i = 0; i < m->n; i++) {
        if (hp[i].fate == DELETE || strcasecmp(m->h[i].name, "From") != 0)
            continue;
        const char *v = hp[i].fate == CHANGE ? hp[i].value : m->h[i].value;
        if (*v == 0)
            continue;
        o += (size_t)sprintf(out + o, "%s%s", o ? ", " : "", v);
    }
    out[o] = 0;
    return out;
}

/* From (every From header, not only the first) and Sender carry IDENTITY; the original From
 * goes to Reply-To unless there is one. A header the parser refuses makes the message one we
 * cannot judge: SH_PERM with the reason in WHY. */
static enum sh_outcome rewrite_from(const struct sh_msg *m, struct hdr_plan *hp, struct sh_plan *p,
                                    const char *identity, const char *sender, char *why,
                                    size_t whycap)
{
    struct sh_addrlist *al = malloc(sizeof(*al));
    char *orig = NULL;
    enum sh_outcome o = SH_TEMP;
    bool had_from = present(m, hp, p, "From");

    if (al == NULL || (orig = original_from(m, hp)) == NULL)
        goto out;
    if ((o = rewrite_addresses(m, hp, "From", identity, al, why, whycap)) != SH_FOUND ||
        (o = rewrite_addresses(m, hp, "Sender", identity, al, why, whycap)) != SH_FOUND)
        goto out;
    o = SH_TEMP;
    if (!present(m, hp, p, "Reply-To") && *sender) {
        char fallback[SH_MAX_KEY + 3];
        if (*orig == 0)
            snprintf(fallback, sizeof(fallback), "<%s>", sender);
        if (!plan_push(p, SH_EDIT_ADD, "Reply-To", *orig ? orig : fallback, 0))
            goto out;
    }
    if (!had_from) {
        char from[SH_MAX_KEY + 3];
        snprintf(from, sizeof(from), "<%s>", identity);
        if (!plan_push(p, SH_EDIT_ADD, "From", from, 0))
            goto out;
    }
    o = SH_FOUND;
out:
    free(al);
    free(orig);
    return o;
}

static const struct sh_rewrite *find_rewrite(const struct sh_milter_conf *c,
                                             const struct sh_relay *relay)
{
    for (size_t i = 0; relay && i < c->nrewrites; i++)
        if (c->rewrites[i].relay == relay)
            return &c->rewrites[i];
    return NULL;
}

/* The headers added at the end, and the sender rewrite. SH_PERM: a header to rewrite cannot
 * be parsed, said in WHY; SH_TEMP: out of memory. */
static enum sh_outcome additions(const struct sh_milter_conf *c, const struct sh_msg *m,
                                 const struct sh_msg_env *env, const struct who *who,
                                 struct hdr_plan *hp, struct sh_plan *p, char *why, size_t whycap)
{
    const struct sh_rewrite *w = find_rewrite(c, who->relay);
    const char *sender = who->sender;
    char buf[1200];
    struct tm tm;

    for (size_t i = 0; i < c->nconfig_rules; i++) {
        const struct sh_hdr_rule *r = &c->rules[i];
        if (r->op == SH_HDR_ADD && rule_applies(r, who) &&
            !plan_push(p, SH_EDIT_ADD, r->name, r->text, 0))
            return SH_TEMP;
    }
    if (c->add_date && !present(m, hp, p, "Date")) {
        gmtime_r(&env->now, &tm);
        strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
        if (!plan_push(p, SH_EDIT_ADD, "Date", buf, 0))
            return SH_TEMP;
    }
    if (c->add_message_id && !present(m, hp, p, "Message-ID")) {
        gmtime_r(&env->now, &tm);
        strftime(buf, 32, "%Y%m%d%H%M%S", &tm);
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%.64s@%.253s", env->unique,
                 c->hostname ? c->hostname : env->hostname);
        char id[1200];
        snprintf(id, sizeof(id), "<%s>", buf);
        if (!plan_push(p, SH_EDIT_ADD, "Message-ID", id, 0))
            return SH_TEMP;
    }
    for (size_t i = 0; i < c->nunsubs; i++) {
        if (!sh_sender_set_has(&c->unsubs[i].senders, sender, who->delims))
            continue;
        if (!present(m, hp, p, "List-Unsubscribe")) {
            if (!plan_push(p, SH_EDIT_ADD, "List-Unsubscribe", c->unsubs[i].url, 0))
                return SH_TEMP;
            if (c->unsubs[i].one_click && !present(m, hp, p, "List-Unsubscribe-Post") &&
                !plan_push(p, SH_EDIT_ADD, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click",
                           0))
                return SH_TEMP;
        }
        break;
    }
    if (w == NULL || strcasecmp(sender, w->identity) == 0)
        return SH_FOUND;
    if (w->from_header) {
        enum sh_outcome o = rewrite_from(m, hp, p, w->identity, sender, why, whycap);
        if (o != SH_FOUND)
            return o;
    }
    /* bracketed as in MAIL FROM; libmilter passes it on verbatim */
    snprintf(buf, sizeof(buf), "<%s>", w->identity);
    return plan_push(p, SH_EDIT_CHGFROM, NULL, buf, 0) ? SH_FOUND : SH_TEMP;
}

/* ---- putting it together ---- */

/* A header the rewrite must change and cannot parse (P->why_text says why) is refused as
 * default_action says, but never accepted: mail must not leave with an address we could not
 * replace. */
static enum sh_outcome unjudged(const struct sh_milter_conf *c, enum sh_outcome o,
                                struct sh_plan *p)
{
    if (o != SH_PERM) {
        p->why = "out of memory";
        return o;
    }
    p->unjudged = true;
    if (c->on_error == SH_MDEF_REJECT) {
        size_t l = strnlen(p->why_text, sizeof(p->why_text) - 7);
        memmove(p->why_text + 6, p->why_text, l);
        memcpy(p->why_text, "5.6.0 ", 6);
        p->why_text[l + 6] = 0;
        p->why = p->why_text;
        return SH_PERM;
    }
    p->why = p->why_text;
    return SH_TEMP;
}

static enum sh_outcome decide(const struct sh_milter_conf *c, const struct sh_msg *m,
                              const struct who *who, struct hdr_plan *hp, char *buf,
                              pcre2_match_data *md, const char **why)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct sh_hdr *h = &m->h[i];
        bool decided = false;

        hp[i].nth = 1;
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(m->h[k].name, h->name) == 0)
                hp[i].nth++;
        if (privacy_removes(c, h)) {
            hp[i].fate = DELETE;
            continue;
        }
        for (size_t k = 0; k < c->nconfig_rules && !decided; k++) {
            const struct sh_hdr_rule *r = &c->rules[k];
            if (r->op == SH_HDR_ADD || !name_matches(r, h->name, md) || !rule_applies(r, who))
                continue;
            decided = true;
            if (r->op == SH_HDR_REMOVE)
                hp[i].fate = DELETE;
            else if ((hp[i].value = strdup(r->text)) == NULL)
                return (*why = "out of memory"), SH_TEMP;
            else
                hp[i].fate = CHANGE;
        }
        if (!decided && c->nrules > c->nconfig_rules) {
            enum sh_outcome o = header_checks(c, h, &hp[i], buf, md, why);
            if (o != SH_FOUND)
                return o;
        }
    }
    return SH_FOUND;
}

static bool emit(const struct sh_msg *m, const struct hdr_plan *hp, struct sh_plan *p)
{
    /* inserts, bottom up: an insert never moves a position above it */
    for (size_t i = m->n; i-- > 0;)
        if (hp[i].ins_name &&
            !plan_push(p, SH_EDIT_INSERT, hp[i].ins_name, hp[i].ins_value, (unsigned)i))
            return false;
    /* changes and deletes, bottom up; a same-name header inserted above this
     * one shifts its index by one */
    for (size_t i = m->n; i-- > 0;) {
        unsigned idx = hp[i].nth;
        if (hp[i].fate == KEEP)
            continue;
        for (size_t k = 0; k <= i; k++)
            if (hp[k].ins_name && strcasecmp(hp[k].ins_name, m->h[i].name) == 0)
                idx++;
        if (!plan_push(p, SH_EDIT_CHANGE, m->h[i].name, hp[i].fate == CHANGE ? hp[i].value : NULL,
                       idx))
            return false;
    }
    return true;
}

enum sh_outcome sh_plan_build(const struct sh_snapshot *s, const struct sh_msg *m,
                              const struct sh_msg_env *env, struct sh_plan *p)
{
    const struct sh_milter_conf *c = s->milter;
    struct sh_plan adds = {0};
    struct hdr_plan *hp = NULL;
    pcre2_match_data *md = NULL;
    char raw[SH_MAX_KEY + 1], sender[SH_MAX_KEY + 1], *buf = NULL;
    const char *why;
    struct sh_decision d;
    struct who who = {.sender = sender, .delims = s->delimiters};
    enum sh_outcome o;

    memset(p, 0, sizeof(*p));
    if (m->oversize)
        return (p->why = "message headers exceed the milter's limits"), SH_PERM;
    if (c == NULL)
        return SH_FOUND; /* no milter group: nothing to do */
    if (!sh_envelope_addr(env->sender ? env->sender : "", raw, sizeof(raw)))
        return (p->why = "invalid envelope sender"), SH_PERM;
    /* the sender cleanup(8) will queue and route, not the client's text */
    switch (sh_canon_sender(&s->canon, raw, strlen(raw), SH_CANON_EXTERNAL, sender, &why)) {
    case SH_CANON_OK:
        break;
    case SH_CANON_NULL:
        sender[0] = 0;
        break;
    case SH_CANON_UNJUDGEABLE:
        return (p->why = "envelope sender cannot be judged"), SH_PERM;
    }
    if (sh_resolve_sender(s, sender, strlen(sender), &d) != SH_FOUND)
        return (p->why = "invalid envelope sender"), SH_PERM;

    hp = calloc(m->n ? m->n : 1, sizeof(*hp));
    buf = malloc(SH_MILTER_MAX_HEADER + 1);
    md = pcre2_match_data_create(32, NULL);
    if (hp == NULL || buf == NULL || md == NULL) {
        p->why = "out of memory";
        o = SH_TEMP;
        goto out;
    }
    who.relay = d.relay;
    o = decide(c, m, &who, hp, buf, md, &p->why);
    if (o == SH_FOUND &&
        (o = additions(c, m, env, &who, hp, &adds, p->why_text, sizeof(p->why_text))) != SH_FOUND)
        o = unjudged(c, o, p);
    if (o == SH_FOUND && !emit(m, hp, p)) {
        p->why = "out of memory";
        o = SH_TEMP;
    }
    /* appends and the envelope change go last */
    for (size_t i = 0; o == SH_FOUND && i < adds.n; i++)
        if (!plan_push(p, adds.e[i].kind, adds.e[i].name, adds.e[i].value, 0)) {
            p->why = "out of memory";
            o = SH_TEMP;
        }
out:
    for (size_t i = 0; hp && i < m->n; i++) {
        free(hp[i].value);
        free(hp[i].ins_name);
        free(hp[i].ins_value);
    }
    free(hp);
    free(buf);
    pcre2_match_data_free(md);
    sh_plan_free(&adds);
    return o;
}
