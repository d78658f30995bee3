/* ctl_setup_plan.c - what `postfix-setup` sets: our values and what main.cf has now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_postconf.h"
#include "ctl_postfix.h"
#include "ctl_setup.h"
#include "xalloc.h"

/* The effective value of NAME (default included), trailing newline removed. */
static char *effective(const struct setup *s, const char *name)
{
    const char *args[] = {"-h", name, NULL};
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

/* ---- what to set -------------------------------------------------------------- */

static void add(struct setup *s, const char *name, const char *value)
{
    if (s->np == MAX_PARAMS) {
        ctl_err("too many parameters (a bug)");
        exit(CTL_FAIL);
    }
    s->p[s->np++] = (struct param){.name = name, .new = xstrdup(value)};
}

/* NAME = ITEM first, then what is there now (its default included): the policy
 * check must come before any permit_* (README "Policy service"), and our milter
 * before a signing milter so the signature covers the cleaned headers. */
static bool add_first(struct setup *s, const char *name, const char *item)
{
    char *cur = effective(s, name), *v;
    size_t n;

    if (cur == NULL)
        return false;
    n = strlen(item) + strlen(cur) + 3;
    if ((v = malloc(n)) == NULL)
        return false;
    if (strstr(cur, item) != NULL)
        snprintf(v, n, "%s", cur); /* already there: keep it as it is */
    else
        snprintf(v, n, "%s%s%s", item, *cur ? ", " : "", cur);
    add(s, name, v);
    free(v);
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

bool setup_plan(struct setup *s, const char *config_path)
{
    char *q = effective(s, "queue_directory"), rel[600], item[700], value[700], tr[128];
    const char *map;

    if (q == NULL) {
        ctl_err("postconf -c %s failed (is there a main.cf?)", s->dir);
        return false;
    }
    snprintf(s->queue, sizeof(s->queue), "%s", q);
    free(q);
    map = ctl_pf_relative(s->socketmap, s->queue, rel, sizeof(rel));
    for (size_t i = 0; i < ctl_pf_nmain; i++)
        add(s, ctl_pf_main[i].name, ctl_pf_value(&ctl_pf_main[i], map, value, sizeof(value)));
    if (s->policy) {
        snprintf(item, sizeof(item), "check_policy_service %s",
                 ctl_pf_relative(s->policy, s->queue, rel, sizeof(rel)));
        if (!add_first(s, "smtpd_recipient_restrictions", item) ||
            !add_first(s, "smtpd_end_of_data_restrictions", item))
            return false;
    }
    if (s->milter) {
        milter_addr(s->milter, s->queue, item, sizeof(item));
        if (!add_first(s, "smtpd_milters", item) || !add_first(s, "non_smtpd_milters", item))
            return false;
        add(s, "milter_default_action", "tempfail");
    }
    if (!read_explicit(s))
        return false;

    ctl_pf_transport(config_path, tr, sizeof(tr));
    snprintf(s->service, sizeof(s->service), "%s/unix", tr);
    int n = snprintf(s->master_new, sizeof(s->master_new), "%s = %s " CTL_PF_SMTPS_FIELDS,
                     s->service, tr);
    for (size_t i = 0; ctl_pf_smtps_opts[i] && n > 0 && (size_t)n < sizeof(s->master_new); i++)
        n += snprintf(s->master_new + n, sizeof(s->master_new) - (size_t)n, " -o %s",
                      ctl_pf_smtps_opts[i]);
    const char *args[] = {"-M", s->service, NULL};
    char *out = NULL;
    if (ctl_postconf(s->dir, args, &out) != 0) {
        free(out);
        return false;
    }
    out[strcspn(out, "\n")] = 0;
    s->master_old = *out ? out : NULL;
    if (!*out)
        free(out);
    return true;
}

