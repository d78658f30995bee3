/* resolve.c - most specific sender rule wins, deterministically:
 * address, address without extension, @domain, nearest @.parent, <>, default. */
#include <string.h>

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
    return (int)len;
}

static bool try_key(const struct sh_snapshot *s, const char *key, size_t len, enum sh_via via,
                    struct sh_decision *d)
{
    const struct sh_rule *r = strmap_get(s->rule_index, key, len);

    if (r == NULL)
        return false;
    d->via = via;
    d->rule = r;
    d->relay = r->relay;
    return true;
}

enum sh_outcome sh_resolve_sender(const struct sh_snapshot *s, const char *sender, size_t len,
                                  struct sh_decision *d)
{
    char key[SH_MAX_KEY + 1], alt[SH_MAX_KEY + 3];
    const char *at, *dom;
    int klen;

    if ((klen = sh_sender_key(sender, len, key)) < 0)
        return SH_PERM;
    /* Postfix sends empty_address_relayhost_maps_lookup_key ("<>") for the null sender. */
    if (klen == 0 || strcmp(key, "<>") == 0) {
        if (try_key(s, "<>", 2, SH_VIA_NULL_SENDER, d))
            return SH_FOUND;
        goto fallback;
    }
    if (try_key(s, key, (size_t)klen, SH_VIA_ADDRESS, d))
        return SH_FOUND;
    at = strrchr(key, '@');
    if (at && at > key && s->delimiters[0]) {
        size_t local = strcspn(key, s->delimiters);
        if (local > 0 && key + local < at) {
            size_t n = (size_t)(at - key) - local;
            memcpy(alt, key, local);
            memcpy(alt + local, at, (size_t)klen - (size_t)(at - key) + 1);
            if (try_key(s, alt, (size_t)klen - n, SH_VIA_ADDRESS_NOEXT, d))
                return SH_FOUND;
        }
    }
    if (at && at[1]) {
        dom = at + 1;
        alt[0] = '@';
        strcpy(alt + 1, dom);
        if (try_key(s, alt, strlen(alt), SH_VIA_DOMAIN, d))
            return SH_FOUND;
        /* @.parent rules match strict subdomains: a@x.example.com tries @.example.com, @.com */
        for (const char *p = strchr(dom, '.'); p && p[1]; p = strchr(p + 1, '.')) {
            alt[0] = '@';
            strcpy(alt + 1, p);
            if (try_key(s, alt, strlen(alt), SH_VIA_PARENT, d))
                return SH_FOUND;
        }
    }
fallback:
    d->rule = NULL;
    d->relay = s->default_relay;
    d->via = s->default_relay ? SH_VIA_DEFAULT : SH_VIA_NONE;
    return SH_FOUND;
}
