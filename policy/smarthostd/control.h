/* control.h - the control socket of a daemon: status, stats, route over codec/control.h.
 *
 * A unix socket only, mode 0600 (root) or 0660 with a chosen group; on top of
 * the file mode every request is checked against the peer's uid: root, or a
 * member of that group. Served by the daemon's own util/server.c workers, so the
 * line and reply bounds, the request deadline and the connection cap apply.
 */
#ifndef SH_DAEMON_CONTROL_H
#define SH_DAEMON_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

#include "server.h"

extern const struct sh_proto sh_control_proto;

/* PROGRAM names the daemon in status; PREFIX starts its Prometheus names. */
void control_init(const char *program, const char *prefix, const char *config);
/* The server whose listeners status shows. */
void control_set_server(const struct sh_server *srv);
/* --control-group: members of GROUP may use the socket too; false when unknown. */
bool control_set_group(const char *group);
gid_t control_group(void); /* (gid_t)-1: root only */

#endif
