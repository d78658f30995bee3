/* ctl_relay.h - relay edits on the managed group, shared by `relay` and `import`.
 * Each validates its fields as strictly as the loader and names the bad one. */
#ifndef SH_CTL_RELAY_H
#define SH_CTL_RELAY_H

#include <stdbool.h>
#include "ctl_managed.h"

/* How a relay speaks TLS: port 465 means implicit TLS (RFC 8314) unless said otherwise. */
#define RELAY_TLS_AUTO     0
#define RELAY_TLS_IMPLICIT 1
#define RELAY_TLS_STARTTLS 2

/* Each edit takes SRC: NULL for a hand command (which owns what it touches), or where
 * an import found the entry ("dms:FILE:LINE"), kept as imported_from. PATTERN is a
 * domain, @domain or user@domain. */
/* PATTERN -> relay HOST:PORT (port NULL: 25), the one relay of that nexthop. */
bool relay_add_domain(struct ctl_managed *m, const char *pattern, const char *host,
                      const char *port, int tls_mode, const char *src);
/* PATTERN's own credentials (enc:v1:) at the relay it uses: its rule's relay, or the one
 * less specific rules or the default relay give; that relay's tls is raised to encrypt. */
bool relay_add_auth(struct ctl_managed *m, const char *pattern, const char *user,
                    const char *password, const char *src);
bool relay_exclude_domain(struct ctl_managed *m, const char *pattern, const char *src);
bool relay_del_domain(struct ctl_managed *m, const char *pattern);
/* The default relay; credentials-only rules follow it. */
bool relay_set_default(struct ctl_managed *m, const char *host, const char *port, int tls_mode,
                       const char *src);
/* The default relay's own credentials (docker-mailserver's RELAY_USER/RELAY_PASSWORD). */
bool relay_default_auth(struct ctl_managed *m, const char *user, const char *password,
                        const char *src);
/* The own credentials of the relay at HOST:PORT (PORT -1: every relay at HOST), as
 * docker-mailserver's "[host]:port user:pw" lines: how many relays got them; 0 when
 * none was there and [HOST]:PORT was made to keep them; -1 on error. */
int relay_auth_nexthop(struct ctl_managed *m, const char *host, int port, const char *user,
                       const char *password, const char *src);
/* Everything an import whose SRC starts with SOURCE made, gone; then relay_gc(). */
void relay_drop_imported(struct ctl_managed *m, const char *source);
/* Managed relays and credentials nothing refers to, gone. */
void relay_gc(struct ctl_managed *m);
/* Credentials NAME (encrypted under that name) in the managed group. */
bool relay_put_credentials(struct ctl_managed *m, const char *name, const char *user,
                           const char *password, const char *src);
/* Member NAME of G set to a string (TYPE CONFIG_TYPE_STRING, S), an int or a bool (I). */
void ctl_set_member(config_setting_t *g, const char *name, int type, const char *s, int i);

/* For `import postfix`: relay NAME at [HOST]:PORT with tls LEVEL (NULL: the loader's
 * default) and MATCH (Postfix's match= value, NULL for none), credentials when USER. */
bool relay_define(struct ctl_managed *m, const char *name, const char *host, int port,
                  const char *level, const char *match, const char *user, const char *password);
/* Sender rule KEY (user@domain, @domain, <>) -> relay name or "direct". */
bool relay_rule(struct ctl_managed *m, const char *key, const char *relay);
void relay_default_name(struct ctl_managed *m, const char *name);
/* Relay NAME speaks implicit TLS (a wrappermode transport in Postfix). */
void relay_set_implicit(struct ctl_managed *m, const char *name, bool implicit);
/* FAILOVER appended to relay NAME's failover list. */
void relay_add_failover(struct ctl_managed *m, const char *name, const char *failover);
/* Relay NAME logs in with credentials CREDENTIALS (another relay's, by its name). */
void relay_use_credentials(struct ctl_managed *m, const char *name, const char *credentials);
/* Recipient transport rule (domain, .domain, user@domain -> "transport:nexthop"). */
bool relay_transport(struct ctl_managed *m, const char *key, const char *transport);
/* The tls LEVEL of managed relay RELAY (a relay name or a domain). */
bool relay_set_tls(struct ctl_managed *m, const char *relay, const char *level);
/* No relay, rule, credential, transport or default in the managed group. */
bool relay_managed_empty(struct ctl_managed *m);

/* A password into BUF (CAP bytes): ARG when given (with a warning: argv is visible
 * in ps), else one line of stdin (FROM_STDIN), else a prompt without echo on the tty. */
bool ctl_read_password(const char *arg, bool from_stdin, const char *user, char *buf, size_t cap);

/* `import postfix DIR` (ctl_import_postfix.c): the relay setup of Postfix's DIR/main.cf
 * into M; --encrypt-auth stores tls = encrypt for relays Postfix logs in to under may/none. */
bool ctl_import_postfix(struct ctl_managed *m, const char *dir, bool encrypt_auth);
#endif
