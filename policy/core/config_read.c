/* config_read.c - expand @include ourselves and hand libconfig one string, see config_read.h. */
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "regfile.h"

/* Lines from FROM on (of the string libconfig parses) are file FILE's from LINE on. */
struct seg {
    unsigned from, line;
    size_t file;
};

/* Where each line came from; hangs off the root setting's hook until config_destroy. */
struct srcmap {
    char **files;
    size_t nfiles;
    struct seg *segs;
    size_t nsegs, capsegs;
};

struct expand {
    struct srcmap *map;
    char *out;
    size_t len, cap;
    unsigned line; /* the current line of OUT, from 1 */
    char dir[PATH_MAX];
    size_t total; /* bytes of every file read so far */
    char *err;
    size_t errlen;
};

enum scan { S_CODE, S_COMMENT, S_STRING, S_LINE_COMMENT };

static void map_free(void *p)
{
    struct srcmap *m = p;

    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nfiles; i++)
        free(m->files[i]);
    free(m->files);
    free(m->segs);
    free(m);
}

static bool fail(struct expand *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct expand *x, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    return false;
}

static bool oom(struct expand *x)
{
    return fail(x, "out of memory reading the configuration");
}

static bool emit(struct expand *x, const char *p, size_t n)
{
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        char *o;
        while (cap < x->len + n + 1)
            cap *= 2;
        if ((o = realloc(x->out, cap)) == NULL)
            return oom(x);
        x->out = o;
        x->cap = cap;
    }
    memcpy(x->out + x->len, p, n);
    x->len += n;
    x->out[x->len] = 0;
    for (size_t i = 0; i < n; i++)
        x->line += p[i] == '\n';
    return true;
}

static bool add_seg(struct expand *x, size_t file, unsigned line)
{
    struct srcmap *m = x->map;

    if (m->nsegs > 0 && m->segs[m->nsegs - 1].from == x->line)
        m->nsegs--; /* nothing of the previous segment reached a line of its own */
    if (m->nsegs == m->capsegs) {
        size_t cap = m->capsegs ? m->capsegs * 2 : 16;
        struct seg *s = reallocarray(m->segs, cap, sizeof(*s));
        if (s == NULL)
            return oom(x);
        m->segs = s;
        m->capsegs = cap;
    }
    m->segs[m->nsegs++] = (struct seg){.from = x->line, .line = line, .file = file};
    return true;
}

/* The file and line of line LINE of the parsed string. */
static void map_line(const struct srcmap *m, unsigned line, const char **file, unsigned *fline)
{
    size_t lo = 0, hi = m->nsegs;

    while (hi - lo > 1) { /* the last segment starting at or before LINE */
        size_t mid = lo + (hi - lo) / 2;
        if (m->segs[mid].from <= line)
            lo = mid;
        else
            hi = mid;
    }
    if (m->nsegs == 0 || line < m->segs[lo].from) { /* the root setting: line 0 */
        *file = m->nfiles ? m->files[0] : "(config)";
        *fline = line;
        return;
    }
    *file = m->files[m->segs[lo].file];
    *fline = m->segs[lo].line + (line - m->segs[lo].from);
}

static size_t add_file(struct expand *x, const char *name)
{
    struct srcmap *m = x->map;
    char **f = reallocarray(m->files, m->nfiles + 1, sizeof(*f)), *copy;

    if (f == NULL)
        return SIZE_MAX;
    m->files = f;
    if ((copy = strdup(name)) == NULL)
        return SIZE_MAX;
    m->files[m->nfiles] = copy;
    return m->nfiles++;
}

static bool expand_file(struct expand *x, size_t file, const char *text, size_t len, int depth);

/* At P (just after the opening quote of an @include of FILE at LINE): the name up to the
 * closing quote, with libconfig's two escapes (\\ and \"). *END: after the quote. */
static bool include_name(struct expand *x, size_t file, unsigned line, const char *p,
                         const char *lim, char *name, size_t cap, const char **end)
{
    size_t n = 0;

    for (; p < lim && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            if (p + 1 >= lim || (p[1] != '\\' && p[1] != '"'))
                return fail(x, "%s:%u: @include: only \\\\ and \\\" may follow a backslash",
                            x->map->files[file], line);
            c = *++p;
        } else if ((unsigned char)c < ' ') {
            return fail(x, "%s:%u: @include: the file name ends without its closing quote",
                        x->map->files[file], line);
        }
        if (n + 1 >= cap)
            return fail(x, "%s:%u: @include: the file name is too long", x->map->files[file], line);
        name[n++] = c;
    }
    if (p >= lim)
        return fail(x, "%s:%u: @include: the file name ends without its closing quote",
                    x->map->files[file], line);
    name[n] = 0;
    if (n == 0)
        return fail(x, "%s:%u: @include: empty file name", x->map->files[file], line);
    *end = p + 1;
    return true;
}

static bool include(struct expand *x, size_t file, unsigned line, const char *name, int depth)
{
    char path[PATH_MAX + 1], why[PATH_MAX + 200];
    const char *where = x->map->files[file];
    size_t n, child;
    char *text;
    bool ok;

    if (depth + 1 > SH_CONF_MAX_DEPTH)
        return fail(x, "%s:%u: @include \"%.200s\": includes nest more than %d deep", where, line,
                    name, SH_CONF_MAX_DEPTH);
    if (name[0] == '/')
        n = (size_t)snprintf(path, sizeof(path), "%s", name);
    else
        n = (size_t)snprintf(path, sizeof(path), "%s/%s", x->dir, name);
    if (n >= sizeof(path))
        return fail(x, "%s:%u: @include \"%.200s\": path too long", where, line, name);
    if ((text = sh_regfile_read(path, SH_REGFILE_FOLLOW, SH_CONF_MAX_BYTES - x->total, &n, why,
                                sizeof(why))) == NULL)
        return fail(x, "%s:%u: @include \"%.200s\": cannot read %.600s", where, line, name, why);
    x->total += n;
    /* Named as written, as libconfig names an included file in its errors. */
    if ((child = add_file(x, name)) == SIZE_MAX) {
        free(text);
        return oom(x);
    }
    ok = expand_file(x, child, text, n, depth + 1);
    free(text);
    /* The rest of the including line starts a line of its own. */
    if (ok && x->len > 0 && x->out[x->len - 1] != '\n')
        ok = emit(x, "\n", 1);
    return ok;
}

/* Copy TEXT (file FILE) to the output, expanding each @include where libconfig's
 * scanner matches one: at the start of a line, outside comments and strings. */
static bool expand_file(struct expand *x, size_t file, const char *text, size_t len, int depth)
{
    const char *p = text, *lim = text + len, *from = text;
    enum scan st = S_CODE;
    unsigned line = 1;
    bool bol = true;

    if (memchr(text, 0, len) != NULL)
        return fail(x, "%s: contains a NUL byte", x->map->files[file]);
    if (!add_seg(x, file, 1))
        return false;
    while (p < lim) {
        if (st == S_CODE && bol) {
            const char *q = p;
            while (q < lim && (*q == ' ' || *q == '\t'))
                q++;
            if ((size_t)(lim - q) > 8 && memcmp(q, "@include", 8) == 0 &&
                (q[8] == ' ' || q[8] == '\t')) {
                char name[PATH_MAX];
                for (q += 8; q < lim && (*q == ' ' || *q == '\t'); q++)
                    ;
                if (q < lim && *q == '"') {
                    const char *end = NULL;
                    if (!emit(x, from, (size_t)(p - from)) ||
                        !include_name(x, file, line, q + 1, lim, name, sizeof(name), &end) ||
                        !include(x, file, line, name, depth) || !add_seg(x, file, line))
                        return false;
                    /* libconfig goes on with the rest of the line, not at a line's start:
                     * an empty comment keeps a second "@include" there from counting. */
                    if (end < lim && *end != '\n' && !emit(x, "/**/", 4))
                        return false;
                    p = from = end;
                    bol = false;
                    continue;
                }
            }
        }
        bol = false;
        switch (st) {
        case S_CODE:
            if (*p == '\n')
                bol = true;
            else if (*p == '"')
                st = S_STRING;
            else if (*p == '#' || (*p == '/' && p + 1 < lim && p[1] == '/'))
                st = S_LINE_COMMENT;
            else if (*p == '/' && p + 1 < lim && p[1] == '*') {
                st = S_COMMENT;
                p++;
            }
            break;
        case S_LINE_COMMENT:
            if (*p == '\n') {
                st = S_CODE;
                bol = true;
            }
            break;
        case S_COMMENT:
            if (*p == '*' && p + 1 < lim && p[1] == '/') {
                st = S_CODE;
                p++;
            }
            break;
        case S_STRING:
            if (*p == '\\' && p + 1 < lim && (p[1] == '\\' || p[1] == '"'))
                p++;
            else if (*p == '"')
                st = S_CODE;
            break;
        }
        if (*p == '\n')
            line++;
        p++;
    }
    if (!emit(x, from, (size_t)(p - from)))
        return false;
    /* An included file that stops inside a comment or a string would swallow what
     * follows its @include line: libconfig would run on, we refuse. */
    if (depth > 0 && (st == S_COMMENT || st == S_STRING))
        return fail(x, "%s: ends inside a %s", x->map->files[file],
                    st == S_COMMENT ? "/* comment */" : "string");
    return true;
}

/* Every setting gets the file and line its line of the string came from. */
static void relocate(const struct srcmap *m, config_setting_t *st)
{
    const char *file;
    unsigned line;

    map_line(m, st->line, &file, &line);
    st->file = file;
    st->line = line;
    if (config_setting_is_aggregate(st))
        for (int i = 0; i < config_setting_length(st); i++)
            relocate(m, config_setting_get_elem(st, (unsigned)i));
}

bool sh_conf_read_file(config_t *cf, const char *path, char *err, size_t errlen)
{
    struct expand x = {.line = 1, .err = err, .errlen = errlen};
    char why[PATH_MAX + 200];
    size_t len;
    char *text;
    bool ok;

    snprintf(why, sizeof(why), "%s", path);
    snprintf(x.dir, sizeof(x.dir), "%s", dirname(why));
    if ((text = sh_regfile_read(path, SH_REGFILE_FOLLOW, SH_CONF_MAX_BYTES, &len, why,
                                sizeof(why))) == NULL) {
        snprintf(err, errlen, "cannot read %.600s", why);
        return false;
    }
    x.total = len;
    if ((x.map = calloc(1, sizeof(*x.map))) == NULL || add_file(&x, path) == SIZE_MAX) {
        free(text);
        map_free(x.map);
        snprintf(err, errlen, "%s: out of memory", path);
        return false;
    }
    ok = expand_file(&x, 0, text, len, 0) && (x.out != NULL || emit(&x, "", 0));
    free(text);
    if (!ok) {
        free(x.out);
        map_free(x.map);
        return false;
    }
    /* libconfig opens nothing itself: should it still see an @include we did not, the
     * name lands under a path that cannot exist ("/dev/null/...") and fails at once. */
    config_set_include_dir(cf, "/dev/null");
    ok = config_read_string(cf, x.out) == CONFIG_TRUE;
    free(x.out);
    if (!ok) {
        const char *file;
        unsigned line;
        map_line(x.map, (unsigned)config_error_line(cf), &file, &line);
        snprintf(err, errlen, "%s:%u: %s", file, line, config_error_text(cf));
        map_free(x.map);
        return false;
    }
    relocate(x.map, config_root_setting(cf));
    config_set_destructor(cf, map_free);
    config_setting_set_hook(config_root_setting(cf), x.map);
    return true;
}
