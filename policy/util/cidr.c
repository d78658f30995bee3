/* cidr.c - address-in-network checks on top of inet_pton. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"

bool sh_cidr_parse(const char *text, struct sh_cidr *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    unsigned max;

    if (alen == 0 || alen >= INET6_ADDRSTRLEN)
        return false;
    memcpy(buf, text, alen);
    buf[alen] = 0;
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else
        return false;
    out->bits = max;
    if (slash) {
        char *end;
        unsigned long b;
        if (!isdigit((unsigned char)slash[1]))
            return false;
        errno = 0;
        b = strtoul(slash + 1, &end, 10);
        if (errno || *end || b > max)
            return false;
        out->bits = (unsigned)b;
    }
    /* host bits must be zero: "10.1.2.3/8" is a typo, not a network */
    for (unsigned i = out->bits; i < max; i++)
        if (out->addr[i / 8] & (0x80 >> (i % 8)))
            return false;
    return true;
}

static bool cidr_contains(const struct sh_cidr *n, int family, const unsigned char *a)
{
    unsigned full = n->bits / 8, rest = n->bits % 8;

    if (n->family != family || memcmp(n->addr, a, full) != 0)
        return false;
    return rest == 0 || ((n->addr[full] ^ a[full]) & (0xff00 >> rest) & 0xff) == 0;
}

bool sh_cidr_match_text(const struct sh_cidr *nets, size_t n, const char *text, size_t len)
{
    char buf[INET6_ADDRSTRLEN + 8];
    unsigned char a[16];
    int family;

    if (len > 5 && strncasecmp(text, "IPv6:", 5) == 0) {
        text += 5;
        len -= 5;
    }
    if (len == 0 || len >= INET6_ADDRSTRLEN)
        return false;
    memcpy(buf, text, len);
    buf[len] = 0;
    if (inet_pton(AF_INET, buf, a) == 1)
        family = AF_INET;
    else if (inet_pton(AF_INET6, buf, a) == 1) {
        family = AF_INET6;
        /* ::ffff:10.1.2.3 is 10.1.2.3 */
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            memmove(a, a + 12, 4);
            family = AF_INET;
        }
    } else
        return false;
    for (size_t i = 0; i < n; i++)
        if (cidr_contains(&nets[i], family, a))
            return true;
    return false;
}
