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

/* For `import postfix`: relay NAME at [HOST]:PORT with tls LEVEL (NULL: the loader's
 * default) and MATCH (Postfix's match= value, NULL for none), credentials when USER. */
bool relay_define(struct ctl_managed *m, const char *name, const char *host, int port,
                  const char *level, const char *match, const char *user, const char *password);
/* Sender rule KEY (user@domain, @domain, <>) -> relay name or "direct". */
bool relay_rule(struct ctl_managed *m, const char *key, const char *relay);
void relay_default_name(struct ctl_managed *m, const char *name);
/* Recipient transport rule (domain, .domain, user@domain -> "transport:nexthop"). */
bool relay_transport(struct ctl_managed *m, const char *key, const char *transport);
/* The tls LEVEL of managed relay RELAY (a relay name or a domain). */
bool relay_set_tls(struct ctl_managed *m, const char *relay, const char *level);
/* No relay, rule, credential, transport or default in the managed group. */
bool relay_managed_empty(struct ctl_managed *m);

/* Credentials for every managed relay at HOST:PORT that has none yet
 * (docker-mailserver's "[host]:port user:password" lines). Returns how many. */
int relay_auth_nexthop(struct ctl_managed *m, const char *host, int port, const char *user,
                       const char *password);

/* A password into BUF (CAP bytes): ARG when given (with a warning: argv is visible
 * in ps), else one line of stdin (FROM_STDIN), else a prompt without echo on the tty. */
bool ctl_read_password(const char *arg, bool from_stdin, const char *user, char *buf,
                       size_t cap);

/* `import postfix DIR` (ctl_import_postfix.c): the relay setup of Postfix's DIR/main.cf
 * into M; --encrypt-auth stores tls = encrypt for relays Postfix logs in to under may/none. */
bool ctl_import_postfix(struct ctl_managed *m, const char *dir, bool encrypt_auth);
#endif
