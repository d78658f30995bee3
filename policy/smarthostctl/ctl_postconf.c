/* ctl_postconf.c - run postconf(1) without a shell, its output captured, its warnings quiet. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_postconf.h"

#define MAX_ARGS  64
#define MAX_ERROR 4096 /* postconf's stderr kept to show */

bool ctl_postconf_verbose;

struct sink {
    char *buf;
    size_t len, cap;
    bool overflow;
};

/* One read from FD into S; false at end of file or error. */
static bool drain(int fd, struct sink *s)
{
    char scratch[512];
    ssize_t r;

    do
        r = s->len < s->cap ? read(fd, s->buf + s->len, s->cap - s->len)
                            : read(fd, scratch, sizeof(scratch));
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return false;
    if (s->len < s->cap)
        s->len += (size_t)r;
    else
        s->overflow = true;
    return true;
}

static void show_errors(const struct sink *e)
{
    if (e->len == 0)
        return;
    fflush(stdout);
    fprintf(stderr, "%.*s%s", (int)e->len, e->buf, e->buf[e->len - 1] == '\n' ? "" : "\n");
}

int ctl_postconf(const char *dir, const char *const *args, char **out)
{
    const char *argv[MAX_ARGS + 4];
    char errbuf[MAX_ERROR];
    struct sink o = {.cap = CTL_POSTCONF_MAX_OUTPUT}, e = {.buf = errbuf, .cap = sizeof(errbuf)};
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, status;
    size_t n = 0;
    pid_t pid;

    argv[n++] = "postconf";
    argv[n++] = "-c";
    argv[n++] = dir;
    for (size_t i = 0; args[i]; i++) {
        if (n == MAX_ARGS + 3)
            return -1;
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    if ((o.buf = malloc(o.cap + 1)) == NULL)
        return -1;
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0)
                close(po[i]);
            if (pe[i] >= 0)
                close(pe[i]);
        }
        free(o.buf);
        return -1;
    }
    if (pid == 0) {
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run postconf: %s\n", strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    {
        struct pollfd p[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
        while (p[0].fd >= 0 || p[1].fd >= 0) {
            if (poll(p, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            for (int i = 0; i < 2; i++) {
                if (p[i].fd >= 0 && p[i].revents && !drain(p[i].fd, i ? &e : &o)) {
                    close(p[i].fd);
                    p[i].fd = -1; /* poll ignores a negative fd */
                }
            }
        }
        for (int i = 0; i < 2; i++)
            if (p[i].fd >= 0)
                close(p[i].fd);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            free(o.buf);
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || ctl_postconf_verbose)
        show_errors(&e);
    if (o.overflow || !WIFEXITED(status)) {
        free(o.buf);
        return -1;
    }
    o.buf[o.len] = 0;
    if (out)
        *out = o.buf;
    else
        free(o.buf);
    return WEXITSTATUS(status);
}
