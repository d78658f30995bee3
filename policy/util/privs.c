/* privs.c - drop root for good, in one place (after Postfix util/chroot_uid.c). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include "msg.h"
#include "privs.h"

void sh_privs_drop(const char *user, const char *chroot_dir)
{
    struct passwd *pw;
    char name[256];
    uid_t uid;
    gid_t gid;

    if (geteuid() != 0) {
        /* Started unprivileged (systemd User=, a test): nothing to give up. */
        if (user != NULL && ((pw = getpwnam(user)) == NULL || pw->pw_uid != geteuid()))
            msg_fatal("-u %s: only root can switch users", user);
        if (chroot_dir != NULL)
            msg_fatal("chroot %s: only root can chroot", chroot_dir);
        return;
    }
    /* Only an explicit -u changes users: what a daemon runs as must not depend on
     * which accounts happen to exist on the machine. */
    if (user == NULL) {
        msg_warn("running as root: give -u USER (e.g. -u %s) to drop privileges", SH_DEFAULT_USER);
        return;
    }
    errno = 0;
    if ((pw = getpwnam(user)) == NULL)
        msg_fatal("-u %s: %s", user, errno ? strerror(errno) : "no such user");
    if (pw->pw_uid == 0)
        msg_fatal("-u %s: refusing a user with uid 0", user);
    /* getpwnam's buffer is static and initgroups may reuse it: copy first. */
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    if (snprintf(name, sizeof(name), "%s", pw->pw_name) >= (int)sizeof(name))
        msg_fatal("-u %s: user name too long", user);

    if (initgroups(name, gid) < 0)
        msg_fatal("initgroups %s: %m", name);
    if (setgid(gid) < 0)
        msg_fatal("setgid %ld: %m", (long)gid);
    if (chroot_dir != NULL && (chroot(chroot_dir) < 0 || chdir("/") < 0))
        msg_fatal("chroot %s: %m", chroot_dir);
    if (setuid(uid) < 0)
        msg_fatal("setuid %ld: %m", (long)uid);

    /* setuid() as root sets all three uids; prove it. */
    if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != uid || geteuid() != uid ||
        getgid() != gid || getegid() != gid)
        msg_fatal("privileges not dropped: root can be regained");
    msg_info("running as user %s (uid %ld, gid %ld)", name, (long)uid, (long)gid);
}

void sh_privs_no_core_dumps(void)
{
    if (setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0}) < 0 ||
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        msg_warn("cannot disable core dumps: %m");
}
