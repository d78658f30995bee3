/* addrlist.c - RFC 5322 address-list parser: a lexer over CFWS and a one-token-lookahead parser. */
#include <string.h>

#include "addrlist.h"

/* Token types besides the single-character specials < > @ , ; : . */
enum { T_END = 256, T_ERR, T_ATOM, T_QSTR, T_DLIT };

struct tok {
    int type;
    size_t off, len;
};

struct parser {
    const char *s;
    size_t len, pos; /* pos: where the next token's CFWS starts */
    struct tok t;    /* the current token */
    const char *why;
    size_t at;
};

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 5322 atext, plus every 8-bit byte (RFC 6532 UTF-8; raw legacy charsets are passed on
 * untouched, as Postfix does: no special of the grammar is an 8-bit byte). */
static bool is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80 || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int fail(struct parser *p, const char *why, size_t at)
{
    if (p->why == NULL) {
        p->why = why;
        p->at = at;
    }
    p->t.type = T_ERR;
    p->t.off = at;
    p->t.len = 0;
    return T_ERR;
}

/* A line break at I: only as folding, CRLF or LF followed by white space (Postfix hands
 * milters folded values with LF). Returns the bytes of the break, 0 when it is not folding. */
static size_t fold_at(const struct parser *p, size_t i)
{
    size_t n = p->s[i] == '\r' && i + 1 < p->len && p->s[i + 1] == '\n' ? 2 : 1;

    if (p->s[i] != '\r' && p->s[i] != '\n')
        return 0;
    if (p->s[i] == '\r' && n == 1)
        return 0; /* a bare CR */
    return i + n < p->len && is_wsp((unsigned char)p->s[i + n]) ? n : 0;
}

/* Bytes allowed inside a quoted string, comment or domain literal besides their delimiters
 * and quoted pairs: anything but NUL and a line break that is not folding. Returns the bytes
 * consumed at I, 0 on a byte that is not allowed (P->why set). */
static size_t inner_byte(struct parser *p, size_t i, const char *what)
{
    unsigned char c = (unsigned char)p->s[i];
    size_t n;

    if (c == 0)
        return fail(p, "NUL byte", i), 0;
    if (c == '\r' || c == '\n') {
        if ((n = fold_at(p, i)) == 0)
            return fail(p, "line break not followed by white space", i), 0;
        return n;
    }
    if (c == '\\') {
        if (i + 1 >= p->len)
            return fail(p, what, i), 0;
        c = (unsigned char)p->s[i + 1];
        if (c == 0 || c == '\r' || c == '\n')
            return fail(p, "backslash before NUL or a line break", i), 0;
        return 2;
    }
    return 1;
}

/* Skip white space, folding and (nested) comments from P->pos. False on trouble. */
static bool skip_cfws(struct parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        size_t n;

        if (is_wsp(c)) {
            p->pos++;
        } else if (c == '\r' || c == '\n') {
            if ((n = fold_at(p, p->pos)) == 0)
                return fail(p, "line break not followed by white space", p->pos), false;
            p->pos += n;
        } else if (c == '(') {
            size_t start = p->pos, depth = 1;
            p->pos++;
            while (depth > 0) {
                if (p->pos >= p->len)
                    return fail(p, "unterminated comment", start), false;
                c = (unsigned char)p->s[p->pos];
                if (c == '(' || c == ')') {
                    depth = c == '(' ? depth + 1 : depth - 1;
                    p->pos++;
                } else if ((n = inner_byte(p, p->pos, "unterminated comment")) == 0) {
                    return false;
                } else {
                    p->pos += n;
                }
            }
        } else {
            return true;
        }
    }
    return true;
}

/* A quoted string or domain literal opening at P->pos, up to CLOSE. */
static int delimited(struct parser *p, char close, int type, const char *unterminated)
{
    size_t start = p->pos, n;

    p->pos++;
    for (;;) {
        if (p->pos >= p->len)
            return fail(p, unterminated, start);
        if (p->s[p->pos] == close)
            break;
        if (type == T_DLIT && p->s[p->pos] == '[')
            return fail(p, "[ inside a domain literal", p->pos);
        if ((n = inner_byte(p, p->pos, unterminated)) == 0)
            return T_ERR;
        p->pos += n;
    }
    p->pos++;
    p->t = (struct tok){type, start, p->pos - start};
    return type;
}

/* Read the next token into P->t; returns its type. */
static int next(struct parser *p)
{
    unsigned char c;
    size_t start;

    if (p->t.type == T_ERR)
        return T_ERR;
    if (!skip_cfws(p))
        return T_ERR;
    start = p->pos;
    if (p->pos >= p->len) {
        p->t = (struct tok){T_END, p->len, 0};
        return T_END;
    }
    c = (unsigned char)p->s[p->pos];
    if (c == '"')
        return delimited(p, '"', T_QSTR, "unterminated quoted string");
    if (c == '[')
        return delimited(p, ']', T_DLIT, "unterminated domain literal");
    if (c != 0 && strchr("<>@,;:.", c)) {
        p->pos++;
        p->t = (struct tok){c, start, 1};
        return c;
    }
    if (c == ')')
        return fail(p, ") without (", start);
    if (c == ']')
        return fail(p, "] without [", start);
    if (c == '\\')
        return fail(p, "backslash outside a quoted string", start);
    if (c == 0)
        return fail(p, "NUL byte", start);
    if (!is_atext(c))
        return fail(p, "control character", start);
    while (p->pos < p->len && is_atext((unsigned char)p->s[p->pos]))
        p->pos++;
    p->t = (struct tok){T_ATOM, start, p->pos - start};
    return T_ATOM;
}

static size_t tok_end(const struct tok *t)
{
    return t->off + t->len;
}

/* What this address is: the first of `<` (name-addr), `:` (group), or `,` `;` end (a bare
 * addr-spec), looked up without consuming anything. */
static int shape(const struct parser *p)
{
    struct parser look = *p;

    for (int t = look.t.type;; t = next(&look))
        if (t == '<' || t == ':' || t == ',' || t == ';' || t == T_END || t == T_ERR)
            return t;
}

static bool is_word(int t)
{
    return t == T_ATOM || t == T_QSTR;
}

/* A domain: dot-atom / obs-domain (CFWS between atoms) or a domain literal. */
static bool domain(struct parser *p, struct sh_span *span)
{
    size_t start = p->t.off, end;

    if (p->t.type == T_DLIT) {
        end = tok_end(&p->t);
        next(p);
    } else {
        for (;;) {
            if (p->t.type != T_ATOM)
                return fail(p, "expected a domain", p->t.off), false;
            end = tok_end(&p->t);
            if (next(p) != '.')
                break;
            next(p);
        }
    }
    if (span)
        *span = (struct sh_span){start, end - start};
    return p->t.type != T_ERR;
}

/* local-part "@" domain. Dots may be doubled or lead or trail (Postfix and Japanese mobile
 * carriers do it); two words without a dot between are refused. */
static bool addr_spec(struct parser *p, struct sh_mailbox *m)
{
    size_t start = p->t.off, end = start, words = 0;
    bool last_word = false;

    while (is_word(p->t.type) || p->t.type == '.') {
        bool w = is_word(p->t.type);
        if (w && last_word)
            return fail(p, "words of a local part not joined by dots", p->t.off), false;
        words += w;
        last_word = w;
        end = tok_end(&p->t);
        next(p);
    }
    if (p->t.type == T_ERR)
        return false;
    if (words == 0)
        return fail(p, "expected an address", p->t.off), false;
    if (p->t.type != '@')
        return fail(p, "address without @domain", p->t.off), false;
    m->local = (struct sh_span){start, end - start};
    next(p);
    if (!domain(p, &m->domain))
        return false;
    m->spec = (struct sh_span){start, m->domain.off + m->domain.len - start};
    return true;
}

/* obs-route: *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]) ":" */
static bool obs_route(struct parser *p, struct sh_span *span)
{
    size_t start = p->t.off;
    size_t domains = 0;

    for (;;) {
        while (p->t.type == ',')
            next(p);
        if (p->t.type != '@')
            break;
        next(p);
        if (!domain(p, NULL))
            return false;
        domains++;
    }
    if (p->t.type == T_ERR)
        return false;
    if (domains == 0 || p->t.type != ':')
        return fail(p, "source route without @domain:", p->t.off), false;
    *span = (struct sh_span){start, tok_end(&p->t) - start};
    next(p);
    return true;
}

static bool mailbox(struct parser *p, struct sh_mailbox *m)
{
    size_t start = p->t.off;

    memset(m, 0, sizeof(*m));
    m->group = -1;
    if (shape(p) != '<') {
        if (!addr_spec(p, m))
            return false;
        m->whole = m->spec;
        return true;
    }
    /* display name: a phrase, with the dots of obs-phrase and the `@` some MUAs leave
     * unquoted; it ends at `<` */
    while (p->t.type != '<') {
        if (!is_word(p->t.type) && p->t.type != '.' && p->t.type != '@')
            return fail(p, "not a display name", p->t.off), false;
        m->name = (struct sh_span){start, tok_end(&p->t) - start};
        next(p);
    }
    m->angle = true;
    m->inside.off = tok_end(&p->t);
    next(p);
    if ((p->t.type == '@' || p->t.type == ',') && !obs_route(p, &m->route))
        return false;
    if (p->t.type == '>')
        return fail(p, "empty address <>", p->t.off), false;
    if (!addr_spec(p, m))
        return false;
    if (p->t.type != '>')
        return fail(p, "expected > after the address", p->t.off), false;
    m->inside.len = p->t.off - m->inside.off;
    m->whole = (struct sh_span){start, tok_end(&p->t) - start};
    next(p);
    return p->t.type != T_ERR;
}

/* A group's display name, up to its `:` (the current token when this returns true). */
static bool group_name(struct parser *p, struct sh_span *name)
{
    size_t start = p->t.off;

    if (!is_word(p->t.type))
        return fail(p, "group without a name", p->t.off), false;
    while (p->t.type != ':') {
        if (!is_word(p->t.type) && p->t.type != '.')
            return fail(p, "not a group name", p->t.off), false;
        *name = (struct sh_span){start, tok_end(&p->t) - start};
        next(p);
    }
    return true;
}

bool sh_addrlist_parse(const char *s, size_t len, struct sh_addrlist *out, const char **why,
                       size_t *at)
{
    struct parser p = {.s = s, .len = len};
    int group = -1;

    out->n = out->ngroups = 0;
    next(&p);
    for (;;) {
        while (p.t.type == ',') /* obs-addr-list: empty elements */
            next(&p);
        if (p.t.type == T_ERR)
            break;
        if (p.t.type == T_END) {
            if (group >= 0)
                fail(&p, "group not closed with ;", p.t.off);
            break;
        }
        if (p.t.type == ';') {
            if (group < 0) {
                fail(&p, "; outside a group", p.t.off);
                break;
            }
            out->group[group].n = out->n - out->group[group].first;
            group = -1;
            if (next(&p) != ',' && p.t.type != T_END) {
                fail(&p, "expected , after a group", p.t.off);
                break;
            }
            continue;
        }
        if (shape(&p) == ':') {
            struct sh_group *g = &out->group[out->ngroups];
            if (group >= 0) {
                fail(&p, "group inside a group", p.t.off);
                break;
            }
            if (out->ngroups == SH_ADDRLIST_MAX_GROUPS) {
                fail(&p, "too many groups", p.t.off);
                break;
            }
            memset(g, 0, sizeof(*g));
            if (!group_name(&p, &g->name))
                break;
            g->first = out->n;
            group = (int)out->ngroups++;
            next(&p);
            continue;
        }
        if (out->n == SH_ADDRLIST_MAX_MAILBOXES) {
            fail(&p, "too many mailboxes", p.t.off);
            break;
        }
        if (!mailbox(&p, &out->mbox[out->n]))
            break;
        out->mbox[out->n++].group = group;
        if (p.t.type != ',' && p.t.type != T_END && !(p.t.type == ';' && group >= 0)) {
            fail(&p,
                 p.t.type == '<' ? "a second <address> in one mailbox"
                                 : "expected , between addresses",
                 p.t.off);
            break;
        }
    }
    if (p.why) {
        *why = p.why;
        *at = p.at;
        return false;
    }
    return true;
}

bool sh_addrlist_text(const char *s, struct sh_span span, char *out, size_t cap)
{
    size_t o = 0, depth = 0;
    char quote = 0; /* '"' or ']' while inside one */

    for (size_t i = span.off; i < span.off + span.len; i++) {
        char c = s[i];
        if (c == '\r' || c == '\n')
            continue; /* unfold */
        if (depth > 0) {
            if (c == '\\')
                i++;
            else if (c == '(')
                depth++;
            else if (c == ')')
                depth--;
            continue;
        }
        if (quote == 0 && (c == ' ' || c == '\t'))
            continue;
        if (quote == ']' && (c == ' ' || c == '\t'))
            continue;
        if (quote == 0 && c == '(') {
            depth = 1;
            continue;
        }
        if (o + 2 >= cap)
            return false;
        out[o++] = c;
        if (c == '\\' && quote && i + 1 < span.off + span.len) {
            out[o++] = s[++i];
            continue;
        }
        if (quote == 0 && (c == '"' || c == '['))
            quote = c == '"' ? '"' : ']';
        else if (quote && c == quote)
            quote = 0;
    }
    if (o >= cap)
        return false;
    out[o] = 0;
    return true;
}
