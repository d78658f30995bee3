/* addr822.c - tokens, quoting and unquoting of envelope addresses, as Postfix's tok822 does them.
 */
#include <string.h>

#include "addr822.h"

/* Postfix's single-character operators: "|%!" and RFC 822's specials. */
#define OPCHARS "|%!()<>@,;:\\\".[]"

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static bool is_word(int type)
{
    return type == A822_ATOM || type == A822_QSTRING || type == A822_DOMLIT;
}

/* The content of a quoted string or domain literal starting after its opening
 * character at S[*i]; false when it never closes. A backslash takes the next
 * byte with it (tok822's COLLECT). */
static bool collect(const char *s, size_t len, size_t *i, char close)
{
    for (; *i < len; (*i)++) {
        unsigned char c = (unsigned char)s[*i];
        if (c == '\\') {
            if (++*i == len)
                return false;
            continue;
        }
        if (c == (unsigned char)close)
            return true;
        if (c == '\r' || c == '\n' || c == 0)
            return false;
    }
    return false;
}

bool a822_scan(const char *s, size_t len, struct a822_tok *t, size_t cap, size_t *n)
{
    size_t k = 0;

    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        struct a822_tok tok;

        if (k == cap || c == 0 || c == ' ' || c == '\t' || is_ctl(c))
            return false;
        if (c == '"' || c == '[') {
            size_t start = ++i;
            if (!collect(s, len, &i, c == '"' ? '"' : ']'))
                return false;
            tok = (struct a822_tok){c == '"' ? A822_QSTRING : A822_DOMLIT, s + start, i - start};
            i++;
        } else if (strchr(OPCHARS, c) != NULL) {
            if (strchr("@%!.:,", c) == NULL)
                return false; /* comments, brackets, ; | and a bare backslash */
            tok = (struct a822_tok){c, s + i, 1};
            i++;
        } else {
            size_t start = i;
            while (i < len && s[i] != ' ' && s[i] != '\t' && !is_ctl((unsigned char)s[i]) &&
                   strchr(OPCHARS, s[i]) == NULL)
                i++;
            tok = (struct a822_tok){A822_ATOM, s + start, i - start};
        }
        /* tok822 would put a space between two words: not an address form we judge */
        if (k > 0 && is_word(tok.type) && is_word(t[k - 1].type))
            return false;
        t[k++] = tok;
    }
    *n = k;
    return true;
}

int a822_externalize(const struct a822_tok *t, size_t n, char *out, size_t cap)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++) {
        size_t need = t[i].len + (t[i].type == A822_QSTRING || t[i].type == A822_DOMLIT ? 2 : 0);
        if (t[i].type < 256)
            need = 1;
        if (w + need >= cap)
            return -1;
        switch (t[i].type) {
        case A822_ATOM:
            memcpy(out + w, t[i].p, t[i].len);
            break;
        case A822_QSTRING:
        case A822_DOMLIT:
            out[w] = t[i].type == A822_QSTRING ? '"' : '[';
            memcpy(out + w + 1, t[i].p, t[i].len);
            out[w + need - 1] = t[i].type == A822_QSTRING ? '"' : ']';
            break;
        default:
            out[w] = (char)t[i].type;
        }
        w += need;
    }
    out[w] = 0;
    return (int)w;
}

/* quote_822_local.c is_822_dot_string(), with QUOTE_FLAG_8BITCLEAN. */
static bool dot_string(const char *p, const char *end)
{
    if (p == end || *p == '.' || end[-1] == '.')
        return false;
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c == '.' && p + 1 < end && p[1] == '.') || c == ' ' || is_ctl(c) ||
            strchr("()<>@,;:\\\"[]", c) != NULL)
            return false;
    }
    return true;
}

int a822_quote_local(const char *in, char *out, size_t cap)
{
    const char *start = in, *end, *colon;
    size_t w = 0;

    if (in[0] == '@' && (colon = strchr(in, ':')) != NULL)
        start = colon + 1;
    if ((end = strrchr(start, '@')) == NULL)
        end = start + strlen(start);
    if (dot_string(start, end)) {
        if (strlen(in) >= cap)
            return -1;
        strcpy(out, in);
        return (int)strlen(out);
    }
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (w + 1 >= cap)                                                                          \
            return -1;                                                                             \
        out[w++] = (ch);                                                                           \
    } while (0)
    for (const char *p = in; p < start; p++)
        PUT(*p);
    PUT('"');
    for (const char *p = start; p < end; p++) {
        if (*p == '"' || *p == '\\' || *p == '\r')
            PUT('\\');
        PUT(*p);
    }
    PUT('"');
    for (const char *p = end; *p; p++)
        PUT(*p);
    out[w] = 0;
    return (int)w;
}

int a822_unquote_local(const char *in, char *out, size_t cap)
{
    const char *start = in, *colon, *bare_at = NULL;
    size_t w = 0, at_pos = 0;
    bool quoted = false;

    if (in[0] == '@' && (colon = strchr(in, ':')) != NULL) {
        start = colon + 1;
        for (const char *p = in; p < start; p++)
            PUT(*p);
    }
    for (const char *p = start; *p; p++) {
        if (*p == '"') {
            quoted = !quoted;
            continue;
        }
        if (*p == '@' && !quoted) {
            at_pos = w;
            bare_at = p;
        } else if (*p == '\\') {
            if (p[1] == 0)
                continue;
            p++;
        }
        PUT(*p);
    }
    if (bare_at) { /* the text after the last unquoted @ stays as it was */
        w = at_pos;
        for (const char *p = bare_at; *p; p++)
            PUT(*p);
    }
    out[w] = 0;
    return (int)w;
}
