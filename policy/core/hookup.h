/* hookup.h - where the packaged daemons listen and what main.cf and master.cf say to
 * reach them: the one table the daemons, smarthostctl (postfix-conf, postfix-setup,
 * defaults) and, through `smarthostctl defaults`, the tests of the units, etc/ and the
 * man pages take. */
#ifndef SH_HOOKUP_H
#define SH_HOOKUP_H

#include <stddef.h>

/* Postfix's queue directory: its daemons run there, perhaps chrooted, so a socket
 * under it is named relative to it in main.cf. */
#define SH_HOOKUP_QUEUE_DIRECTORY "/var/spool/postfix"
/* Our sockets' directory inside it (smarthostd:postfix 2750, debian/smarthostd.tmpfiles):
 * private/ is postfix's own and the unprivileged daemons cannot create sockets there. */
#define SH_HOOKUP_SOCKET_DIR SH_HOOKUP_QUEUE_DIRECTORY "/smarthostd"

#define SH_HOOKUP_SOCKETMAP "unix:" SH_HOOKUP_SOCKET_DIR "/socketmap"
#define SH_HOOKUP_POLICY    "unix:" SH_HOOKUP_SOCKET_DIR "/policy"
#define SH_HOOKUP_MILTER    "unix:" SH_HOOKUP_SOCKET_DIR "/milter"

/* Control sockets (--control unix:PATH) and pidfiles, as the units pass them. */
#define SH_HOOKUP_CONTROL        "/run/smarthostd/control"
#define SH_HOOKUP_PIDFILE        "/run/smarthostd/smarthostd.pid"
#define SH_HOOKUP_MILTER_CONTROL "/run/smarthostd-milter/control"
#define SH_HOOKUP_MILTER_PIDFILE "/run/smarthostd-milter/smarthostd-milter.pid"

/* Where `postfix-setup --apply` keeps what it changed, for --undo. */
#define SH_HOOKUP_SETUP_STATE "/var/lib/smarthostd/postfix-setup.state"

/* One main.cf parameter: "socketmap:ADDR:NAME" of map MAP when MAP >= 0 (an enum
 * sh_map), else VALUE. */
#define SH_HOOKUP_NO_MAP (-1)
struct sh_hookup_param {
    const char *name;
    int map;
    const char *value;
};
extern const struct sh_hookup_param sh_hookup_main[];
extern const size_t sh_hookup_nmain;

/* The relay transports in master.cf: "NAME " SH_HOOKUP_SMTPS_FIELDS, then "-o OPT" for
 * each of sh_hookup_relay_opts (smarthost_transport) or sh_hookup_smtps_opts (the
 * implicit-TLS (465) implicit_tls_transport), NULL-terminated. */
#define SH_HOOKUP_SMTPS_FIELDS "unix - - n - - smtp"
extern const char *const sh_hookup_relay_opts[];
extern const char *const sh_hookup_smtps_opts[];

/* The milter's main.cf parameters (etc/postfix-milter.cf), each naming the milter socket. */
extern const char *const sh_hookup_milter_params[];

#endif
