/* ratelimit_view.c - rate-limit budgets for people: show and reset by counted value. */
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "policy_conf.h"
#include "ratelimit_view.h"
#include "resolve.h"

static struct rl_store *store_of(const struct sh_snapshot *s, struct rl_store *memory,
                                 const char **err)
{
    struct rl_store *st;

    if (s == NULL || s->policy == NULL || s->policy->nlimits == 0) {
        *err = "ERR no rate limits configured";
        return NULL;
    }
    st = s->policy->redis ? s->policy->redis : memory;
    if (st == NULL || st->peek == NULL) {
        *err = "ERR no rate-limit store";
        return NULL;
    }
    return st;
}

static const struct policy_limit *limit_named(const struct sh_policy_conf *p, const char *name,
                                              size_t len)
{
    for (size_t i = 0; i < p->nlimits; i++)
        if (strlen(p->limits[i].name) == len && memcmp(p->limits[i].name, name, len) == 0)
            return &p->limits[i];
    return NULL;
}

static void line(FILE *out, const struct policy_limit *l, char kind, const char *value,
                 unsigned long used, time_t now)
{
    char shown[SH_LOG_TEXT_MAX];

    msg_printable(shown, sizeof(shown), value, strlen(value));
    fprintf(out, "limit=%s per=%s key=%s %s=%lu/%u window=%us left=%lds\n", l->name,
            policy_per_name(l->per), shown, kind == 'm' ? "messages" : "recipients", used,
            kind == 'm' ? l->messages : l->recipients, l->window,
            (long)(l->window - now % (time_t)l->window));
}

/* VALUE as limit L counts it into OUT; false when it cannot be one. */
static bool normalized(const struct policy_limit *l, const char *value, char *out)
{
    if (l->per == POLICY_PER_RELAY) {
        if (strlen(value) > SH_MAX_KEY)
            return false;
        strcpy(out, value);
        return true;
    }
    return sh_sender_key(value, strlen(value), out) > 0;
}

/* Every limit's counters for VALUE: keys, takes and the limits they belong to. */
struct set {
    struct rl_take t[RL_MAX_TAKES];
    const struct policy_limit *l[RL_MAX_TAKES];
    char kind[RL_MAX_TAKES];
    char key[RL_MAX_TAKES][RL_MAX_KEY];
    char value[RL_MAX_TAKES][SH_MAX_KEY + 1];
    size_t n;
};

static void collect(struct set *st, const struct sh_policy_conf *p, const char *value, time_t now)
{
    st->n = 0;
    for (size_t i = 0; i < p->nlimits; i++) {
        const struct policy_limit *l = &p->limits[i];
        for (int k = 0; k < 2; k++) {
            size_t j = st->n;
            char kind = k ? 'r' : 'm', v[SH_MAX_KEY + 1];
            if ((kind == 'm' ? l->messages : l->recipients) == 0 || j == RL_MAX_TAKES ||
                !normalized(l, value, v))
                continue;
            strcpy(st->value[j], v);
            snprintf(st->key[j], sizeof(st->key[j]), "%s|%c|%s", l->name, kind, v);
            st->t[j] = (struct rl_take){.key = st->key[j], .now = now, .window = l->window};
            st->l[j] = l;
            st->kind[j] = kind;
            st->n++;
        }
    }
}

/* The counters for VALUE that hold something now; how many. */
static size_t show_value(FILE *out, struct rl_store *rs, const struct sh_policy_conf *p,
                         struct set *st, const char *value, time_t now, const char **err)
{
    unsigned long count[RL_MAX_TAKES];
    size_t shown = 0;

    collect(st, p, value, now);
    if (st->n == 0) {
        *err = "ERR key cannot be counted by any limit";
        return 0;
    }
    if (rs->peek(rs, st->t, st->n, count) != RL_OK) {
        *err = "ERR rate-limit store unavailable";
        return 0;
    }
    for (size_t i = 0; i < st->n; i++)
        if (count[i] > 0) {
            line(out, st->l[i], st->kind[i], st->value[i], count[i], now);
            shown++;
        }
    return shown;
}

struct listing {
    const struct sh_policy_conf *p;
    time_t now;
    char **lines;
    size_t n, cap, other;
};

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void each(void *ctx, const char *key, long long slot, unsigned long count)
{
    struct listing *ls = ctx;
    const char *bar = strchr(key, '|');
    const struct policy_limit *l = bar ? limit_named(ls->p, key, (size_t)(bar - key)) : NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *fp;

    if (l == NULL || (bar[1] != 'm' && bar[1] != 'r') || bar[2] != '|') {
        ls->other++; /* a limit no longer configured, or not ours */
        return;
    }
    if (slot != (long long)(ls->now / (time_t)l->window) || count == 0)
        return; /* an older window: spent budget that no longer counts */
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? 2 * ls->cap : 64;
        char **grown = realloc(ls->lines, cap * sizeof(*grown));
        if (grown == NULL)
            return;
        ls->lines = grown;
        ls->cap = cap;
    }
    if ((fp = open_memstream(&text, &len)) == NULL)
        return;
    line(fp, l, bar[1], bar + 3, count, ls->now);
    if (fclose(fp) == 0)
        ls->lines[ls->n++] = text;
    else
        free(text);
}

bool rl_view_show(FILE *out, const struct sh_snapshot *s, struct rl_store *memory,
                  const char *value, time_t now, const char **err)
{
    struct rl_store *rs = store_of(s, memory, err);
    struct listing ls = {.now = now};
    struct set *st;
    size_t more = 0;
    bool ok;

    if (rs == NULL)
        return false;
    if (value) {
        if ((st = malloc(sizeof(*st))) == NULL) {
            *err = "ERR out of memory";
            return false;
        }
        *err = NULL;
        if (show_value(out, rs, s->policy, st, value, now, err) == 0 && *err == NULL)
            fprintf(out, "no budget spent by this key in the current windows\n");
        free(st);
        return *err == NULL;
    }
    ls.p = s->policy;
    ok = rs->list(rs, RL_VIEW_MAX, each, &ls, &more) == RL_OK;
    qsort(ls.lines, ls.n, sizeof(*ls.lines), cmp);
    for (size_t i = 0; i < ls.n; i++) {
        fputs(ls.lines[i], out);
        free(ls.lines[i]);
    }
    free(ls.lines);
    if (!ok) {
        *err = "ERR rate-limit store unavailable";
        return false;
    }
    fprintf(out, "counters: %zu in the current windows%s", ls.n, more ? ", more not listed" : "");
    if (more)
        fprintf(out, " (at least %zu)", more);
    fprintf(out, "\n");
    return true;
}

bool rl_view_reset(FILE *out, const struct sh_snapshot *s, struct rl_store *memory,
                   const char *value, time_t now, const char **err)
{
    struct rl_store *rs = store_of(s, memory, err);
    struct set *st;
    bool ok;

    if (rs == NULL)
        return false;
    if ((st = malloc(sizeof(*st))) == NULL) {
        *err = "ERR out of memory";
        return false;
    }
    *err = NULL;
    show_value(out, rs, s->policy, st, value, now, err);
    ok = *err == NULL && rs->reset(rs, st->t, st->n) == RL_OK;
    if (ok)
        fprintf(out, "reset: %zu counter(s)\n", st->n);
    else if (*err == NULL)
        *err = "ERR rate-limit store unavailable";
    free(st);
    return ok;
}

void rl_view_status(FILE *out, const struct sh_snapshot *s, struct rl_store *memory)
{
    struct rl_store *rs;
    char buf[512];

    if (s == NULL || s->policy == NULL)
        return;
    rs = s->policy->redis ? s->policy->redis : memory;
    if (rs == NULL || rs->status == NULL) {
        fprintf(out, "rate_store: %s\n", s->policy->redis ? "redis" : "memory (not in use)");
        return;
    }
    rs->status(rs, buf, sizeof(buf));
    fprintf(out, "rate_store: %s\n", buf);
}
