/* atomicfile.c - replace a file whole, keeping its owner, group and mode. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"

bool sh_fsync_dir(const char *path)
{
    char dir[PATH_MAX];
    int fd, saved;
    bool ok;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        errno = ENAMETOOLONG;
        return false;
    }
    if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return false;
    ok = fsync(fd) == 0;
    saved = errno;
    close(fd);
    errno = saved;
    return ok;
}

static bool fail(char *err, const char *what, const char *path)
{
    snprintf(err, SH_ATOMIC_ERR_MAX, "%s %.400s: %s", what, path, strerror(errno));
    return false;
}

bool sh_file_write_temp(const char *tmp, const char *data, size_t len, const char *like,
                        mode_t mode, char *err)
{
    struct stat st;
    bool have = like && stat(like, &st) == 0;
    const char *p = data;
    size_t left = len;
    int fd;

    if (unlink(tmp) != 0 && errno != ENOENT) /* a leftover of a killed run */
        return fail(err, "remove", tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
        return fail(err, "create", tmp);
    /* Owner and group first, then the mode: a chown may clear set-id bits. */
    if (have && (fchown(fd, st.st_uid, st.st_gid) != 0 || fchmod(fd, st.st_mode & 07777) != 0))
        goto bad;
    if (!have && fchmod(fd, mode & 07777) != 0)
        goto bad;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto bad;
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0)
        goto bad;
    if (close(fd) != 0) {
        fd = -1;
        goto bad;
    }
    return true;
bad:
    fail(err, "write", tmp);
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return false;
}

bool sh_file_rename(const char *from, const char *to, char *err)
{
    if (rename(from, to) != 0)
        return fail(err, "rename to", to);
    if (!sh_fsync_dir(to))
        return fail(err, "fsync the directory of", to);
    return true;
}

bool sh_file_replace(const char *path, const char *data, size_t len, mode_t mode, char *err)
{
    char tmp[PATH_MAX];

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return fail(err, "write", path);
    }
    if (!sh_file_write_temp(tmp, data, len, path, mode, err))
        return false;
    if (!sh_file_rename(tmp, path, err)) {
        unlink(tmp);
        return false;
    }
    return true;
}
