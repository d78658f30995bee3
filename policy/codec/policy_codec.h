/* policy_codec.h - Postfix policy delegation protocol (SMTPD_POLICY_README).
 *
 * A request is "name=value\n" lines ended by an empty line; a reply is
 * "action=...\n\n". This codec only frames and splits: it knows nothing of
 * rules, snapshots or sockets. Values point into the caller's buffer.
 *
 * Repeated attributes: the last one wins, as in Postfix's own example policy
 * server (smtpd-policy.pl fills a hash) and postfwd. Unknown attributes are
 * skipped but still count against POLICY_MAX_ATTRS.
 */
#ifndef SH_POLICY_CODEC_H
#define SH_POLICY_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define POLICY_MAX_LINE    2048 /* one name=value line, newline excluded */
#define POLICY_MAX_ATTRS   128  /* lines in one request (Postfix 3.7 sends about 40) */
#define POLICY_MAX_REQUEST 8192 /* a whole request, empty line included */
#define POLICY_MAX_REPLY   600  /* "action=" + text + "\n\n" */

/* The attributes the rules read; everything else is ignored. */
enum policy_attr {
    PA_REQUEST,        /* "smtpd_access_policy" */
    PA_PROTOCOL_STATE, /* RCPT, END-OF-MESSAGE, ... */
    PA_QUEUE_ID,
    PA_SENDER,
    PA_RECIPIENT,
    PA_RECIPIENT_COUNT,
    PA_CLIENT_ADDRESS,
    PA_CLIENT_NAME,
    PA_SASL_USERNAME,
    PA_ENCRYPTION_PROTOCOL, /* empty: no TLS */
    PA_SIZE,                /* declared SIZE= at RCPT (0 if none), actual at END-OF-MESSAGE */
    PA_COUNT_
};

struct policy_value {
    const char *p; /* not NUL-terminated; NULL when absent */
    size_t len;
};

struct policy_request {
    struct policy_value attr[PA_COUNT_];
    size_t nattrs; /* lines seen, unknown ones included */
};

enum policy_parse {
    POLICY_OK,        /* a complete request; *consumed says how many bytes */
    POLICY_NEED_MORE, /* no empty line yet and no limit broken */
    POLICY_MALFORMED, /* protocol error: the caller disconnects without a reply */
};

/* Parse one request from the start of BUF. On POLICY_MALFORMED, *why is a
 * static explanation for the log. Pure and bounded: the fuzz target. */
enum policy_parse policy_parse(const char *buf, size_t len, struct policy_request *req,
                               size_t *consumed, const char **why);

const char *policy_attr_name(enum policy_attr a);

/* True when attribute A is present and equals the C string S exactly. */
static inline bool policy_attr_is(const struct policy_request *req, enum policy_attr a,
                                  const char *s)
{
    const struct policy_value *v = &req->attr[a];
    size_t n = strlen(s);

    return v->p != NULL && v->len == n && memcmp(v->p, s, n) == 0;
}

#endif
