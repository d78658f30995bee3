/* hostaddr.c - host syntax checks with inet_pton doing the address work. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "hostaddr.h"

bool sh_domain_valid(const char *d, size_t len)
{
    size_t label = 0;

    if (len == 0 || len > SH_MAX_HOST)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-')
                return false;
            label = 0;
        } else if (isalnum(c) || (c == '-' && label > 0)) {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && d[len - 1] != '-';
}

/* Dotted digits that inet_pton refused (300.1.1.1, 1.2.3, 01.2.3.4) are a
 * mistyped address, never a host name: say so instead of resolving it. */
static bool looks_numeric(const char *s)
{
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && *s != '.')
            return false;
    return true;
}

bool sh_host_parse(const char *in, char *out, enum sh_host_kind *kind, const char **why)
{
    unsigned char addr[16];
    size_t len = strlen(in);

    if (len == 0) {
        *why = "empty host";
        return false;
    }
    if (len > SH_MAX_HOST) {
        *why = "host name longer than 253 characters";
        return false;
    }
    if (strchr(in, '[') || strchr(in, ']')) {
        *why = "write the host without [brackets]";
        return false;
    }
    if (strchr(in, ':')) {
        if (inet_pton(AF_INET6, in, addr) != 1) {
            *why = "invalid IPv6 address";
            return false;
        }
        inet_ntop(AF_INET6, addr, out, SH_MAX_HOST + 1);
        *kind = SH_HOST_IPV6;
        return true;
    }
    if (looks_numeric(in)) {
        if (inet_pton(AF_INET, in, addr) != 1) {
            *why = "invalid IPv4 address (four octets 0-255)";
            return false;
        }
        inet_ntop(AF_INET, addr, out, SH_MAX_HOST + 1);
        *kind = SH_HOST_IPV4;
        return true;
    }
    if (in[len - 1] == '.')
        len--; /* an absolute name is the same relay */
    if (!sh_domain_valid(in, len)) {
        *why = "invalid host name (letters, digits, hyphens; labels of 1-63)";
        return false;
    }
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[len] = 0;
    *kind = SH_HOST_NAME;
    return true;
}
