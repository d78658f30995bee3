/* lifecycle.h - the daemon lifecycle both daemons share: options, check, load, detach,
 * pidfile, privileges, reload with status, stop (after Postfix master/single_server.c).
 *
 * A program supplies only its service: how to listen, how to serve, how to stop, and
 * its own options. Everything else happens here, in one order for both daemons:
 *
 *   signals blocked -> options -> (-n: check, exit) -> syslog -> detach (unless -f)
 *   -> pidfile locked (a second instance stops here, before any socket is touched)
 *   -> first load -> listen (privileged) -> status file -> drop privileges -> serve
 *   -> ready (the starting parent exits 0; systemd gets READY=1)
 *   -> SIGUSR1: the service's one-line summary to the log
 *   -> SIGHUP: reload (new snapshot, swap, keep the old one on error, verdict to
 *      PIDFILE.status) | SIGTERM, SIGINT: stop, remove sockets and pidfile.
 *
 * Loads never block on a file (every file is opened with sh_regfile_open); while one
 * runs, SIGTERM and SIGINT are unblocked in the loading thread with a handler that only
 * records them, so a stop also interrupts a load stuck in a slow open of a file that
 * libconfig reads itself (@include).
 */
#ifndef SH_LIFECYCLE_H
#define SH_LIFECYCLE_H

#include <getopt.h>
#include <stdbool.h>

#include "snapshot.h"

struct sh_service {
    const char *name;              /* program name and syslog ident */
    const char *synopsis;          /* the service's options, for the usage line */
    const char *help;              /* their explanation, one "  -x ..." line each */
    const char *shortopts;         /* extra getopt letters ("p:"), or "" */
    const struct option *longopts; /* extra long options ({0}-terminated; val >= 256) */
    /* One service option; false = a bad value (usage, exit 2). */
    bool (*option)(int ch, const char *arg);
    /* After parsing, unless -n: false = a required option is missing. */
    bool (*args_ok)(void);
    /* -n: service-specific warnings about S, on stderr. */
    void (*check)(const struct sh_snapshot *s);
    /* After each good load (FIRST: at startup), already published. */
    void (*loaded)(const struct sh_snapshot *s, bool first);
    /* Bind the listening sockets, still privileged; fatal on failure (after undoing). */
    void (*listen)(void);
    /* Serve with privileges dropped: start threads, return at once. */
    void (*start)(void);
    /* Stop serving and remove the sockets made by listen(). */
    void (*stop)(void);
    /* SIGUSR1: a one-line summary for the log, into BUF (optional). */
    void (*summary)(char *buf, size_t cap);
};

/* The configuration file's absolute path, once the options are parsed. */
const char *sh_daemon_config(void);

/* Run the daemon; returns its exit status. */
int sh_daemon_main(int argc, char **argv, const struct sh_service *svc);

#endif
