/* hostaddr.h - relay host and domain syntax: IPv4 (octets 0-255), IPv6, FQDN. */
#ifndef SH_HOSTADDR_H
#define SH_HOSTADDR_H

#include <stdbool.h>
#include <stddef.h>

#define SH_MAX_HOST 253 /* RFC 1035 name length without the trailing dot */

enum sh_host_kind {
    SH_HOST_NAME,
    SH_HOST_IPV4,
    SH_HOST_IPV6,
};

/* Validate IN and write its canonical form to OUT (SH_MAX_HOST+1 bytes):
 * lowercase name, or the address as inet_ntop prints it. Brackets are refused:
 * the caller adds them. false with *why set to a static explanation. */
bool sh_host_parse(const char *in, char *out, enum sh_host_kind *kind, const char **why);

/* A DNS domain name (labels of letters, digits, hyphens; 1-63 bytes each;
 * <= 253 in all); case-insensitive. */
bool sh_domain_valid(const char *d, size_t len);

#endif
