/* fuzz_addrlist.c - the RFC 5322 address-list parser on hostile bytes (libFuzzer target).
 *
 * Besides not crashing: every span lies inside the input and inside its mailbox, mailboxes
 * come in order, and replacing the only mailbox's addr-spec (what the milter's sender
 * rewrite does) gives a value that parses again to one mailbox with the new address and
 * the same display name. Short inputs are also parsed cut at every length, which walks the
 * lexer through every unterminated state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addrlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void within(struct sh_span in, struct sh_span outer)
{
    if (in.len && (in.off < outer.off || in.off + in.len > outer.off + outer.len))
        abort();
}

static void check(const char *s, size_t len, const struct sh_addrlist *al)
{
    struct sh_span all = {0, len};
    char text[4096];

    if (al->n > SH_ADDRLIST_MAX_MAILBOXES || al->ngroups > SH_ADDRLIST_MAX_GROUPS)
        abort();
    for (size_t i = 0; i < al->n; i++) {
        const struct sh_mailbox *m = &al->mbox[i];
        within(m->whole, all);
        within(m->name, m->whole);
        within(m->inside, m->whole);
        within(m->route, m->inside);
        within(m->spec, m->angle ? m->inside : m->whole);
        within(m->local, m->spec);
        within(m->domain, m->spec);
        if (m->spec.len == 0 || m->local.len == 0 || m->domain.len == 0 ||
            (m->angle && m->inside.len == 0))
            abort();
        if (i > 0 && m->whole.off < al->mbox[i - 1].whole.off + al->mbox[i - 1].whole.len)
            abort(); /* out of order or overlapping */
        if (m->group >= (int)al->ngroups)
            abort();
        (void)sh_addrlist_text(s, m->local, text, sizeof(text));
        (void)sh_addrlist_text(s, m->domain, text, sizeof(text));
    }
}

/* The milter's splice: the only mailbox gets new@rewrite.example, everything else stays. */
static void resplice(const char *s, size_t len, const struct sh_addrlist *al)
{
    static const char id[] = "new@rewrite.example";
    const struct sh_mailbox *m = &al->mbox[0];
    struct sh_span r = m->angle ? m->inside : m->spec;
    struct sh_addrlist *again = malloc(sizeof(*again));
    char *out = malloc(len - r.len + sizeof(id)), local[64], domain[64];
    const char *why;
    size_t at, n = 0;

    if (again == NULL || out == NULL)
        abort();
    memcpy(out, s, r.off);
    n = r.off;
    memcpy(out + n, id, sizeof(id) - 1);
    n += sizeof(id) - 1;
    memcpy(out + n, s + r.off + r.len, len - r.off - r.len);
    n += len - r.off - r.len;
    if (!sh_addrlist_parse(out, n, again, &why, &at) || again->n != 1 || again->ngroups != 0)
        abort();
    if (!sh_addrlist_text(out, again->mbox[0].local, local, sizeof(local)) ||
        !sh_addrlist_text(out, again->mbox[0].domain, domain, sizeof(domain)) ||
        strcmp(local, "new") != 0 || strcmp(domain, "rewrite.example") != 0)
        abort();
    if (again->mbox[0].name.len != m->name.len ||
        memcmp(out + again->mbox[0].name.off, s + m->name.off, m->name.len) != 0)
        abort(); /* the display name is kept as written */
    free(out);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct sh_addrlist *al = malloc(sizeof(*al));
    const char *why;
    size_t at;

    if (al == NULL)
        return 0;
    for (size_t cut = size <= 512 ? 0 : size; cut <= size; cut++) {
        why = NULL;
        if (sh_addrlist_parse(s, cut, al, &why, &at)) {
            check(s, cut, al);
            if (al->n == 1 && al->ngroups == 0)
                resplice(s, cut, al);
        } else if (why == NULL || at > cut) {
            abort(); /* a refusal says why and where */
        }
    }
    free(al);
    return 0;
}
