/* fuzz_endpoint.c - fuzz target for listening endpoint names (unix:PATH, inet:HOST:PORT). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sh_endpoint ep;
    char err[256];
    char *spec = malloc(size + 1); /* exact size: a read past the NUL is caught */

    if (spec == NULL)
        return 0;
    memcpy(spec, data, size);
    spec[size] = 0;
    memset(err, 'x', sizeof(err));
    err[sizeof(err) - 1] = 0;
    if (sh_endpoint_parse(spec, &ep, err, sizeof(err))) {
        if (memchr(ep.text, 0, sizeof(ep.text)) == NULL || ep.nfds != 0)
            abort();
        if (ep.kind == SH_EP_UNIX && (ep.path[0] == 0 || !memchr(ep.path, 0, sizeof(ep.path))))
            abort();
        if (ep.kind == SH_EP_INET) {
            long port = strtol(ep.port, NULL, 10);
            if (!memchr(ep.host, 0, sizeof(ep.host)) || port < 1 || port > 65535)
                abort();
        }
    } else if (memchr(err, 0, sizeof(err)) == NULL) {
        abort(); /* the message must stay terminated */
    }
    free(spec);
    return 0;
}
