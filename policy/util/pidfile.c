/* pidfile.c - create, lock and check a daemon's pidfile without following links. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"
#include "regfile.h"

#define SH_PIDFILE_MODE 0644

static bool errf(char *err, size_t errlen, const char *path, const char *what)
{
    snprintf(err, errlen, "pidfile %s: %s: %s", path, what, strerror(errno));
    return false;
}

/* The pidfile's directory as a descriptor: made when missing (one level only), never
 * through a link, owned by root, by us or by the service user. */
static int open_dir(const char *path, uid_t owner, gid_t group, char *err, size_t errlen)
{
    char buf[PATH_MAX], *dir;
    struct stat st;
    bool made = false;
    int dfd;

    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        snprintf(err, errlen, "pidfile %s: path too long", path);
        return -1;
    }
    dir = dirname(buf);
    if (mkdir(dir, 0755) == 0)
        made = true;
    else if (errno != EEXIST)
        return errf(err, errlen, path, "mkdir of its directory"), -1;
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return errf(err, errlen, path,
                    errno == ELOOP || errno == ENOTDIR
                        ? "its directory is not a directory (a link?)"
                        : "its directory"),
               -1;
    if (made && owner != (uid_t)-1 && fchown(dfd, owner, group) < 0) {
        errf(err, errlen, path, "chown of its directory");
        close(dfd);
        return -1;
    }
    if (fstat(dfd, &st) < 0 ||
        (st.st_uid != 0 && st.st_uid != geteuid() && (owner == (uid_t)-1 || st.st_uid != owner))) {
        snprintf(err, errlen, "pidfile %s: its directory must be owned by root or the service user",
                 path);
        close(dfd);
        return -1;
    }
    return dfd;
}

int sh_pidfile_acquire(const char *path, uid_t owner, gid_t group, long *holder, char *err,
                       size_t errlen)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    char buf[PATH_MAX], num[32];
    struct stat st;
    int dfd, fd, n;

    *holder = 0;
    if ((dfd = open_dir(path, owner, group, err, errlen)) < 0)
        return -1;
    snprintf(buf, sizeof(buf), "%s", path);
    /* No O_TRUNC: a running instance's pid must survive our attempt. O_NONBLOCK: a
     * planted FIFO cannot stall us. O_NOFOLLOW: a planted link is not followed. */
    fd = openat(dfd, basename(buf), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    close(dfd);
    if (fd < 0)
        return errf(err, errlen, path, errno == ELOOP ? "is a symbolic link, refused" : "open"), -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        snprintf(err, errlen, "pidfile %s: not a regular file with one link, refused", path);
        close(fd);
        return -1;
    }
    /* 0644 whatever the umask (077 would hide the pid from smarthostctl run as a user) */
    if ((st.st_mode & 07777) != SH_PIDFILE_MODE && fchmod(fd, SH_PIDFILE_MODE) < 0) {
        errf(err, errlen, path, "chmod");
        close(fd);
        return -1;
    }
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        int saved = errno;
        if (saved == EAGAIN || saved == EACCES) {
            fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET};
            if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
                *holder = fl.l_pid > 0 ? (long)fl.l_pid : -1;
            snprintf(err, errlen, "already running (pid %ld): pidfile %s is locked", *holder, path);
        } else {
            errno = saved;
            errf(err, errlen, path, "lock");
        }
        close(fd);
        return -1;
    }
    n = snprintf(num, sizeof(num), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, num, (size_t)n, 0) != n) {
        errf(err, errlen, path, "write");
        close(fd);
        return -1;
    }
    return fd;
}

long sh_pidfile_holder(const char *path, char *err, size_t errlen)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    char why[512];
    int fd;

    if ((fd = sh_regfile_open(path, 0, NULL, why, sizeof(why))) < 0) {
        bool missing = errno == ENOENT;
        snprintf(err, errlen, "pidfile %s", why);
        return missing ? 0 : -1;
    }
    if (fcntl(fd, F_GETLK, &fl) < 0) {
        errf(err, errlen, path, "lock test");
        close(fd);
        return -1;
    }
    close(fd);
    if (fl.l_type == F_UNLCK) {
        snprintf(err, errlen, "pidfile %s: no process holds its lock (stale)", path);
        return 0;
    }
    if (fl.l_pid <= 0) { /* held from another pid namespace: we cannot name it */
        snprintf(err, errlen, "pidfile %s: locked by a process we cannot see", path);
        return -1;
    }
    snprintf(err, errlen, "pidfile %s: locked by pid %ld", path, (long)fl.l_pid);
    return (long)fl.l_pid;
}

void sh_pidfile_release(const char *path, int fd)
{
    if (fd < 0)
        return;
    unlink(path);
    close(fd);
}
