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
 * Signals: blocked in every thread the service creates; the main thread takes them with
 * handlers that only set a flag and write a self-pipe byte, and from ready on it never
 * blocks them, not even while it reloads. Linux gives a process-directed signal to the
 * main thread whenever that thread does not block it and is not still to take another
 * one (kernel/signal.c complete_signal), so a signal does not reach a library thread
 * that sigwaits for it (libmilter's, which stops the milter on SIGHUP and SIGTERM).
 * A SIGHUP during a reload asks for one more load once this one is judged, so a storm
 * of them ends with the file as it was at the last one. A service that stops by itself
 * (libmilter's smfi_main returning unasked: what is left of the window above, a SIGHUP
 * within microseconds of another signal) makes the daemon exit 1, so a supervisor
 * restarts it.
 *
 * Loads never block on a file (every file is opened with sh_regfile_open); SIGTERM and
 * SIGINT have no SA_RESTART, so a stop also interrupts a load stuck in a slow open of a
 * file that might block (the loader reads @include files itself, config_read.h).
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

/* For a service thread: wait until the main thread takes the signals (after start()),
 * before starting anything that sigwaits for them itself (smfi_main). */
void sh_daemon_wait_serving(void);

/* For a service thread: the service stopped on its own; the daemon stops and exits 1.
 * Async-signal-safe. */
void sh_daemon_service_ended(void);

/* Run the daemon; returns its exit status. */
int sh_daemon_main(int argc, char **argv, const struct sh_service *svc);

#endif
