/* fuzz_netstring.c - the netstring decoder on hostile bytes (libFuzzer target). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t off = 0;
    struct netstring_frame f;
    enum netstring_status st;

    /* Decode pipelined frames until the input runs out or turns bad. */
    while ((st = netstring_decode(buf + off, size - off, NETSTRING_MAX_REQUEST, &f)) ==
           NETSTRING_COMPLETE) {
        char out[NETSTRING_FRAME_MAX(NETSTRING_MAX_REQUEST)];
        struct netstring_frame g;
        size_t n;

        if (f.consumed == 0 || f.consumed > size - off || f.len > NETSTRING_MAX_REQUEST ||
            f.data < buf + off || f.data + f.len >= buf + off + f.consumed)
            abort(); /* frame outside the input */
        n = netstring_encode(out, sizeof(out), f.data, f.len);
        /* Re-encoding gives back exactly the frame (no leading zeros accepted). */
        if (n != f.consumed || memcmp(out, buf + off, n) != 0)
            abort();
        if (netstring_decode(out, n, NETSTRING_MAX_REQUEST, &g) != NETSTRING_COMPLETE ||
            g.len != f.len)
            abort();
        off += f.consumed;
    }
    if (st == NETSTRING_MALFORMED && f.why == NULL)
        abort();
    /* Every strict prefix of a complete input needs more or is already bad. */
    if (st == NETSTRING_NEED_MORE && off < size &&
        netstring_decode(buf + off, size - off - 1, NETSTRING_MAX_REQUEST, &f) ==
            NETSTRING_COMPLETE)
        abort();
    return 0;
}
