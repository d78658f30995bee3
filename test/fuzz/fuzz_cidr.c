/* fuzz_cidr.c - fuzz target for network parsing and address matching: the first line
 * is parsed as a network, the rest matched (not NUL-terminated) against it and fixed ones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *fixed[] = {"10.0.0.0/8", "127.0.0.1", "fd00::/8", "::1/128", "0.0.0.0/0"};
    struct sh_cidr nets[6];
    size_t n = 0, first = size;
    const uint8_t *nl = memchr(data, '\n', size);
    char *text;
    uint8_t *rest;

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (!sh_cidr_parse(fixed[i], &nets[n++]))
            abort();
    if (nl)
        first = (size_t)(nl - data);
    if ((text = malloc(first + 1)) == NULL)
        return 0;
    memcpy(text, data, first);
    text[first] = 0;
    if (sh_cidr_parse(text, &nets[n])) {
        unsigned max = nets[n].family == AF_INET ? 32 : 128;
        if ((nets[n].family != AF_INET && nets[n].family != AF_INET6) || nets[n].bits > max)
            abort();
        n++;
    }
    free(text);
    if (nl) { /* exact-size copy without a terminator: an over-read is caught */
        size_t len = size - first - 1;
        if ((rest = malloc(len ? len : 1)) == NULL)
            return 0;
        memcpy(rest, nl + 1, len);
        (void)sh_cidr_match_text(nets, n, (const char *)rest, len);
        (void)sh_cidr_match_text(nets + 5, n - 5, (const char *)rest, len);
        free(rest);
    }
    return 0;
}
