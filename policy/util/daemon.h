/* daemon.h - the generic parts of a daemon's start: signal set, detach, readiness.
 *
 * Detaching forks before anything is opened: the parent waits until the child says it
 * is ready (sockets bound, configuration loaded, privileges dropped) and then exits 0,
 * or exits with the child's status when the child fails first, so the operator sees a
 * startup error on the terminal and in the exit status. The child starts a new session;
 * at ready it leaves the working directory and the terminal.
 */
#ifndef SH_DAEMON_H
#define SH_DAEMON_H

#include <signal.h>
#include <stdbool.h>

/* The signals a daemon handles (SIGHUP reload, SIGTERM/SIGINT stop, SIGUSR1 summary), blocked in
 * the calling thread so every thread created later inherits the mask; SIGPIPE ignored. Call first
 * thing in main(). SET receives the handled signals (the main thread unblocks them later). */
void sh_daemon_block_signals(sigset_t *set);

/* Fork; the parent waits for sh_daemon_ready() in the child and never returns. */
void sh_daemon_detach(void);

/* Startup is complete: release a waiting parent, chdir("/"), and point stdin, stdout
 * and stderr at /dev/null (detached only; in the foreground nothing changes). */
void sh_daemon_ready(void);

/* PATH made absolute against the current directory (not resolved: links stay links),
 * so reloads and unlinks work after chdir("/"). A new string; NULL stays NULL. */
char *sh_daemon_abspath(const char *path);

/* systemd's readiness protocol (sd_notify(3)); without $NOTIFY_SOCKET all are no-ops. */
void sh_notify_ready(void);
void sh_notify_reloading(void);
void sh_notify_stopping(void);

#endif
