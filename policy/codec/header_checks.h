/* header_checks.h - Postfix header_checks(5) tables (regexp:/pcre: syntax) as rules.
 *
 * Lines are `/pattern/flags ACTION text` (or `!/pattern/`), comments and blank
 * lines are skipped, a line starting with white space continues the previous
 * one. Patterns are PCRE2, caseless by default like Postfix ("i" toggles).
 * Actions: IGNORE, REPLACE, PREPEND (the rewriting ones), DUNNO and OK (keep,
 * stop looking), WARN and INFO (log, keep). Anything else is refused at load:
 * a REJECT that would silently do nothing is worse than an error.
 */
#ifndef SH_HEADER_CHECKS_H
#define SH_HEADER_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define SH_HC_MAX_LINE  8192 /* one logical line */
#define SH_HC_MAX_RULES 10000

struct sh_hc_error {
    unsigned line;
    char text[256];
};

enum sh_hc_action {
    SH_HC_IGNORE,  /* drop the header */
    SH_HC_REPLACE, /* put TEXT (a whole header line, may use $N) in its place */
    SH_HC_PREPEND, /* insert TEXT before it */
    SH_HC_DUNNO,   /* DUNNO and OK: keep it, stop looking */
    SH_HC_WARN,    /* WARN and INFO: log, keep it */
};

/* One table line; the pattern sees the whole "Name: value" line. */
struct sh_hc_rule {
    enum sh_hc_action action;
    pcre2_code *re;
    bool negate; /* "!/re/" */
    char *text;  /* "Name: value" template, or NULL */
    unsigned line;
};

/* Append the rules of TEXT (LEN bytes, need not be NUL-terminated) to
 * *RULES / *NRULES. On error the rules parsed so far stay in the array (the
 * caller frees them) and ERR says where and why. */
bool sh_header_checks_parse(const char *text, size_t len, struct sh_hc_rule **rules, size_t *nrules,
                            struct sh_hc_error *err);

void sh_hc_rules_free(struct sh_hc_rule *rules, size_t n);

/* "Name: value" with a valid field name (printable ASCII, no ':' or space)? */
bool sh_header_line_valid(const char *line);
/* A valid field name? */
bool sh_header_name_valid(const char *name, size_t len);

#endif
