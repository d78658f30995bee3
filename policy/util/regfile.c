/* regfile.c - open an administrator-named regular file without blocking or following links. */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

char *sh_regfile_read(const char *path, int flags, size_t max, size_t *len, char *err,
                      size_t errlen)
{
    struct stat st;
    size_t n = 0, cap;
    char *buf;
    int fd;

    if ((fd = sh_regfile_open(path, flags, &st, err, errlen)) < 0)
        return NULL;
    if ((uintmax_t)st.st_size > max) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
        close(fd);
        return NULL;
    }
    /* one byte more than the file holds: a read that fills it means the file grew */
    cap = (size_t)st.st_size + 2;
    if ((buf = malloc(cap)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        close(fd);
        return NULL;
    }
    for (;;) {
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
            break;
        }
        if (got == 0) {
            close(fd);
            buf[n] = 0;
            *len = n;
            return buf;
        }
        n += (size_t)got;
        if (n > max) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
            break;
        }
        if (n == cap - 1) { /* grown since fstat: keep reading, up to MAX */
            size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                snprintf(err, errlen, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap = ncap;
        }
    }
    close(fd);
    free(buf);
    return NULL;
}
