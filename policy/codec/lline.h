/* lline.h - logical lines of Postfix table-like text (postmap(1) input, header_checks(5)).
 *
 * As Postfix's readllines(): a line whose first non-white-space character is '#', and a
 * blank line, are skipped; a line that starts with white space continues the logical line
 * before it, joined as it stands (its leading white space is the separator). Unlike
 * Postfix, which skips a continuation with nothing before it after a warning, that line
 * is an error here: a reader that drops a line may drop a rule or a password. A trailing
 * CR is removed from every physical line.
 */
#ifndef SH_LLINE_H
#define SH_LLINE_H

#include <stddef.h>

struct sh_lline {
    const char *text;
    size_t len, pos;
    unsigned lineno; /* physical lines consumed */
};

enum sh_lline_status {
    SH_LLINE_OK,       /* BUF holds the next logical line, NUL-terminated */
    SH_LLINE_END,      /* no more lines */
    SH_LLINE_TOO_LONG, /* the logical line does not fit in CAP - 1 bytes */
    SH_LLINE_NUL,      /* a NUL byte in a physical line */
    SH_LLINE_ORPHAN,   /* a continuation line with no line before it */
};

void sh_lline_init(struct sh_lline *r, const char *text, size_t len);

/* The next logical line into BUF (CAP bytes). *LINE is the number of its first physical
 * line, or of the offending line on an error. */
enum sh_lline_status sh_lline_next(struct sh_lline *r, char *buf, size_t cap, unsigned *line);

#endif
