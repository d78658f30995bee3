/* maillog.h - one Postfix log line (syslog file, maillog_file or journal) -> its parts.
 *
 * A pure codec: it knows the line's shape (time stamp, host, program[pid], queue id,
 * "name=value, ..." fields, the status reason in parentheses) and nothing of relays or
 * routes. Any bytes are accepted; every output string is NUL-terminated, bounded by its
 * buffer and printable ASCII (other bytes become '?'), so it can be printed as is.
 */
#ifndef SH_MAILLOG_H
#define SH_MAILLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define MAILLOG_MAX_LINE    8192 /* longer lines are the reader's to skip */
#define MAILLOG_MAX_HOST    255
#define MAILLOG_MAX_PROGRAM 63
#define MAILLOG_MAX_QID     23  /* long queue ids are at most 20 characters */
#define MAILLOG_MAX_ADDR    320 /* an RFC 5321 path is at most 256 */
#define MAILLOG_MAX_RELAY   300 /* "host[address]:port" */
#define MAILLOG_MAX_WORD    15  /* dsn, status */
#define MAILLOG_MAX_REASON  511

/* Which fields the line had (r->fields). */
enum {
    MAILLOG_FROM = 1 << 0,
    MAILLOG_TO = 1 << 1,
    MAILLOG_RELAY = 1 << 2,
    MAILLOG_DSN = 1 << 3,
    MAILLOG_STATUS = 1 << 4,
    MAILLOG_REASON = 1 << 5,
    MAILLOG_TRUNCATED = 1 << 6, /* some field was longer than its buffer and was cut */
    MAILLOG_REMOVED = 1 << 7,   /* "QID: removed" and nothing else: the message left the queue */
};

struct maillog_stamp {
    int year; /* 0: the line did not say (traditional syslog "Nov 30 19:20:10") */
    int mon, mday, hour, min, sec; /* 1-12, 1-31, 0-23, 0-59, 0-60 */
    bool has_offset;               /* RFC 3339 stamps carry one; traditional ones are local */
    int offset;                    /* seconds east of UTC */
};

struct maillog_rec {
    struct maillog_stamp stamp;
    char host[MAILLOG_MAX_HOST + 1];
    char program[MAILLOG_MAX_PROGRAM + 1]; /* "postfix/smtp", without "[pid]" */
    char queue_id[MAILLOG_MAX_QID + 1];    /* "" when the text starts with none */
    unsigned fields;                       /* MAILLOG_* */
    char from[MAILLOG_MAX_ADDR + 1];       /* without <>; "" is the null sender */
    char to[MAILLOG_MAX_ADDR + 1];
    char relay[MAILLOG_MAX_RELAY + 1]; /* "host[addr]:port", "none", "local", ... */
    char dsn[MAILLOG_MAX_WORD + 1];
    char status[MAILLOG_MAX_WORD + 1];   /* "sent", "deferred", "bounced", ... */
    char reason[MAILLOG_MAX_REASON + 1]; /* the text in the parentheses after status= */
};

/* Parse LEN bytes (no newline; NULs allowed). False when the line has no time stamp,
 * host and "program:" we understand; R is then unspecified. */
bool maillog_parse(const char *line, size_t len, struct maillog_rec *r);

/* Seconds since the epoch of ST. A stamp without a year is local time in the year of NOW,
 * or the year before when that would put it more than a day after NOW (logs cross New
 * Year). False for a date that does not exist. */
bool maillog_time(const struct maillog_stamp *st, time_t now, time_t *out);

/* Split "host[addr]:port" (port optional: 0 then). False for anything else ("none",
 * "local"). HOST and ADDR have MAILLOG_MAX_RELAY + 1 bytes. */
bool maillog_relay_split(const char *relay, char *host, char *addr, unsigned *port);

/* The peer of a reason that starts with (or contains) "connect to host[addr]:port:",
 * which Postfix logs with relay=none when it never reached the server. Copied as
 * "host[addr]:port" into OUT (MAILLOG_MAX_RELAY + 1 bytes); false when there is none. */
bool maillog_reason_peer(const char *reason, char *out);

/* REASON with what differs between messages replaced, so equal causes group: addresses
 * become <ADDR>, host[addr] and host[addr]:port become HOST, queue-id-like tokens ID,
 * other numbers N; SMTP reply codes (250, 4.7.1) stay. OUT has CAP bytes (>= 1). */
void maillog_reason_normalize(const char *reason, char *out, size_t cap);

#endif
