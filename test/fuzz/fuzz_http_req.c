/* fuzz_http_req.c - the HTTP request-head parser of the --metrics listener (libFuzzer
 * target): any bytes give need-more, malformed, too-long or a request; a request has a
 * method of capital letters, a printable target within its bound, version 1.0 or 1.1,
 * and consumed no more than it was given nor more than HTTP_MAX_HEAD; need-more only
 * while under that bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_request r;
    size_t used = 0, n;

    switch (http_parse_request((const char *)data, size, &r, &used)) {
    case HTTP_NEED_MORE:
        if (size >= HTTP_MAX_HEAD)
            abort();
        break;
    case HTTP_MALFORMED:
    case HTTP_TOO_LONG:
        break;
    case HTTP_OK:
        if (used == 0 || used > size || used > HTTP_MAX_HEAD || (r.minor != 0 && r.minor != 1))
            abort();
        if ((n = strnlen(r.method, sizeof(r.method))) == 0 || n == sizeof(r.method))
            abort();
        for (size_t i = 0; i < n; i++)
            if (r.method[i] < 'A' || r.method[i] > 'Z')
                abort();
        if ((n = strnlen(r.target, sizeof(r.target))) == 0 || n > HTTP_MAX_TARGET)
            abort();
        for (size_t i = 0; i < n; i++)
            if (r.target[i] < 0x21 || r.target[i] > 0x7e)
                abort();
        break;
    }
    return 0;
}
