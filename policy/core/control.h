/* control.h - a daemon's control socket: status and stats over codec/control_codec.h.
 *
 * Shared by smarthostd and smarthostd-milter. A unix socket only, mode 0600 (root)
 * or 0660 with a chosen group (--control-group); on top of the file mode every
 * request is checked against the peer's uid: root, or a member of that group.
 * Writes (CONTROL_WRITE verbs) are root's alone, whatever the group. Served by a
 * util/server.c instance (the daemon's own, or one with only this listener), so
 * the line and reply bounds, the request deadline and the connection cap apply.
 * A daemon adds its own verbs and status lines through struct control_ext.
 */
#ifndef SH_DAEMON_CONTROL_H
#define SH_DAEMON_CONTROL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "control_codec.h"
#include "server.h"
#include "snapshot.h"

extern const struct sh_proto sh_control_proto;

/* What a daemon adds to status, stats [prometheus]. */
struct control_ext {
    /* A verb of its own: true when it knows R (an answer in OUT, or *ERR set to
     * an "ERR ..." status line); ROOT says whether the peer is root. */
    bool (*verb)(FILE *out, const struct ctl_request *r, const struct sh_snapshot *s, bool root,
                 const char **err);
    const char *usage; /* its verbs, for the unknown-request answer: ", route SENDER" */
    /* More status lines (optional). */
    void (*status)(FILE *out, const struct sh_snapshot *s);
};

/* PROGRAM names the daemon in status; PREFIX starts its Prometheus names;
 * EXT (may be NULL) adds verbs and status lines. */
void control_init(const char *program, const char *prefix, const char *config,
                  const struct control_ext *ext);
/* The server whose listeners status shows. */
void control_set_server(const struct sh_server *srv);

/* The daemons' shared options: --control unix:PATH, --control-group GROUP. */
enum { CONTROL_OPT_CONTROL = 0x1000, CONTROL_OPT_GROUP };
#define CONTROL_LONGOPTS                                                                           \
    {"control", required_argument, NULL, CONTROL_OPT_CONTROL},                                     \
    {                                                                                              \
        "control-group", required_argument, NULL, CONTROL_OPT_GROUP                                \
    }
#define CONTROL_SYNOPSIS "[--control unix:PATH [--control-group GROUP]]"
#define CONTROL_HELP                                                                               \
    "  --control unix:PATH  control socket for smarthostctl status, stats, ... (mode 0600:\n"      \
    "                  root only)\n"                                                               \
    "  --control-group GROUP  members of GROUP may read it too (mode 0660)\n"
/* One of those options (CH is CONTROL_OPT_*); false with a message on stderr. */
bool control_option(int ch, const char *arg);
/* Whether --control was given. */
bool control_wanted(void);
/* Bind the control socket (privileged) and serve it as a listener of SRV; false
 * with ERR set and nothing left bound. */
bool control_listen(struct sh_server *srv, char *err, size_t errlen);
const char *control_endpoint(void); /* "unix:/run/..." once listening, for logs */
/* Close the listening socket and remove it. */
void control_close(void);

#endif
