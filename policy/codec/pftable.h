/* pftable.h - read a Postfix lookup table's source text (postmap(1) input):
 * "key value" lines in the logical lines of lline.h (comments, blank lines,
 * continuation lines that start with white space). Knows nothing of what the
 * entries mean. */
#ifndef SH_PFTABLE_H
#define SH_PFTABLE_H

#include <stdbool.h>

#define PFTABLE_MAX_LINE 4096               /* one logical line, continuations joined */
#define PFTABLE_MAX_FILE (64 * 1024 * 1024) /* a whole table */

/* Call FN for each entry with its key and its value (trimmed; "" when the line
 * has none) and the number of the line the entry starts on. A missing file is
 * an error unless MISSING_OK. Stops at the first FN returning false. Errors are
 * printed as "PATH:LINE: ..."; the buffers are wiped (tables hold passwords). */
bool pftable_each(const char *path, bool missing_ok,
                  bool (*fn)(void *ctx, const char *path, int lineno, char *key, char *value),
                  void *ctx);

#endif
