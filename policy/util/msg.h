/* msg.h - one logging facade with fixed meanings (after Postfix util/msg.h).
 *
 * info  = a decision or an event worth a line;  warn = trouble, carry on;
 * fatal = startup or configuration error, exit(1);  panic = a bug, abort().
 * A CLI logs to stderr (msg_open(ident, true)); a daemon logs to syslog, facility
 * mail, and copies each line to stderr while it has a terminal or log file there
 * (msg_open_daemon), never to the journal, which has the syslog line already.
 * Never pass a secret to any of these. Untrusted text goes through msg_printable().
 */
#ifndef SH_MSG_H
#define SH_MSG_H

#include <stdbool.h>
#include <stddef.h>

#define SH_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* TO_STDERR: stderr only; otherwise syslog only. */
void msg_open(const char *ident, bool to_stderr);
/* Syslog (LOG_MAIL, ident IDENT, with pid) plus, when COPY_TO_STDERR, "IDENT: " lines on
 * stderr, unless stderr is the systemd journal ($JOURNAL_STREAM). */
void msg_open_daemon(const char *ident, bool copy_to_stderr);
void msg_set_stderr(bool on);
void msg_set_verbose(int level);
extern int msg_verbose;

void msg_info(const char *fmt, ...) SH_PRINTF(1, 2);
void msg_warn(const char *fmt, ...) SH_PRINTF(1, 2);
_Noreturn void msg_fatal(const char *fmt, ...) SH_PRINTF(1, 2);
_Noreturn void msg_panic(const char *fmt, ...) SH_PRINTF(1, 2);

/* A budget for warnings a peer can trigger at will (malformed requests): at
 * most MSG_RATE_BURST lines a second per budget; the next line after a
 * suppressed burst says how many were dropped. Lock-free, approximate under races. */
#define MSG_RATE_BURST 20
struct msg_rate {
    long second;
    int count;
    int suppressed;
};
#define MSG_RATE_INIT                                                                              \
    {                                                                                              \
        0, 0, 0                                                                                    \
    }
void msg_warn_rate(struct msg_rate *r, const char *fmt, ...) SH_PRINTF(2, 3);

/* Bounded, printable copy of untrusted bytes for a log line: at most cap-1 bytes
 * are written, non-printable bytes become '?', truncation is marked with "...". */
const char *msg_printable(char *buf, size_t cap, const char *s, size_t len);

#define SH_LOG_TEXT_MAX 160 /* untrusted text in one log line */

#endif
