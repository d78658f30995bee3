/* http_req.c - the head of one HTTP/1.x request: request line and header lines, bounded. */
#include <string.h>

#include "http_req.h"

/* The line at P (up to END) without its CRLF or LF; NULL when it has no end yet. */
static const char *line_end(const char *p, const char *end, size_t *len)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));

    if (nl == NULL)
        return NULL;
    *len = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
    return nl + 1;
}

static int token_char(unsigned char ch)
{
    return ch > 32 && ch < 127;
}

static enum http_parse request_line(const char *p, size_t n, struct http_request *r)
{
    const char *sp1 = memchr(p, ' ', n), *sp2;
    size_t ml, tl;

    if (sp1 == NULL || (sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p))) == NULL)
        return HTTP_MALFORMED;
    ml = (size_t)(sp1 - p);
    tl = (size_t)(sp2 - sp1 - 1);
    if (ml == 0 || ml >= sizeof(r->method) || tl == 0)
        return HTTP_MALFORMED;
    if (tl > HTTP_MAX_TARGET)
        return HTTP_TOO_LONG;
    for (size_t i = 0; i < ml; i++)
        if (p[i] < 'A' || p[i] > 'Z')
            return HTTP_MALFORMED;
    for (size_t i = 0; i < tl; i++)
        if (!token_char((unsigned char)sp1[1 + i]))
            return HTTP_MALFORMED;
    if (n - (size_t)(sp2 + 1 - p) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
        (sp2[8] != '0' && sp2[8] != '1'))
        return HTTP_MALFORMED;
    memcpy(r->method, p, ml);
    r->method[ml] = 0;
    memcpy(r->target, sp1 + 1, tl);
    r->target[tl] = 0;
    r->minor = sp2[8] - '0';
    return HTTP_OK;
}

enum http_parse http_parse_request(const char *buf, size_t len, struct http_request *r,
                                   size_t *used)
{
    const char *p = buf, *end = buf + (len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD), *next;
    size_t n;
    enum http_parse res;
    int first = 1;

    for (;; p = next, first = 0) {
        if ((next = line_end(p, end, &n)) == NULL)
            return len >= HTTP_MAX_HEAD ? HTTP_TOO_LONG : HTTP_NEED_MORE;
        for (size_t i = 0; i < n; i++) /* no control characters, no bare CR */
            if (((unsigned char)p[i] < 32 && p[i] != '\t') || p[i] == 127)
                return HTTP_MALFORMED;
        if (first) {
            if ((res = request_line(p, n, r)) != HTTP_OK)
                return res;
        } else if (n == 0) {
            *used = (size_t)(next - buf);
            return HTTP_OK;
        } else if (p[0] == ' ' || p[0] == '\t' || memchr(p, ':', n) == NULL) {
            return HTTP_MALFORMED; /* obsolete line folding, or no field name */
        }
    }
}
