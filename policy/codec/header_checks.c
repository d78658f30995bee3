/* header_checks.c - parse Postfix header_checks(5) tables into header rules. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "header_checks.h"
#include "lline.h"
#include "msg.h"
#include "xalloc.h"

bool sh_header_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > 256)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 32 || c >= 127 || c == ':')
            return false;
    }
    return true;
}

bool sh_header_line_valid(const char *line)
{
    const char *colon = strchr(line, ':');

    if (colon == NULL || !sh_header_name_valid(line, (size_t)(colon - line)))
        return false;
    for (const char *p = colon + 1; *p; p++)
        if ((unsigned char)*p < 32 && *p != '\t')
            return false;
    return true;
}

void sh_hc_rules_free(struct sh_hc_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rules[i].text);
        pcre2_code_free(rules[i].re);
    }
    free(rules);
}

static bool hc_fail(struct sh_hc_error *err, unsigned line, const char *fmt, ...) SH_PRINTF(3, 4);
static bool hc_fail(struct sh_hc_error *err, unsigned line, const char *fmt, ...)
{
    va_list ap;
    err->line = line;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return false;
}

static const struct {
    const char *word;
    enum sh_hc_action action;
    bool needs_text;
} actions[] = {
    {"IGNORE", SH_HC_IGNORE, false},  {"REPLACE", SH_HC_REPLACE, true},
    {"PREPEND", SH_HC_PREPEND, true}, {"DUNNO", SH_HC_DUNNO, false},
    {"OK", SH_HC_DUNNO, false},       {"WARN", SH_HC_WARN, false},
    {"INFO", SH_HC_WARN, false},
};

/* One logical line (NUL-terminated, no newline) -> one rule. */
static bool parse_line(char *p, unsigned lineno, struct sh_hc_rule *r, struct sh_hc_error *err)
{
    uint32_t opts = PCRE2_CASELESS;
    bool negate = false;
    char delim, *pat, *end, *word, *text;
    size_t wlen, i;
    int errcode;
    PCRE2_SIZE erroff;

    if (*p == '!') {
        negate = true;
        p++;
    }
    delim = *p;
    if (delim == 0 || isalnum((unsigned char)delim) || isspace((unsigned char)delim) ||
        delim == '\\')
        return hc_fail(err, lineno, "expected /pattern/ (if/endif blocks are not supported)");
    pat = ++p;
    for (end = pat; *end && *end != delim; end++)
        if (*end == '\\' && end[1])
            end++;
    if (*end != delim)
        return hc_fail(err, lineno, "missing closing '%c' after the pattern", delim);
    *end = 0;
    for (p = end + 1; *p && !isspace((unsigned char)*p); p++) {
        switch (*p) {
        case 'i':
            opts ^= PCRE2_CASELESS;
            break;
        case 'm':
            opts |= PCRE2_MULTILINE;
            break;
        case 's':
            opts |= PCRE2_DOTALL;
            break;
        case 'x':
            opts |= PCRE2_EXTENDED;
            break;
        case 'A':
            opts |= PCRE2_ANCHORED;
            break;
        case 'E':
            opts |= PCRE2_DOLLAR_ENDONLY;
            break;
        case 'U':
            opts |= PCRE2_UNGREEDY;
            break;
        case 'X':
            break; /* PCRE1 "extra": always on in PCRE2 */
        default:
            return hc_fail(err, lineno, "unknown pattern flag '%c'",
                           isprint((unsigned char)*p) ? *p : '?');
        }
    }
    while (isspace((unsigned char)*p))
        p++;
    word = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    wlen = (size_t)(p - word);
    while (isspace((unsigned char)*p))
        p++;
    text = p;
    for (end = text + strlen(text); end > text && isspace((unsigned char)end[-1]);)
        *--end = 0;
    if (wlen == 0)
        return hc_fail(err, lineno, "missing action after the pattern");
    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strlen(actions[i].word) == wlen && strncasecmp(word, actions[i].word, wlen) == 0)
            break;
    if (i == sizeof(actions) / sizeof(actions[0]))
        return hc_fail(err, lineno,
                       "action \"%.*s\" is not supported here (IGNORE, REPLACE, PREPEND, DUNNO, "
                       "OK, WARN, INFO)",
                       (int)(wlen > 32 ? 32 : wlen), word);
    if (actions[i].needs_text && !sh_header_line_valid(text))
        return hc_fail(err, lineno, "%s needs a header line \"Name: value\"", actions[i].word);
    if (negate && actions[i].needs_text && strchr(text, '$'))
        return hc_fail(err, lineno, "a !/pattern/ has no $N substrings to use");

    r->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
    if (r->re == NULL) {
        char msg[160];
        pcre2_get_error_message(errcode, (PCRE2_UCHAR *)msg, sizeof(msg));
        return hc_fail(err, lineno, "pattern error at offset %zu: %s", (size_t)erroff, msg);
    }
    r->action = actions[i].action;
    r->negate = negate;
    r->line = lineno;
    r->text = *text ? xstrdup(text) : NULL;
    return true;
}

bool sh_header_checks_parse(const char *text, size_t len, struct sh_hc_rule **rules, size_t *nrules,
                            struct sh_hc_error *err)
{
    char *line = xcalloc(SH_HC_MAX_LINE + 1, 1);
    struct sh_lline r;
    enum sh_lline_status st;
    unsigned start = 0;
    bool ok = true;

    sh_lline_init(&r, text, len);
    while ((st = sh_lline_next(&r, line, SH_HC_MAX_LINE + 1, &start)) == SH_LLINE_OK) {
        if (*nrules >= SH_HC_MAX_RULES) {
            ok = hc_fail(err, start, "more than %d rules", SH_HC_MAX_RULES);
            break;
        }
        *rules = xreallocarray(*rules, *nrules + 1, sizeof(**rules));
        memset(&(*rules)[*nrules], 0, sizeof(**rules));
        if (!parse_line(line, start, &(*rules)[*nrules], err)) {
            ok = false;
            break;
        }
        (*nrules)++;
    }
    if (ok) {
        switch (st) {
        case SH_LLINE_OK:
        case SH_LLINE_END:
            break;
        case SH_LLINE_TOO_LONG:
            ok = hc_fail(err, start, "rule longer than %d bytes", SH_HC_MAX_LINE);
            break;
        case SH_LLINE_NUL:
            ok = hc_fail(err, start, "NUL byte in the file");
            break;
        case SH_LLINE_ORPHAN:
            ok = hc_fail(err, start, "continuation line without a rule before it");
            break;
        }
    }
    free(line);
    return ok;
}
