/* lline.c - the one logical-line reader for table-like files. */
#include <string.h>

#include "lline.h"

void sh_lline_init(struct sh_lline *r, const char *text, size_t len)
{
    r->text = text;
    r->len = len;
    r->pos = 0;
    r->lineno = 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

enum sh_lline_status sh_lline_next(struct sh_lline *r, char *buf, size_t cap, unsigned *line)
{
    size_t n = 0;
    int have = 0;

    while (r->pos < r->len) {
        const char *pl = r->text + r->pos;
        const char *nl = memchr(pl, '\n', r->len - r->pos);
        size_t plen = nl ? (size_t)(nl - pl) : r->len - r->pos;
        size_t next = nl ? r->pos + plen + 1 : r->len;
        size_t k = 0;

        if (plen && pl[plen - 1] == '\r')
            plen--;
        while (k < plen && is_ws(pl[k]))
            k++;
        int skip = k == plen || pl[k] == '#';
        int cont = plen > 0 && is_ws(pl[0]); /* Postfix: any white space continues */

        if (have && !skip && !cont)
            break; /* the next logical line starts here: leave it for the next call */
        r->pos = next;
        r->lineno++;
        if (memchr(pl, 0, plen)) {
            *line = r->lineno;
            return SH_LLINE_NUL;
        }
        if (skip)
            continue;
        if (!have && cont) {
            *line = r->lineno;
            return SH_LLINE_ORPHAN;
        }
        if (!have)
            *line = r->lineno;
        if (plen >= cap - n) {
            return SH_LLINE_TOO_LONG;
        }
        memcpy(buf + n, pl, plen);
        n += plen;
        have = 1;
    }
    if (!have)
        return SH_LLINE_END;
    buf[n] = 0;
    return SH_LLINE_OK;
}
