/* ctl_msg.c - how smarthostctl reports trouble: one error path, warnings, the nearest word. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define MAX_WORD 64 /* longer words get no suggestion */

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
    fflush(stdout); /* what was printed before the error stays before it */
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int ctl_err(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("smarthostctl: ", fmt, ap);
    va_end(ap);
    return CTL_FAIL;
}

int ctl_usage_err(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("smarthostctl: ", fmt, ap);
    va_end(ap);
    return CTL_USAGE;
}

void ctl_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

/* Levenshtein distance of two short words (both at most MAX_WORD bytes). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[MAX_WORD + 1];

    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

int ctl_unknown_word(const char *what, const char *word, const char *const *known)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;

    if (strlen(word) <= MAX_WORD) {
        for (const char *const *k = known; *k; k++) {
            size_t d = strlen(*k) <= MAX_WORD ? distance(word, *k) : (size_t)-1;
            if (d < bestd)
                bestd = d, best = *k;
        }
    }
    /* A suggestion only when it is plausibly a typo: at most a third of the word changed. */
    if (best && bestd <= 1 + strlen(best) / 3)
        return ctl_usage_err("unknown %s \"%.64s\": did you mean \"%s\"?", what, word, best);
    char list[512] = "";
    size_t len = 0;

    for (const char *const *k = known; *k && len < sizeof(list); k++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, " %s", *k);
    ctl_usage_err("unknown %s \"%.64s\"; known:%s", what, word, list);
    return CTL_USAGE;
}
