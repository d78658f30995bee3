/* ctl_relay.h - relay edits on the managed group, shared by `relay` and `import`.
 * Each validates its fields as strictly as the loader and names the bad one. */
#ifndef SH_CTL_RELAY_H
#define SH_CTL_RELAY_H

#include <stdbool.h>
#include "ctl_managed.h"

/* DOMAIN (with or without '@') -> relay HOST:PORT (port 0: 25). */
bool relay_add_domain(struct ctl_managed *m, const char *domain, const char *host,
                      const char *port);
/* Credentials for DOMAIN's relay; the password is stored encrypted (enc:v1:). */
bool relay_add_auth(struct ctl_managed *m, const char *domain, const char *user,
                    const char *password);
bool relay_exclude_domain(struct ctl_managed *m, const char *domain);
bool relay_del_domain(struct ctl_managed *m, const char *domain);
bool relay_set_default(struct ctl_managed *m, const char *host, const char *port);
/* Credentials for the default relay (docker-mailserver's RELAY_USER/RELAY_PASSWORD). */
bool relay_default_auth(struct ctl_managed *m, const char *user, const char *password);



/* Credentials for every managed relay at HOST:PORT that has none yet
 * (docker-mailserver's "[host]:port user:password" lines). Returns how many. */
int relay_auth_nexthop(struct ctl_managed *m, const char *host, int port, const char *user,
                       const char *password);
#endif
