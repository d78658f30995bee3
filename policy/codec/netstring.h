/* netstring.h - netstring codec (http://cr.yp.to/proto/netstrings.txt).
 *
 * A pure codec over caller-owned buffers: it knows nothing of sockets or of
 * what the payload means. Every length is bounded by a named limit and parsed
 * with overflow checks; a malformed frame is distinct from "need more bytes".
 */
#ifndef SH_NETSTRING_H
#define SH_NETSTRING_H

#include <stddef.h>

#define NETSTRING_MAX_REQUEST 2048   /* largest request payload we accept */
#define NETSTRING_MAX_REPLY   100000 /* the Postfix socketmap client's reply limit */
#define NETSTRING_MAX_DIGITS  10     /* enough for any size_t payload we allow */
#define NETSTRING_HDR_MAX     (NETSTRING_MAX_DIGITS + 2) /* "<digits>:" + NUL */
/* Whole frame of the largest request: "2048:" + payload + ",". */
#define NETSTRING_FRAME_MAX(payload) ((payload) + NETSTRING_MAX_DIGITS + 2)

enum netstring_status {
    NETSTRING_COMPLETE,  /* one frame decoded */
    NETSTRING_NEED_MORE, /* a valid prefix: read more bytes */
    NETSTRING_MALFORMED, /* never a valid frame, whatever follows: disconnect */
};

struct netstring_frame {
    const char *data; /* COMPLETE: the payload, inside the caller's buffer */
    size_t len;       /* COMPLETE: payload length */
    size_t consumed;  /* COMPLETE: bytes of the whole frame, header and ',' included */
    const char *why;  /* MALFORMED: static reason for the log */
};

/* Decode the frame at the start of BUF (LEN bytes), with payloads of at most
 * MAX bytes. Stateless: call again with more bytes after NEED_MORE; pipelined
 * frames are decoded one at a time by advancing BUF by f->consumed. */
enum netstring_status netstring_decode(const char *buf, size_t len, size_t max,
                                       struct netstring_frame *f);

/* Write the header "LEN:" for a payload of LEN bytes into HDR
 * (NETSTRING_HDR_MAX bytes); returns its length. The frame is header,
 * payload, then ",". */
size_t netstring_header(char hdr[NETSTRING_HDR_MAX], size_t len);

/* Encode DATA (LEN bytes) as a whole frame into OUT (CAP bytes). Returns the
 * frame length, or 0 when it does not fit. */
size_t netstring_encode(char *out, size_t cap, const char *data, size_t len);

#endif
