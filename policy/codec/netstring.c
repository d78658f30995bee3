/* netstring.c - netstring decoder and encoder, bounded and overflow-checked. */
#include <stdio.h>
#include <string.h>

#include "netstring.h"

static enum netstring_status malformed(struct netstring_frame *f, const char *why)
{
    f->why = why;
    return NETSTRING_MALFORMED;
}

enum netstring_status netstring_decode(const char *buf, size_t len, size_t max,
                                       struct netstring_frame *f)
{
    size_t n = 0, i;

    memset(f, 0, sizeof(*f));
    /* Length prefix: decimal digits up to ':'. Reject as soon as the bytes seen
     * so far can no longer start a valid frame, so a hostile peer cannot make us
     * wait for a frame we would refuse anyway. */
    for (i = 0; i < len && buf[i] != ':'; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < '0' || c > '9')
            return malformed(f, "non-numeric length");
        if (i >= NETSTRING_MAX_DIGITS)
            return malformed(f, "length prefix too long");
        if (i == 1 && buf[0] == '0')
            return malformed(f, "leading zero in length"); /* prohibited by the spec */
        size_t d = (size_t)(c - '0');
        if (d > max || n > (max - d) / 10)
            return malformed(f, "length over limit"); /* n*10+d > max, without overflowing */
        n = n * 10 + d;
    }
    if (i == len)
        return NETSTRING_NEED_MORE;
    if (i == 0)
        return malformed(f, "empty length");
    i++; /* ':' */
    if (len - i < n + 1)
        return NETSTRING_NEED_MORE;
    if (buf[i + n] != ',')
        return malformed(f, "missing ',' after payload");
    f->data = buf + i;
    f->len = n;
    f->consumed = i + n + 1;
    return NETSTRING_COMPLETE;
}

size_t netstring_header(char hdr[NETSTRING_HDR_MAX], size_t len)
{
    return (size_t)snprintf(hdr, NETSTRING_HDR_MAX, "%zu:", len);
}

size_t netstring_encode(char *out, size_t cap, const char *data, size_t len)
{
    char hdr[NETSTRING_HDR_MAX];
    size_t h = netstring_header(hdr, len);

    if (h >= NETSTRING_HDR_MAX || cap < h || cap - h < len + 1)
        return 0;
    memcpy(out, hdr, h);
    memcpy(out + h, data, len);
    out[h + len] = ',';
    return h + len + 1;
}
