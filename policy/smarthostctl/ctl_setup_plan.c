/* ctl_setup_plan.c - what `postfix-setup` sets: our values and what main.cf has now.
 *
 * The admin's own settings keep working: a map the admin already has is chained
 * with ours, a milter list keeps its other milters and their defaults, the policy
 * check goes first but keeps the rest, and only what the config uses is hooked. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "ctl_postconf.h"
#include "ctl_postfix.h"
#include "ctl_setup.h"
#include "ctl_snapshot.h"
#include "milter_conf.h"
#include "policy_conf.h"
#include "xalloc.h"

/* postconf -h (raw) or -xh (expanded) NAME, trailing newline removed. */
static char *value_of(const struct setup *s, const char *name, bool expand)
{
    const char *args[] = {expand ? "-xh" : "-h", name, NULL};
    char *out = NULL;

    if (ctl_postconf(s->dir, args, &out) != 0) {
        free(out);
        return NULL;
    }
    out[strcspn(out, "\n")] = 0;
    return out;
}

/* The values main.cf sets explicitly (postconf -n NAME...), into s->p[].old. */
static bool read_explicit(struct setup *s)
{
    const char *args[MAX_PARAMS + 2] = {"-n"};
    char *out = NULL, *line, *save;

    for (size_t i = 0; i < s->np; i++)
        args[i + 1] = s->p[i].name;
    if (ctl_postconf(s->dir, args, &out) != 0) {
        free(out);
        return false;
    }
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        for (size_t i = 0; i < s->np; i++) {
            size_t n = strlen(s->p[i].name);
            if (strncmp(line, s->p[i].name, n) == 0 && strncmp(line + n, " =", 2) == 0)
                s->p[i].old = xstrdup(line[n + 2] == ' ' ? line + n + 3 : line + n + 2);
        }
    }
    free(out);
    return true;
}

static struct param *add(struct setup *s, const char *name)
{
    if (s->np == MAX_PARAMS) {
        ctl_err("too many parameters (a bug)");
        exit(CTL_FAIL);
    }
    s->p[s->np] = (struct param){.name = name};
    return &s->p[s->np++];
}

/* "A, B" (either may be empty). */
static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 3;
    char *v = xmalloc(n);

    snprintf(v, n, "%s%s%s", a, *a && *b ? ", " : "", b);
    return v;
}

/* The next element of a Postfix list at *P into BUF (CAP bytes): elements are separated
 * by space or comma, and a brace is an element of its own. An element too long for BUF
 * comes back empty (it matches nothing of ours). false at the end of the list. */
static bool next_element(const char **p, char *buf, size_t cap)
{
    const char *e = *p + strspn(*p, " \t\r\n,");
    size_t k;

    if (*e == 0)
        return false;
    k = *e == '{' || *e == '}' ? 1 : strcspn(e, " \t\r\n,{}");
    if (k < cap)
        snprintf(buf, cap, "%.*s", (int)k, e);
    else
        buf[0] = 0;
    *p = e + k;
    return true;
}

/* Do A and B name the same endpoint for Postfix? A unix socket under the queue
 * directory is the same whether named absolute or relative to it. */
static bool same_endpoint(const struct setup *s, const char *a, const char *b)
{
    char ra[600], rb[600];

    return *a && strcmp(ctl_pf_relative(a, s->queue, ra, sizeof(ra)),
                        ctl_pf_relative(b, s->queue, rb, sizeof(rb))) == 0;
}

/* Is ADDR one of the list's endpoints (a milter list: "ADDR" or "{ ADDR, ... }")? */
static bool has_endpoint(const struct setup *s, const char *list, const char *addr)
{
    char e[600];

    for (const char *p = list; next_element(&p, e, sizeof(e));)
        if (same_endpoint(s, e, addr))
            return true;
    return false;
}

/* Does the restriction list have "check_policy_service ADDR" already, also as
 * "check_policy_service { ADDR, timeout=... }" (Postfix >= 3.0)? */
static bool has_policy(const struct setup *s, const char *list, const char *addr)
{
    char e[600];

    for (const char *p = list; next_element(&p, e, sizeof(e));) {
        if (strcmp(e, "check_policy_service") != 0)
            continue;
        if (!next_element(&p, e, sizeof(e)) ||
            (strcmp(e, "{") == 0 && !next_element(&p, e, sizeof(e))))
            break;
        if (same_endpoint(s, e, addr))
            return true;
    }
    return false;
}

/* Is our table MINE ("socketmap:ENDPOINT:MAP") in the map list already, with its
 * endpoint named either way? */
static bool has_map(const struct setup *s, const char *list, const char *mine)
{
    const char *mname = strrchr(mine, ':');
    char e[800], mend[600];

    if (strncmp(mine, "socketmap:", 10) != 0 || mname == NULL)
        return false;
    snprintf(mend, sizeof(mend), "%.*s", (int)(mname - mine - 10), mine + 10);
    for (const char *p = list; next_element(&p, e, sizeof(e));) {
        char *n = strrchr(e, ':');
        if (strncmp(e, "socketmap:", 10) != 0 || n == NULL || strcmp(n, mname) != 0)
            continue;
        *n = 0;
        if (same_endpoint(s, e + 10, mend))
            return true;
    }
    return false;
}

/* Does VALUE refer to the parameter NAME ($NAME, ${NAME}, $(NAME))? */
static bool refers_to(const char *value, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = strchr(value, '$'); p; p = strchr(p + 1, '$')) {
        const char *q = p + 1 + (p[1] == '{' || p[1] == '(');
        if (strncmp(q, name, n) == 0 && !(isalnum((unsigned char)q[n]) || q[n] == '_'))
            return true;
    }
    return false;
}

/* ---- what to set -------------------------------------------------------------- */

/* Our map MINE in NAME, chained with the admin's OLD. Postfix takes the first
 * table that answers. Sender- and nexthop-keyed maps: ours first, because one
 * decision binds relay, credentials and TLS per sender, and a sender for whom
 * smarthostd has no answer still reaches the admin's tables. transport_maps: the
 * admin's first, so their explicit entries keep routing (our socketmap answers
 * the full address, so a smarthostd lane still wins over a domain key in an
 * indexed table of theirs: Postfix asks pattern tables before partial keys). */
static void set_map(const struct setup *s, struct param *p, const char *mine)
{
    if (p->old == NULL || *p->old == 0 || has_map(s, p->old, mine)) {
        p->new = xstrdup(p->old && *p->old ? p->old : mine);
        return;
    }
    if (strcmp(p->name, "transport_maps") == 0) {
        p->new = join(p->old, mine);
        /* Sender-dependent AUTH is on for every smtp(8) delivery once we are hooked:
         * an entry of theirs through plain smtp: or relay: would offer a sender's
         * relay password to any server that asks. Their table is theirs to fix. */
        p->note = "chained: the admin's tables first, then smarthostd's; WARNING: their "
                  "smtp:/relay: entries now offer senders' relay passwords to servers that "
                  "ask for AUTH: route those through a transport with "
                  "-o smtp_sasl_auth_enable=no";
    } else {
        p->new = join(mine, p->old);
        p->note = "chained: smarthostd first, then the admin's tables";
    }
}

/* NAME = ITEM first, then what is there now (its default included): the policy
 * check must come before any permit_* (README "Policy service"), and our milter
 * before a signing milter so the signature covers the cleaned headers. ADDR is
 * the endpoint that marks ITEM as present already: as a milter, or (POLICY) as a
 * check_policy_service. */
static bool set_first(struct setup *s, struct param *p, const char *item, const char *addr,
                      bool policy)
{
    char *cur = value_of(s, p->name, false), *x;

    if (cur == NULL)
        return false;
    if ((x = value_of(s, p->name, true)) == NULL) {
        free(cur);
        return false;
    }
    if (policy ? has_policy(s, x, addr) : has_endpoint(s, x, addr)) {
        p->new = xstrdup(cur);
        p->note = "kept: it has smarthostd already";
    } else {
        p->new = join(item, cur);
        p->note = *cur ? "smarthostd first, the rest kept" : NULL;
    }
    free(x);
    free(cur);
    return true;
}

const char *setup_postfix_notation(const char *spec, char *buf, size_t cap)
{
    const char *at;

    if (strncmp(spec, "local:", 6) == 0)
        snprintf(buf, cap, "unix:%s", spec + 6);
    else if (strncmp(spec, "inet:", 5) == 0 && (at = strchr(spec, '@')) != NULL)
        snprintf(buf, cap, "inet:%s:%.*s", at + 1, (int)(at - spec - 5), spec + 5);
    else
        snprintf(buf, cap, "%s", spec);
    return buf;
}

/* The milter's socket as main.cf names it: Postfix notation, relative to the
 * queue directory when it lies inside. */
static const char *milter_addr(const char *spec, const char *queue, char *buf, size_t cap)
{
    char tmp[600];

    setup_postfix_notation(spec, tmp, sizeof(tmp));
    return ctl_pf_relative(tmp, queue, buf, cap) == buf ? buf : strcpy(buf, tmp);
}

/* Our milter in both lists, with its own default_action (Postfix >= 3.0): the
 * global milter_default_action stays the admin's, for the other milters. */
static bool plan_milter(struct setup *s)
{
    char addr[700], item[800];
    struct param *smtpd = add(s, "smtpd_milters"), *non = add(s, "non_smtpd_milters");
    char *raw;

    milter_addr(s->milter, s->queue, addr, sizeof(addr));
    snprintf(item, sizeof(item), "{ %s, default_action=tempfail }", addr);
    if (!set_first(s, smtpd, item, addr, false))
        return false;
    if ((raw = value_of(s, non->name, false)) == NULL)
        return false;
    if (refers_to(raw, "smtpd_milters") && has_endpoint(s, smtpd->new, addr)) {
        non->new = raw; /* "$smtpd_milters" already brings ours */
        non->note = "kept: $smtpd_milters brings smarthostd's milter";
        return true;
    }
    free(raw);
    return set_first(s, non, item, addr, false);
}

static bool plan_policy(struct setup *s)
{
    char rel[600], item[700];
    const char *addr = ctl_pf_relative(s->policy, s->queue, rel, sizeof(rel));

    snprintf(item, sizeof(item), "check_policy_service %s", addr);
    return set_first(s, add(s, "smtpd_recipient_restrictions"), item, addr, true) &&
           set_first(s, add(s, "smtpd_end_of_data_restrictions"), item, addr, true);
}

/* smtp_tls_security_level: "may" only where the admin has nothing stronger. */
static bool plan_tls_level(struct setup *s, struct param *p, const char *ours)
{
    char *cur = value_of(s, p->name, true);

    if (cur == NULL)
        return false;
    if (*cur && strcmp(cur, "none") != 0 && strcmp(cur, ours) != 0) {
        p->new = xstrdup(p->old ? p->old : cur);
        p->note = "kept: the admin's level is not weaker than ours";
    } else {
        p->new = xstrdup(ours);
    }
    free(cur);
    return true;
}

/* Our params whose value is what main.cf has already are left alone. */
static void drop_unchanged(struct setup *s)
{
    size_t j = 0;

    for (size_t i = 0; i < s->np; i++) {
        struct param *p = &s->p[i];
        if (p->old && strcmp(p->old, p->new) == 0) {
            printf("main.cf   %s = %s    (unchanged%s%s)\n", p->name, p->new, p->note ? "; " : "",
                   p->note ? p->note : "");
            free(p->old);
            free(p->new);
            continue;
        }
        s->p[j++] = *p;
    }
    s->np = j;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Do two master.cf entries ("NAME TYPE ... COMMAND -o A -o B", as postconf -M prints
 * them) say the same? The eight fields must match; the arguments after them may come
 * in any order. */
static bool same_master(const char *a, const char *b)
{
    char *ta = xstrdup(a), *tb = xstrdup(b), *sa, *sb, *va[64], *vb[64];
    size_t na = 0, nb = 0;
    bool same;

    for (char *t = strtok_r(ta, " \t\n", &sa); t && na < 64; t = strtok_r(NULL, " \t\n", &sa))
        va[na++] = t;
    for (char *t = strtok_r(tb, " \t\n", &sb); t && nb < 64; t = strtok_r(NULL, " \t\n", &sb))
        vb[nb++] = t;
    same = na == nb && na >= 8 && na < 64;
    for (size_t i = 0; same && i < 8; i++)
        same = strcmp(va[i], vb[i]) == 0;
    if (same) {
        qsort(va + 8, na - 8, sizeof(va[0]), cmp_str);
        qsort(vb + 8, nb - 8, sizeof(vb[0]), cmp_str);
        for (size_t i = 8; same && i < na; i++)
            same = strcmp(va[i], vb[i]) == 0;
    }
    free(ta);
    free(tb);
    return same;
}

bool setup_master_entry(struct setup *s, const char *name, const char *const *opts)
{
    struct master_entry *m;
    const char *args[] = {"-M", NULL, NULL};
    char line[512], *out = NULL;
    int n;

    if (s->nm == MAX_MASTER)
        return ctl_err("more than %d master.cf transports to define", MAX_MASTER - 1), false;
    m = &s->m[s->nm++];
    snprintf(m->service, sizeof(m->service), "%s/unix", name);
    n = snprintf(line, sizeof(line), "%s = %s " SH_HOOKUP_SMTPS_FIELDS, m->service, name);
    for (size_t i = 0; opts[i] && n > 0 && (size_t)n < sizeof(line); i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " -o %s", opts[i]);
    m->new = xstrdup(line);
    args[1] = m->service;
    if (ctl_postconf(s->dir, args, &out) != 0) {
        free(out);
        return false;
    }
    out[strcspn(out, "\n")] = 0;
    m->old = *out ? out : NULL;
    if (!*out)
        free(out);
    if (m->old && same_master(m->old, m->new + strlen(m->service) + 3)) {
        printf("master.cf %s    (unchanged)\n", m->old);
        free(m->old);
        free(m->new);
        s->nm--;
    }
    return true;
}

/* Rules the policy service would apply (an empty `policy` group has none). */
static bool policy_used(const struct sh_policy_conf *p)
{
    return p && (p->nlogins || p->require_auth.n || p->require_tls.n || p->max_size.n ||
                 p->relay_guard || p->nlimits);
}

/* Anything the milter would do to a message (an empty `milter` group still adds
 * Date: and Message-ID: where they are missing, unless turned off). */
static bool milter_used(const struct sh_milter_conf *m)
{
    return m && (m->add_date || m->add_message_id || m->privacy || m->nrules || m->nunsubs ||
                 m->nrewrites);
}

bool setup_plan(struct setup *s, const char *config_path)
{
    char *q = value_of(s, "queue_directory", false), rel[600], value[700];
    struct sh_snapshot *snap;
    const char *map;
    bool ok = false;

    if (q == NULL) {
        ctl_err("postconf -c %s failed (is there a main.cf?)", s->dir);
        return false;
    }
    snprintf(s->queue, sizeof(s->queue), "%s", q);
    free(q);
    if ((snap = ctl_load(config_path)) == NULL) {
        ctl_err("%s does not load: fix it first (smarthostctl check)", config_path);
        return false;
    }
    /* Hook only what the config uses: a hooked service that is not running
     * answers every SMTP session with a temporary error. */
    if (s->milter && !milter_used(snap->milter)) {
        printf("milter: not hooked: the config has no milter rules\n");
        s->milter = NULL;
    }
    if (s->policy && !policy_used(snap->policy)) {
        printf("policy: not hooked: the config has no policy rules\n");
        s->policy = NULL;
    }
    for (size_t i = 0; i < sh_hookup_nmain; i++)
        add(s, sh_hookup_main[i].name);
    if (!read_explicit(s))
        goto out;
    map = ctl_pf_relative(s->socketmap, s->queue, rel, sizeof(rel));
    for (size_t i = 0; i < sh_hookup_nmain; i++) {
        const char *mine = ctl_pf_value(&sh_hookup_main[i], map, value, sizeof(value));
        if (sh_hookup_main[i].map != SH_HOOKUP_NO_MAP)
            set_map(s, &s->p[i], mine);
        else if (strcmp(s->p[i].name, "smtp_tls_security_level") == 0) {
            if (!plan_tls_level(s, &s->p[i], mine))
                goto out;
        } else {
            s->p[i].new = xstrdup(mine);
        }
        if (strcmp(s->p[i].name, "relayhost") == 0 && s->p[i].old && *s->p[i].old)
            s->p[i].note = "smarthostd's default_relay decides now";
    }
    {
        size_t first = s->np;
        if ((s->policy && !plan_policy(s)) || (s->milter && !plan_milter(s)))
            goto out;
        struct setup tmp = {.dir = s->dir};
        for (size_t i = first; i < s->np; i++)
            tmp.p[tmp.np++] = (struct param){.name = s->p[i].name};
        if (!read_explicit(&tmp))
            goto out;
        for (size_t i = first; i < s->np; i++)
            s->p[i].old = tmp.p[i - first].old;
    }
    drop_unchanged(s);
    if (!setup_master_entry(s, snap->smarthost_transport, sh_hookup_relay_opts) ||
        !setup_master_entry(s, snap->implicit_tls_transport, sh_hookup_smtps_opts) ||
        !setup_lanes(s, snap))
        goto out;
    ok = true;
out:
    sh_snapshot_free(snap);
    return ok;
}
