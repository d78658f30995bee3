/* regfile.c - open an administrator-named regular file without blocking or following links. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "regfile.h"

static const char *kind(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a plain file";
}

int sh_regfile_open(const char *path, int flags, struct stat *st, char *err, size_t errlen)
{
    struct stat sb, lsb;
    int fd;

    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
                             (flags & SH_REGFILE_FOLLOW ? 0 : O_NOFOLLOW))) < 0) {
        /* O_NOFOLLOW fails with ELOOP on a link in the last component: say so plainly */
        if (errno == ELOOP && lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode))
            snprintf(err, errlen, "%s: is a symbolic link (refused: name the file itself)", path);
        else
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) < 0) {
        snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: is %s, not a regular file", path, kind(sb.st_mode));
        close(fd);
        return -1;
    }
    if (st != NULL)
        *st = sb;
    return fd;
}
