/* ctl_args.h - the CLI's argument checks: domain, relay host, port, user, address.
 * Each validates as strictly as the loader and, on failure, prints which field is
 * bad and why (through ctl_err) and returns false. */
#ifndef SH_CTL_ARGS_H
#define SH_CTL_ARGS_H

#include <stdbool.h>

#include "hostaddr.h"

#define CTL_MAX_USER       256
#define CTL_RELAY_NAME_MAX (SH_MAX_HOST + 3)

/* Print "FIELD "VALUE": WHY" through ctl_err; false. */
bool ctl_bad(const char *field, const char *value, const char *why);

/* "@Example.COM" or "example.com" -> "example.com" (SH_MAX_HOST+1 bytes). */
bool ctl_norm_domain(const char *in, char *out);
/* The name `relay add-domain` gives DOMAIN's relay: "d_" + domain with '.' -> '_'
 * (libconfig setting names allow no dots; domains have no '_'). */
void ctl_domain_relay_name(const char *domain, char *out);
/* HOST or [HOST] -> canonical host (SH_MAX_HOST+1 bytes); "host:port" is refused
 * with a hint to give the port as its own argument. */
bool ctl_parse_host(const char *in, char *canon);
/* PORT (NULL: 25), 1-65535. */
bool ctl_parse_port(const char *in, int *port);
bool ctl_user_valid(const char *user);
/* A SENDER or RECIPIENT as `route` takes it: local@domain ("<>" too when NULL_OK). */
bool ctl_address_valid(const char *what, const char *addr, bool null_ok);

/* Warn (never fail) when the host name CANON does not resolve now; bounded in time.
 * IP literals are not looked up. RELAY names the relay for the probe hint. */
void ctl_warn_unresolvable(const char *canon, const char *relay);

#endif
