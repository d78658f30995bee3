/* http_req.h - the head of one HTTP/1.x request: request line and header lines, bounded.
 *
 * Enough HTTP for a metrics endpoint: the method, the target and the version of the
 * request line; header lines are skipped up to the empty line that ends the head.
 * Every line ends in CRLF (a bare LF is accepted, as RFC 9112 2.2 allows); a line
 * with a NUL, another control character or a bare CR is malformed. A pure codec:
 * no sockets.
 */
#ifndef SH_HTTP_REQ_H
#define SH_HTTP_REQ_H

#include <stddef.h>

#define HTTP_MAX_HEAD   4096 /* request line and headers together, the empty line included */
#define HTTP_MAX_TARGET 256

enum http_parse { HTTP_NEED_MORE, HTTP_MALFORMED, HTTP_TOO_LONG, HTTP_OK };

struct http_request {
    char method[16];
    char target[HTTP_MAX_TARGET + 1];
    int minor; /* HTTP/1.MINOR: 0 or 1 */
};

/* Parse the head at the start of BUF (LEN bytes). HTTP_OK: R filled, *USED bytes
 * (the whole head) consumed. HTTP_NEED_MORE: no empty line yet, still within
 * HTTP_MAX_HEAD. HTTP_TOO_LONG: the head (or the target) is over its bound. */
enum http_parse http_parse_request(const char *buf, size_t len, struct http_request *r,
                                   size_t *used);

#endif
