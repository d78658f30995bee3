/* ctl_postfix.h - what hooks Postfix up to smarthostd (core/hookup.h's table): printed
 * by `postfix-conf` and `defaults`, applied and undone by `postfix-setup`. */
#ifndef SH_CTL_POSTFIX_H
#define SH_CTL_POSTFIX_H

#include <stddef.h>

#include "hookup.h"

/* ADDR as Postfix daemons must name it: a unix socket under QUEUE (where they
 * run, perhaps chrooted) becomes relative to it; anything else is unchanged.
 * Returns ADDR or BUF (CAP bytes). */
const char *ctl_pf_relative(const char *addr, const char *queue, char *buf, size_t cap);

/* The value of P for socketmap address MAP_ADDR (already relative) into BUF. */
const char *ctl_pf_value(const struct sh_hookup_param *p, const char *map_addr, char *buf,
                         size_t cap);

/* The implicit-TLS transport's name from the config at PATH, or the default
 * (with a warning on stderr) when it does not load. */
const char *ctl_pf_transport(const char *path, char *buf, size_t cap);
/* The same for the relay transport (smarthost_transport), silently. */
const char *ctl_pf_relay_transport(const char *path, char *buf, size_t cap);

#endif
