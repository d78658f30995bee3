/* resolve.c - most specific sender rule wins, deterministically:
 * address, address without extension, @domain, nearest @.parent, <>, default. */
#include <string.h>

#include "hostaddr.h"

#include "resolve.h"
#include "strmap.h"

const char *sh_via_name(enum sh_via via)
{
    switch (via) {
    case SH_VIA_ADDRESS:
        return "address";
    case SH_VIA_ADDRESS_NOEXT:
        return "address-without-extension";
    case SH_VIA_DOMAIN:
        return "domain";
    case SH_VIA_PARENT:
        return "parent-domain";
    case SH_VIA_NULL_SENDER:
        return "null-sender";
    case SH_VIA_DEFAULT:
        return "default";
    case SH_VIA_NONE:
        return "none";
    }
    return "?";
}

/* KEY[0..LEN) with the domain after its last @ in A-label form (canon.h):
 * Postfix asks about boss@bücher.test as it was written, rules hold A-labels.
 * The new length, or -1 when the domain is no valid IDN. */
static int a_label(char *key, size_t len)
{
    char dom[SH_MAX_KEY + 1];
    char *at = memchr(key, '@', len) ? strrchr(key, '@') : NULL;
    bool ascii = true;

    for (size_t i = 0; at && at[i]; i++)
        ascii = ascii && (unsigned char)at[i] < 0x80;
    if (ascii)
        return (int)len;
    if (!sh_canon_domain(at + 1, strlen(at + 1), dom, sizeof(dom)) ||
        (size_t)(at + 1 - key) + strlen(dom) > SH_MAX_KEY)
        return -1;
    strcpy(at + 1, dom);
    return (int)strlen(key);
}

int sh_sender_key(const char *sender, size_t len, char *key)
{
    if (len > SH_MAX_KEY)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)sender[i];
        if (c < 0x20 || c == 0x7f)
            return -1;
        key[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    /* user@example.com. is user@example.com */
    if (len > 1 && key[len - 1] == '.' && memchr(key, '@', len))
        len--;
    key[len] = 0;
    return a_label(key, len);
}

#define MAX_LOCALPART 64

bool sh_sender_pattern(const char *in, char *key, enum sh_rule_kind *kind, const char **why)
{
    size_t len = strlen(in);
    const char *at, *dom;

    if (len > SH_MAX_KEY) {
        *why = "longer than 512 characters";
        return false;
    }
    for (size_t i = 0; i <= len; i++)
        key[i] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] + 32 : in[i]);
    if (strcmp(key, "<>") == 0) {
        *kind = SH_RULE_NULL;
        return true;
    }
    if ((at = strrchr(key, '@')) == NULL) {
        *why = "not an address: write user@domain, @domain, @.domain or <>";
        return false;
    }
    if (a_label(key, strlen(key)) < 0) {
        *why = "invalid domain";
        return false;
    }
    at = strrchr(key, '@');
    dom = at + 1;
    if (at == key) {
        *kind = SH_RULE_DOMAIN;
        if (*dom == '.') {
            *kind = SH_RULE_SUBDOMAIN;
            dom++;
        }
    } else {
        *kind = SH_RULE_ADDRESS;
        if (at - key > MAX_LOCALPART) {
            *why = "invalid local part (1-64 printable characters, no spaces)";
            return false;
        }
        for (const char *p = key; p < at; p++)
            if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
                *why = "invalid local part (1-64 printable characters, no spaces)";
                return false;
            }
    }
    if (!sh_domain_valid(dom, strlen(dom))) {
        *why = "invalid domain";
        return false;
    }
    return true;
}

bool sh_sender_walk(const char *key, size_t klen, const char *delims,
                    bool (*fn)(void *ctx, const char *cand, size_t len, enum sh_via via), void *ctx)
{
    char alt[SH_MAX_KEY + 3];
    const char *at = memchr(key, '@', klen) ? strrchr(key, '@') : NULL;

    if (fn(ctx, key, klen, SH_VIA_ADDRESS))
        return true;
    if (at && at > key && delims[0]) {
        size_t local = sh_canon_noext(key, klen, delims);
        if (local > 0) {
            size_t n = (size_t)(at - key) - local;
            memcpy(alt, key, local);
            memcpy(alt + local, at, klen - (size_t)(at - key) + 1);
            if (fn(ctx, alt, klen - n, SH_VIA_ADDRESS_NOEXT))
                return true;
        }
    }
    if (at == NULL || at[1] == 0)
        return false;
    alt[0] = '@';
    strcpy(alt + 1, at + 1);
    if (fn(ctx, alt, strlen(alt), SH_VIA_DOMAIN))
        return true;
    /* @.parent matches strict subdomains: a@x.example.com tries @.example.com, @.com */
    for (const char *p = strchr(at + 1, '.'); p && p[1]; p = strchr(p + 1, '.')) {
        strcpy(alt + 1, p);
        if (fn(ctx, alt, strlen(alt), SH_VIA_PARENT))
            return true;
    }
    return false;
}

/* Every rule a sender matches, most specific first: the address, the address
 * without extension, @domain and at most 127 @.parent domains. */
#define MAX_HITS (SH_MAX_KEY / 2 + 8)

struct try_ctx {
    const struct sh_snapshot *s;
    const struct sh_rule *skip; /* sh_rule_inherited_relay: the rule itself */
    const struct sh_rule *hits[MAX_HITS];
    enum sh_via via[MAX_HITS];
    size_t n;
};

static bool collect(void *ctx, const char *key, size_t len, enum sh_via via)
{
    struct try_ctx *t = ctx;
    const struct sh_rule *r = strmap_get(t->s->rule_index, key, len);

    /* "@d" is offered twice for a pattern "@d" (as itself and as its domain) */
    if (r && r != t->skip && (t->n == 0 || t->hits[t->n - 1] != r) && t->n < MAX_HITS) {
        t->hits[t->n] = r;
        t->via[t->n++] = via;
    }
    return false; /* rules further down may hold the relay or the credentials */
}

bool sh_null_sender_key(const char *key, size_t len)
{
    return len == 0 || (len == 2 && memcmp(key, "<>", 2) == 0) ||
           (len == 4 && memcmp(key, "\"<>\"", 4) == 0);
}

static void walk(const struct sh_snapshot *s, const char *key, size_t klen, struct try_ctx *t)
{
    t->s = s;
    t->n = 0;
    if (sh_null_sender_key(key, klen))
        collect(t, "<>", 2, SH_VIA_NULL_SENDER);
    else
        sh_sender_walk(key, klen, s->delimiters, collect, t);
}

/* The first rule that names a relay (or direct) decides; else the default relay. */
static void decide_relay(const struct sh_snapshot *s, const struct try_ctx *t,
                         struct sh_decision *d)
{
    d->rule = NULL;
    d->relay = s->default_relay;
    d->via = s->default_relay ? SH_VIA_DEFAULT : SH_VIA_NONE;
    for (size_t i = 0; i < t->n; i++)
        if (t->hits[i]->relay_set) {
            d->rule = t->hits[i];
            d->relay = t->hits[i]->relay;
            d->via = t->via[i];
            return;
        }
}

const struct sh_relay *sh_rule_inherited_relay(const struct sh_snapshot *s,
                                               const struct sh_rule *rule)
{
    struct try_ctx t = {.skip = rule};
    struct sh_decision d;

    if (rule->kind == SH_RULE_NULL)
        t.s = s; /* nothing is less specific than <> but the default */
    else
        walk(s, rule->key, strlen(rule->key), &t);
    decide_relay(s, &t, &d);
    return d.relay;
}

enum sh_outcome sh_resolve_sender(const struct sh_snapshot *s, const char *sender, size_t len,
                                  struct sh_decision *d)
{
    struct try_ctx t = {.skip = NULL};
    char key[SH_MAX_KEY + 1];
    int klen;

    if ((klen = sh_sender_key(sender, len, key)) < 0)
        return SH_PERM;
    /* For the null sender Postfix sends empty_address_relayhost_maps_lookup_key ("<>"),
     * quoted first ("\"<>\""), then as is: sh_null_sender_key. */
    walk(s, key, (size_t)klen, &t);
    decide_relay(s, &t, d);
    d->cred = NULL;
    d->cred_rule = NULL;
    if (d->relay == NULL)
        return SH_FOUND; /* direct: never any credentials */
    for (size_t i = 0; i < t.n; i++)
        if (t.hits[i]->cred && t.hits[i]->cred_relay == d->relay) {
            d->cred = t.hits[i]->cred;
            d->cred_rule = t.hits[i];
            return SH_FOUND;
        }
    d->cred = d->relay->cred;
    return SH_FOUND;
}
