/* control_codec.h - the daemons' control protocol: one request line, a dot-terminated reply.
 *
 * Request: one line of printable ASCII, at most CTL_MAX_LINE bytes before the
 * newline (a CR before it is allowed), words separated by single spaces: a verb
 * and at most CTL_MAX_ARGS arguments ("status", "stats prometheus", "route a@b").
 * Reply: a status line "OK" or "ERR reason", then text lines, then a line ".";
 * a text line starting with "." is sent with one more "." in front (SMTP's
 * dot-stuffing), so the terminator cannot appear inside the text.
 * A pure codec: no sockets, no knowledge of what the verbs do.
 */
#ifndef SH_CONTROL_H
#define SH_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CTL_MAX_LINE  512 /* one request line, newline excluded */
#define CTL_MAX_ARGS  3
#define CTL_MAX_REPLY (1024 * 1024) /* a whole reply, stuffing and terminator included */

enum ctl_parse { CTL_NEED_MORE, CTL_MALFORMED, CTL_OK };

struct ctl_request {
    char verb[32];
    char args[CTL_MAX_ARGS][CTL_MAX_LINE + 1];
    size_t nargs;
};

/* Parse the first line of BUF (LEN bytes). CTL_OK: R filled, *USED bytes
 * consumed. CTL_MALFORMED: *WHY says what (static text). */
enum ctl_parse ctl_parse(const char *buf, size_t len, struct ctl_request *r, size_t *used,
                         const char **why);

/* Write TEXT (LEN bytes of lines; a missing final newline is added) as a reply
 * body with STATUS ("OK" or "ERR ...") in front and the "." line after. false on
 * a write error. */
bool ctl_write_reply(FILE *out, const char *status, const char *text, size_t len);

/* Client side: one reply line as received (newline stripped) -> what it says.
 * Returns 1 for the terminator, 0 for a text line (LINE unstuffed in place). */
int ctl_unstuff(char *line);

#endif
