/* ctl_postfix.h - what hooks Postfix up to smarthostd, written once: printed by
 * `postfix-conf`, applied and undone by `postfix-setup`. */
#ifndef SH_CTL_POSTFIX_H
#define SH_CTL_POSTFIX_H

#include <stddef.h>

#define CTL_PF_QUEUE_DIRECTORY "/var/spool/postfix"

/* One main.cf parameter: "socketmap:ADDR:MAP" when MAP is set, else VALUE. */
struct ctl_pf_param {
    const char *name;
    const char *map;
    const char *value;
};
extern const struct ctl_pf_param ctl_pf_main[];
extern const size_t ctl_pf_nmain;

/* The implicit-TLS (465) transport in master.cf: "NAME " CTL_PF_SMTPS_FIELDS,
 * then "-o OPT" for each of ctl_pf_smtps_opts (NULL-terminated). */
#define CTL_PF_SMTPS_FIELDS "unix - - n - - smtp"
extern const char *const ctl_pf_smtps_opts[];

/* ADDR as Postfix daemons must name it: a unix socket under QUEUE (where they
 * run, perhaps chrooted) becomes relative to it; anything else is unchanged.
 * Returns ADDR or BUF (CAP bytes). */
const char *ctl_pf_relative(const char *addr, const char *queue, char *buf, size_t cap);

/* The value of P for socketmap address MAP_ADDR (already relative) into BUF. */
const char *ctl_pf_value(const struct ctl_pf_param *p, const char *map_addr, char *buf, size_t cap);

/* The implicit-TLS transport's name from the config at PATH, or the default
 * (with a warning on stderr) when it does not load. */
const char *ctl_pf_transport(const char *path, char *buf, size_t cap);

#endif
