/* tap.h - the smallest TAP producer meson's `protocol : 'tap'` needs. */
#ifndef SH_TAP_H
#define SH_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                                              \
    do {                                                                                           \
        int ok_ = (cond);                                                                          \
        printf("%s %d - ", ok_ ? "ok" : "not ok", ++tap_n);                                        \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        if (!ok_) {                                                                                \
            tap_failed++;                                                                          \
            printf("#   at %s:%d\n", __FILE__, __LINE__);                                          \
        }                                                                                          \
    } while (0)

#define is_str(got, want, ...)                                                                     \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        ok((g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0), __VA_ARGS__);          \
        if (!((g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0)))                    \
            printf("#   got: \"%s\"\n#   want: \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
    } while (0)

/* One test point that did not run, with the reason. */
#define skip(...)                                                                                  \
    do {                                                                                           \
        printf("ok %d # SKIP ", ++tap_n);                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
    } while (0)

static inline int done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
