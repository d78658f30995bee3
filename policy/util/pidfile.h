/* pidfile.h - one locked pidfile per daemon instance, and the check that finds its holder.
 *
 * The daemon opens PIDFILE without following links and without truncating it, takes a
 * POSIX write lock on it (fcntl F_SETLK) and keeps the descriptor for its whole life:
 * the lock, not the number in the file, says that an instance runs. A second instance
 * fails to take the lock and learns the holder's pid from F_GETLK. POSIX locks belong
 * to a process and are not inherited across fork(), so the process that serves must
 * take it (sh_daemon_detach() forks before the pidfile is opened).
 */
#ifndef SH_PIDFILE_H
#define SH_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Open and lock PATH for this process; write our pid into it. A missing parent directory
 * is made (mode 0755, owner OWNER/GROUP unless (uid_t)-1); the directory must be a real
 * directory (not a link) owned by root, by us or by OWNER. The file must be a regular
 * file with one link. Returns the descriptor (keep it open: closing it releases the lock),
 * or -1 with ERR set; *HOLDER is the pid of a running instance ("already running"), else 0. */
int sh_pidfile_acquire(const char *path, uid_t owner, gid_t group, long *holder, char *err,
                       size_t errlen);

/* The pid of the process holding the lock on PATH: >0. 0 when no process holds it (no
 * daemon runs, whatever pid the file names), -1 when PATH cannot be judged; ERR says why
 * in both cases. Never signal a pid read from a pidfile without this check. */
long sh_pidfile_holder(const char *path, char *err, size_t errlen);

/* At exit: remove PATH while still holding the lock, then release it. */
void sh_pidfile_release(const char *path, int fd);

#endif
