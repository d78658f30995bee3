/* canon.c - Postfix's envelope address rewriting (trivial-rewrite rewrite.c and resolve.c,
 * cleanup_addr.c, split_addr.c), mirrored on addr822 tokens; IDN through libidn2. */
#include <idn2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr822.h"
#include "canon.h"
#include "resolve.h"

/* An address is at most SH_MAX_KEY bytes, so at most that many tokens, plus
 * what $myorigin, $mydomain or $myhostname appends. */
#define MAX_TOKS   (SH_MAX_KEY + 3 * (SH_CANON_MAX_NAME + 2))
#define BUF        (SH_MAX_KEY + 3 * (SH_CANON_MAX_NAME + 2) + 8)
#define ARENA      (8 * BUF)
#define EMPTY_RCPT "MAILER-DAEMON" /* Postfix's empty_address_recipient */

void sh_canon_defaults(struct sh_canon *c)
{
    memset(c, 0, sizeof(*c));
    c->allow_percent_hack = true;
    c->swap_bangpath = true;
    c->append_at_myorigin = true;
    c->append_dot_mydomain = false;
    c->resolve_dequoted_address = true;
}

/* A token list with the text its words point into (rescans copy it here). */
struct tree {
    struct a822_tok t[MAX_TOKS];
    size_t n;
    char arena[ARENA];
    size_t used;
    const char *why;
};

static bool fail(struct tree *tr, const char *why)
{
    tr->why = why;
    return false;
}

static long find(const struct tree *tr, int type, size_t from)
{
    for (size_t i = from; i < tr->n; i++)
        if (tr->t[i].type == type)
            return (long)i;
    return -1;
}

static long rfind(const struct tree *tr, int type)
{
    for (size_t i = tr->n; i-- > 0;)
        if (tr->t[i].type == type)
            return (long)i;
    return -1;
}

static bool push(struct tree *tr, int type, const char *p, size_t len)
{
    if (tr->n == MAX_TOKS)
        return fail(tr, "address too long to judge");
    tr->t[tr->n++] = (struct a822_tok){type, p, len};
    return true;
}

/* Append the tokens of S, which outlives the tree (a setting), to TR. */
static bool append_scan(struct tree *tr, const char *s)
{
    size_t n;

    if (!a822_scan(s, strlen(s), tr->t + tr->n, MAX_TOKS - tr->n, &n))
        return fail(tr, "a Postfix name setting is not a domain");
    tr->n += n;
    return true;
}

/* Replace TR's tokens with those of S, copied into the arena first. */
static bool rescan(struct tree *tr, const char *s)
{
    size_t len = strlen(s);
    char *copy = tr->arena + tr->used;

    if (tr->used + len + 1 > sizeof(tr->arena))
        return fail(tr, "address too complex to judge");
    memcpy(copy, s, len + 1);
    tr->used += len + 1;
    if (!a822_scan(copy, len, tr->t, MAX_TOKS, &tr->n))
        return fail(tr, "not an address form Postfix is sure to read the same way");
    return true;
}

static void reverse(struct a822_tok *t, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        struct a822_tok x = t[i];
        t[i] = t[n - 1 - i];
        t[n - 1 - i] = x;
    }
}

/* T[from..n) as internal text (tok822_internalize): quoted strings without
 * their quotes and escapes. -1 when it does not fit. */
static int internalize(const struct a822_tok *t, size_t from, size_t n, char *out, size_t cap)
{
    size_t w = 0;

    for (size_t i = from; i < n; i++) {
        const struct a822_tok *k = &t[i];
        if (w + k->len + 3 >= cap)
            return -1;
        if (k->type == A822_ATOM) {
            memcpy(out + w, k->p, k->len);
            w += k->len;
        } else if (k->type == A822_QSTRING) {
            for (size_t j = 0; j < k->len; j++) {
                if (k->p[j] == '\\' && j + 1 < k->len)
                    j++;
                out[w++] = k->p[j];
            }
        } else if (k->type == A822_DOMLIT) {
            out[w++] = '[';
            memcpy(out + w, k->p, k->len);
            w += k->len;
            out[w++] = ']';
        } else {
            out[w++] = (char)k->type;
        }
    }
    out[w] = 0;
    return (int)w;
}

/* trivial-rewrite rewrite_tree() in the local context. */
static bool rewrite_tree(const struct sh_canon *c, struct tree *tr)
{
    struct a822_tok *t = tr->t;
    long colon, at, op;

    if (tr->n == 0 || (tr->n == 1 && t[0].type == A822_QSTRING && t[0].len == 0))
        return true; /* the empty address */
    if (tr->n == 1 && t[0].type == '@') {
        t[0] = (struct a822_tok){A822_QSTRING, "", 0}; /* a lone @ is the empty address */
        return true;
    }
    /* strip a source route @a,@b:user@c */
    if (t[0].type == '@' && (colon = find(tr, ':', 0)) >= 0 && (size_t)colon != tr->n - 1) {
        memmove(t, t + colon + 1, (tr->n - (size_t)colon - 1) * sizeof(*t));
        tr->n -= (size_t)colon + 1;
    }
    if (rfind(tr, '@') < 0) {
        if (c->swap_bangpath && (op = find(tr, '!', 0)) >= 0) {
            /* domain!user -> user@domain (the first !: a!b!u -> b!u@a) */
            reverse(t, tr->n);
            reverse(t, tr->n - (size_t)op - 1);
            reverse(t + tr->n - (size_t)op, (size_t)op);
            t[tr->n - (size_t)op - 1].type = '@';
        } else if (c->allow_percent_hack && (op = rfind(tr, '%')) >= 0) {
            t[op].type = '@'; /* user%domain -> user@domain (the last %) */
        } else if (c->append_at_myorigin) {
            if (c->myorigin[0] == 0)
                return fail(tr, "a name without @ gets $myorigin, and myorigin is not known");
            if (!push(tr, '@', "@", 1) || !append_scan(tr, c->myorigin))
                return false;
        }
    }
    if (c->append_dot_mydomain && (at = rfind(tr, '@')) >= 0 && (size_t)at != tr->n - 1 &&
        find(tr, A822_DOMLIT, (size_t)at) < 0 && find(tr, '.', (size_t)at) < 0) {
        if (c->mydomain[0] == 0)
            return fail(tr, "append_dot_mydomain is set and mydomain is not known");
        if (!push(tr, '.', ".", 1) || !append_scan(tr, c->mydomain))
            return false;
    }
    /* one trailing dot, but not dot-dot or @-dot */
    if (tr->n > 1 && t[tr->n - 1].type == '.' && t[tr->n - 2].type != '.' &&
        t[tr->n - 2].type != '@')
        tr->n--;
    return true;
}

/* cleanup_rewrite_internal(): internal IN -> internal OUT (BUF bytes). */
static bool rewrite_internal(const struct sh_canon *c, struct tree *tr, const char *in, char *out)
{
    char ext[BUF], ext2[BUF];

    if (a822_quote_local(in, ext, sizeof(ext)) < 0)
        return fail(tr, "address too long to judge");
    tr->used = 0;
    if (!rescan(tr, ext) || !rewrite_tree(c, tr))
        return false;
    if (a822_externalize(tr->t, tr->n, ext2, sizeof(ext2)) < 0 ||
        a822_unquote_local(ext2, out, BUF) < 0)
        return fail(tr, "address too long to judge");
    return true;
}

/* The input as internal text into OUT (BUF bytes). */
static bool load_input(struct tree *tr, const char *in, size_t len, enum sh_canon_form form,
                       char *out)
{
    if (len > SH_MAX_KEY)
        return fail(tr, "too long or malformed to judge");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
            return fail(tr, "too long or malformed to judge");
    if (form == SH_CANON_INTERNAL) {
        memcpy(out, in, len);
        out[len] = 0;
        return true;
    }
    /* smtpd extract_addr(): without <>, without a source route, then parsed */
    if (len >= 2 && in[0] == '<' && in[len - 1] == '>') {
        in++;
        len -= 2;
    }
    if (len > 0 && in[0] == '@') {
        const char *colon = memchr(in, ':', len);
        if (colon != NULL) {
            len -= (size_t)(colon + 1 - in);
            in = colon + 1;
        }
    }
    if (!a822_scan(in, len, tr->t, MAX_TOKS, &tr->n))
        return fail(tr, "not an address form Postfix is sure to read the same way");
    return internalize(tr->t, 0, tr->n, out, BUF) >= 0 ? true
                                                       : fail(tr, "address too long to judge");
}

bool sh_canon_domain(const char *in, size_t len, char *out, size_t cap)
{
    char buf[BUF];
    bool ascii = true;

    if (len > 0 && in[len - 1] == '.' && (len < 2 || in[len - 2] != '.'))
        len--;
    if (len == 0 || len >= sizeof(buf))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch >= 0x80)
            ascii = false;
        buf[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    buf[len] = 0;
    if (!ascii && buf[0] != '[') {
        char *a = NULL;
        int rc = idn2_lookup_u8((const uint8_t *)buf, (uint8_t **)&a,
                                IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK || a == NULL || strlen(a) >= cap) {
            idn2_free(a);
            return false;
        }
        strcpy(out, a);
        idn2_free(a);
        return true;
    }
    if (len >= cap)
        return false;
    memcpy(out, buf, len + 1);
    return true;
}

/* Internal address -> canonical key (SH_MAX_KEY + 1 bytes). */
static bool finish(struct tree *tr, const char *in, char *out)
{
    const char *at = strrchr(in, '@');
    size_t local = at ? (size_t)(at - in) : strlen(in);

    if (local > SH_MAX_KEY)
        return fail(tr, "address too long to judge");
    for (size_t i = 0; i < local; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[local] = 0;
    if (at == NULL)
        return true;
    out[local] = '@';
    if (at[1] == 0) {
        out[local + 1] = 0;
        return true;
    }
    if (!sh_canon_domain(at + 1, strlen(at + 1), out + local + 1, SH_MAX_KEY - local))
        return fail(tr, "domain is not a valid international domain name");
    return true;
}

/* cleanup_addr_sender(): mailer-daemon@$myorigin is the null sender. */
static bool mailer_daemon(const struct sh_canon *c, const char *addr)
{
    struct tree *tr;
    char md[BUF];
    bool same;

    if (strncasecmp(addr, "mailer-daemon@", 14) != 0 || (tr = malloc(sizeof(*tr))) == NULL)
        return false; /* out of memory: judged as the address it is, the stricter way */
    same = rewrite_internal(c, tr, "MAILER-DAEMON", md) && strcasecmp(md, addr) == 0;
    free(tr);
    return same;
}

enum sh_canon_result sh_canon_sender(const struct sh_canon *c, const char *in, size_t len,
                                     enum sh_canon_form form, char *out, const char **why)
{
    struct tree *tr = malloc(sizeof(*tr));
    char a[BUF], b[BUF];
    enum sh_canon_result r = SH_CANON_UNJUDGEABLE;

    *why = "out of memory";
    out[0] = 0;
    if (tr == NULL)
        return r;
    tr->why = NULL;
    if (!load_input(tr, in, len, form, a))
        goto out;
    if (a[0] == 0) {
        r = SH_CANON_NULL;
        goto out;
    }
    if (!rewrite_internal(c, tr, a, b))
        goto out;
    if (b[0] == 0 || mailer_daemon(c, b)) {
        r = SH_CANON_NULL;
        goto out;
    }
    if (finish(tr, b, out))
        r = SH_CANON_OK;
out:
    if (r == SH_CANON_UNJUDGEABLE && tr->why)
        *why = tr->why;
    free(tr);
    return r;
}

/* trivial-rewrite resolve_addr()'s loop: strip local domains, rewrite what is
 * left, until a remote domain or none is left. *LOCAL: none was. */
static bool resolve(const struct sh_canon *c, struct tree *tr, const char *addr,
                    bool (*is_local)(void *ctx, const char *domain), void *ctx, bool *local)
{
    char ext[BUF], buf[BUF], dom[BUF];
    size_t max = strlen(addr) + 100;
    bool have_saved = false;

    tr->used = 0;
    if (a822_quote_local(addr, ext, sizeof(ext)) < 0 || !rescan(tr, ext))
        return false;
    for (size_t loop = 0;; loop++) {
        struct a822_tok *t = tr->t;
        long at;
        const char *oper = NULL;

        if (loop > max)
            return fail(tr, "address too complex to judge");
        if (tr->n > 1 && t[tr->n - 1].type == '.' && rfind(tr, '@') >= 0 &&
            t[tr->n - 2].type != '.' && t[tr->n - 2].type != '@')
            tr->n--;
        if ((at = rfind(tr, '@')) >= 0) {
            if ((size_t)at + 1 < tr->n) {
                size_t dl;
                if (internalize(t, (size_t)at + 1, tr->n, buf, sizeof(buf)) < 0)
                    return fail(tr, "address too long to judge");
                /* resolve_local(): one trailing dot, not dot-dot */
                dl = strlen(buf);
                if (dl > 0 && buf[dl - 1] == '.')
                    buf[--dl] = 0;
                if (dl == 0 || buf[dl - 1] == '.' || buf[0] == '[') {
                    *local = false; /* never one of our domain names */
                    return true;
                }
                if (!sh_canon_domain(buf, dl, dom, sizeof(dom)))
                    return fail(tr, "domain is not a valid international domain name");
                if (!is_local(ctx, dom)) {
                    *local = false;
                    return true;
                }
            }
            have_saved = true;
            tr->n = (size_t)at;
        }
        if (rfind(tr, '@') >= 0 || (c->swap_bangpath && rfind(tr, '!') >= 0) ||
            (c->allow_percent_hack && rfind(tr, '%') >= 0)) {
            if (!rewrite_tree(c, tr))
                return false;
            continue;
        }
        /* a quoted local part is cracked open for routing operators */
        if (c->resolve_dequoted_address && tr->n == 1 && t[0].type == A822_QSTRING) {
            if (internalize(t, 0, 1, buf, sizeof(buf)) < 0)
                return fail(tr, "address too long to judge");
            if ((oper = strrchr(buf, '@')) == NULL &&
                !(c->allow_percent_hack && (oper = strrchr(buf, '%')) != NULL))
                oper = c->swap_bangpath ? strrchr(buf, '!') : NULL;
        }
        if (oper != NULL) {
            char *op = buf + (oper - buf);
            if (*op == '%')
                *op = '@';
            if (*op == '@') {
                if (a822_quote_local(buf, ext, sizeof(ext)) < 0)
                    return fail(tr, "address too long to judge");
            } else {
                strcpy(ext, buf);
            }
            if (!rescan(tr, ext) || !rewrite_tree(c, tr))
                return false;
            continue;
        }
        if (tr->n == 1 && t[0].type == A822_QSTRING && t[0].len == 0)
            tr->n = 0;
        if (tr->n == 0) {
            if (!rescan(tr, EMPTY_RCPT))
                return false;
            continue;
        }
        if (at < 0 && !have_saved) {
            if (c->myhostname[0] == 0)
                return fail(tr, "a name without a domain gets $myhostname, which is not known");
            if (!push(tr, '@', "@", 1) || !append_scan(tr, c->myhostname))
                return false;
            continue;
        }
        break;
    }
    *local = true;
    return true;
}

enum sh_canon_result sh_canon_recipient(const struct sh_canon *c, const char *in, size_t len,
                                        enum sh_canon_form form,
                                        bool (*is_local)(void *ctx, const char *domain), void *ctx,
                                        char *out, bool *local, const char **why)
{
    struct tree *tr = malloc(sizeof(*tr));
    char a[BUF], b[BUF];
    enum sh_canon_result r = SH_CANON_UNJUDGEABLE;

    *why = "out of memory";
    *local = false;
    out[0] = 0;
    if (tr == NULL)
        return r;
    tr->why = NULL;
    if (!load_input(tr, in, len, form, a))
        goto out;
    if (a[0] == 0) {
        r = SH_CANON_NULL;
        goto out;
    }
    /* smtpd_resolve.c: rewritten in the local context, then resolved */
    if (!rewrite_internal(c, tr, a, b) || !finish(tr, b, out) ||
        !resolve(c, tr, b, is_local, ctx, local))
        goto out;
    r = SH_CANON_OK;
out:
    if (r == SH_CANON_UNJUDGEABLE && tr->why)
        *why = tr->why;
    free(tr);
    return r;
}

size_t sh_canon_noext(const char *addr, size_t len, const char *delims)
{
    const char *at = NULL;
    size_t local, n;

    for (size_t i = len; i-- > 0;)
        if (addr[i] == '@') {
            at = addr + i;
            break;
        }
    local = at ? (size_t)(at - addr) : len;
    if (delims[0] == 0 || local == 0)
        return 0;
#define IS(word) (local == sizeof(word) - 1 && strncasecmp(addr, word, local) == 0)
    if (IS("postmaster") || IS("mailer-daemon") || IS("double-bounce"))
        return 0;
    if (strchr(delims, '-') != NULL &&
        ((local >= 6 && strncasecmp(addr, "owner-", 6) == 0) ||
         (local > 8 && strncasecmp(addr + local - 8, "-request", 8) == 0)))
        return 0;
    for (n = 0; n < local && strchr(delims, addr[n]) == NULL; n++)
        ;
    return n == 0 || n == local ? 0 : n;
}
