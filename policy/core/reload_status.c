/* reload_status.c - the daemon's load verdict file, see reload_status.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "reload_status.h"

#define STATUS_MAX 1400

static void status_path(const char *pidfile, char *out, size_t cap)
{
    snprintf(out, cap, "%s.status", pidfile);
}

int sh_reload_status_open(const char *pidfile)
{
    char path[PATH_MAX + 8];

    struct stat st;
    int fd;

    status_path(pidfile, path, sizeof(path));
    /* O_NONBLOCK: a FIFO planted here fails (ENXIO) instead of stalling the start */
    fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    /* 0644 whatever the umask: smarthostctl reads the verdict, as any user */
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
                    ((st.st_mode & 07777) != 0644 && fchmod(fd, 0644) < 0))) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

void sh_reload_status_write(int fd, unsigned long generation, bool ok, const char *error)
{
    char buf[STATUS_MAX], line[1024];
    int n;

    if (!ok) /* every load's verdict passes here: status shows the last refusal */
        sh_metrics_load_failed(error);
    if (fd < 0)
        return;
    /* one line: the loader's text never holds a secret, but may hold a newline */
    snprintf(line, sizeof(line), "%s", ok || error == NULL ? "" : error);
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    n = snprintf(buf, sizeof(buf), "pid=%ld\ngeneration=%lu\nresult=%s\nerror=%s\nend\n",
                 (long)getpid(), generation, ok ? "ok" : "failed", line);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return;
    /* One write from offset 0, then cut: a reader sees "end" only on whole content. */
    if (pwrite(fd, buf, (size_t)n, 0) == n && ftruncate(fd, n) < 0) {
        /* a longer stale tail stays after "end": readers stop at "end" */
    }
}

bool sh_reload_status_read(const char *pidfile, struct sh_reload_status *st)
{
    char path[PATH_MAX + 8], buf[STATUS_MAX + 1];
    bool end = false;
    ssize_t n;
    int fd;

    memset(st, 0, sizeof(*st));
    status_path(pidfile, path, sizeof(path));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return false;
    n = read(fd, buf, STATUS_MAX);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "pid=", 4) == 0)
            st->pid = strtol(l + 4, NULL, 10);
        else if (strncmp(l, "generation=", 11) == 0)
            st->generation = strtoul(l + 11, NULL, 10);
        else if (strncmp(l, "result=", 7) == 0)
            st->ok = strcmp(l + 7, "ok") == 0;
        else if (strncmp(l, "error=", 6) == 0)
            snprintf(st->error, sizeof(st->error), "%s", l + 6);
        else if (strcmp(l, "end") == 0)
            end = true;
    }
    return end && st->pid > 0 && st->generation > 0;
}

void sh_reload_status_unlink(const char *pidfile)
{
    char path[PATH_MAX + 8];

    status_path(pidfile, path, sizeof(path));
    unlink(path);
}
