/* cidr.h - IPv4/IPv6 networks: parse "10.0.0.0/8", "fd00::/8" or a bare
 * address, and match addresses as Postfix and Received headers write them.
 * Shared by the policy service (trusted_networks) and the milter (internal
 * networks); knows nothing of either. */
#ifndef SH_CIDR_H
#define SH_CIDR_H

#include <stdbool.h>
#include <stddef.h>

struct sh_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned bits;
};

/* false for a bad address, a bad prefix length or host bits set ("10.1.0.0/8"). */
bool sh_cidr_parse(const char *text, struct sh_cidr *out);
/* Does the address in TEXT (IPv4, IPv6, "IPv6:...", v4-mapped ::ffff:a.b.c.d;
 * LEN bytes, not NUL-terminated) fall into any of NETS? */
bool sh_cidr_match_text(const struct sh_cidr *nets, size_t n, const char *text, size_t len);

#endif
