/* senderset.c - sets of sender or domain patterns: loading from the config and matching. */
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "config_int.h"
#include "hostaddr.h"
#include "resolve.h"
#include "senderset.h"
#include "strmap.h"

struct walk {
    const struct sh_sender_set *set;
    const struct sh_sender_item *hit;
};

static bool walk_hit(void *ctx, const char *cand, size_t len, enum sh_via via)
{
    struct walk *w = ctx;

    (void)via;
    return (w->hit = strmap_get(w->set->map, cand, len)) != NULL;
}

const struct sh_sender_item *sh_sender_set_match(const struct sh_sender_set *set, const char *key,
                                                 const char *delims)
{
    struct walk w = {.set = set};

    if (set->n == 0 || key[0] == 0)
        return NULL;
    sh_sender_walk(key, strlen(key), delims, walk_hit, &w);
    return w.hit;
}

bool sh_sender_set_has(const struct sh_sender_set *set, const char *sender, const char *delims)
{
    char key[SH_MAX_KEY + 1];
    size_t len = strlen(sender);
    int klen;

    if (set->n == 0)
        return true;
    if (len >= 2 && sender[0] == '<' && sender[len - 1] == '>') {
        sender++;
        len -= 2;
    }
    if ((klen = sh_sender_key(sender, len, key)) < 0)
        return false;
    if (klen == 0 || strcmp(key, "<>") == 0)
        return strmap_get(set->map, "<>", 2) != NULL;
    return sh_sender_set_match(set, key, delims) != NULL;
}

bool sh_domain_set_has(const struct sh_sender_set *set, const char *dom)
{
    if (set->n == 0)
        return false;
    if (strmap_get(set->map, dom, strlen(dom)) != NULL)
        return true;
    for (const char *p = strchr(dom, '.'); p && p[1]; p = strchr(p + 1, '.'))
        if (strmap_get(set->map, p, strlen(p)) != NULL)
            return true;
    return false;
}

static bool ascii_only(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* VALUE normalized into KEY for a set of KIND; false with *why set. */
static bool normalize(const char *in, enum sh_set_kind kind, char *key, const char **why)
{
    enum sh_rule_kind rk;
    size_t len = strlen(in);

    if (kind == SH_SET_DOMAINS) {
        if (len == 0 || len > SH_MAX_HOST + 1) {
            *why = "must be a domain name";
            return false;
        }
        for (size_t i = 0; i <= len; i++)
            key[i] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] + 32 : in[i]);
        /* U-labels as A-labels, as the canon compares them */
        if (!ascii_only(key)) {
            char dom[SH_MAX_HOST + 2];
            if (!sh_canon_domain(key + (key[0] == '.'), strlen(key + (key[0] == '.')), dom,
                                 sizeof(dom))) {
                *why = "invalid domain (write example.com, or .example.com for its subdomains)";
                return false;
            }
            strcpy(key + (key[0] == '.'), dom);
        }
        if (!sh_domain_valid(key + (key[0] == '.'), strlen(key + (key[0] == '.')))) {
            *why = "invalid domain (write example.com, or .example.com for its subdomains)";
            return false;
        }
        return true;
    }
    if (kind == SH_SET_SENDERS_OR_NULL)
        return sh_sender_pattern(in, key, &rk, why);
    if (strchr(in, '@') != NULL && !sh_sender_pattern(in, key, &rk, why))
        return false;
    if (strchr(in, '@') == NULL || rk == SH_RULE_NULL) {
        *why = "not a sender pattern: write user@domain, @domain or @.domain";
        return false;
    }
    return true;
}

bool sh_sender_set_add(struct sh_snapshot *s, const config_setting_t *st, const char *value,
                       enum sh_set_kind kind, struct sh_sender_set *set, struct sh_error *err)
{
    char key[SH_MAX_KEY + 1];
    struct sh_sender_item *it;
    const char *why;

    if (set->n >= SH_SET_MAX_PATTERNS)
        return conf_fail(err, st, "more than %d patterns", SH_SET_MAX_PATTERNS);
    if (!normalize(value, kind, key, &why))
        return conf_fail(err, st, "\"%.80s\": %s", value, why);
    if (set->map == NULL)
        set->map = strmap_new(8);
    if (strmap_get(set->map, key, strlen(key)) != NULL)
        return conf_fail(err, st, "\"%s\" is listed twice", key);
    it = xcalloc(1, sizeof(*it) + strlen(key) + 1);
    strcpy(it->key, key);
    it->origin = conf_origin(s, st);
    set->items = xreallocarray(set->items, set->n + 1, sizeof(*set->items));
    set->items[set->n++] = it;
    strmap_put(set->map, key, it);
    return true;
}

struct load_ctx {
    struct sh_error *err; /* first: conf_strings() reports through it */
    struct sh_snapshot *s;
    struct sh_sender_set *set;
    enum sh_set_kind kind;
};

static bool load_one(void *ctx, const config_setting_t *st, const char *value)
{
    struct load_ctx *lc = ctx;

    return sh_sender_set_add(lc->s, st, value, lc->kind, lc->set, lc->err);
}

bool sh_sender_set_load(struct sh_snapshot *s, const config_setting_t *group, const char *name,
                        bool required, enum sh_set_kind kind, struct sh_sender_set *set,
                        struct sh_error *err)
{
    struct load_ctx lc = {.err = err, .s = s, .set = set, .kind = kind};

    if (set->map == NULL)
        set->map = strmap_new(8);
    return conf_strings(group, name, required, load_one, &lc);
}

void sh_sender_set_free(struct sh_sender_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->items[i]);
    free(set->items);
    strmap_free(set->map);
    memset(set, 0, sizeof(*set));
}
