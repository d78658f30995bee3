/* ctl_reload.c - tell the running daemons to reload and report each one's verdict. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_managed.h"
#include "hookup.h"
#include "pidfile.h"
#include "reload_status.h"

/* The daemons that read the managed file, each found through its pidfile. */
static const struct daemon {
    const char *name, *env, *pidfile;
} daemons[] = {
    {"smarthostd", "SMARTHOSTD_PIDFILE", SH_HOOKUP_PIDFILE},
    {"smarthostd-milter", "SMARTHOSTD_MILTER_PIDFILE", SH_HOOKUP_MILTER_PIDFILE},
};

/* SIGHUP one daemon and report its verdict; false only when it rejected the change. */
static bool reload_one(const struct daemon *d)
{
    const char *pidfile = getenv(d->env);
    struct sh_reload_status before, now;
    char why[600];
    bool had;
    long pid;

    if (pidfile == NULL || *pidfile == 0)
        pidfile = d->pidfile;
    /* Signal only the process that holds the pidfile's lock: a stale or planted pidfile
     * may name any process. */
    if ((pid = sh_pidfile_holder(pidfile, why, sizeof(why))) <= 0) {
        printf(pid == 0 ? "no running %s (%s): the change applies when it starts\n"
                        : "%s not signalled (%s); reload it by hand\n",
               d->name, why);
        return true;
    }
    had = sh_reload_status_read(pidfile, &before) && before.pid == pid;
    if (kill((pid_t)pid, SIGHUP) != 0) {
        printf("%s (%s, pid %ld) not signalled: %s; reload it by hand\n", d->name, pidfile, pid,
               strerror(errno));
        return true;
    }
    /* Its verdict: a status of this pid with a newer generation (bounded wait). */
    for (int i = 0; i < 200; i++) {
        if (sh_reload_status_read(pidfile, &now) && now.pid == pid &&
            (!had || now.generation > before.generation)) {
            if (now.ok) {
                printf("reload: %s pid %ld accepted the new configuration (load #%lu)\n", d->name,
                       pid, now.generation);
                return true;
            }
            ctl_err("reload: %s pid %ld REJECTED the new configuration and keeps serving "
                    "the previous one:\n  %s\n(saved, but not in effect: fix that, then reload "
                    "again)",
                    d->name, pid, now.error);
            return false;
        }
        usleep(50 * 1000);
    }
    printf("reload: sent SIGHUP to %s pid %ld, but it reported no verdict within 10 s "
           "(%s.status; started without --pidfile, or older than this smarthostctl?)\n",
           d->name, pid, pidfile);
    return true;
}

bool ctl_reload_daemon(void)
{
    bool ok = true;

    for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
        ok = reload_one(&daemons[i]) && ok;
    return ok;
}
