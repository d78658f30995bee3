/* daemon.c - signal set, detach with a readiness pipe, systemd notification. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"
#include "msg.h"
#include "xalloc.h"

static int ready_fd = -1; /* the child's end of the readiness pipe while detaching */

void sh_daemon_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void sh_daemon_detach(void)
{
    int p[2], status;
    char byte;
    ssize_t n;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0)
        msg_fatal("detach: pipe: %m");
    if ((pid = fork()) < 0)
        msg_fatal("detach: fork: %m");
    if (pid > 0) { /* the parent: the child's verdict is our exit status */
        close(p[1]);
        do
            n = read(p[0], &byte, 1);
        while (n < 0 && errno == EINTR);
        if (n == 1)
            _exit(0);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(status))
            _exit(WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
        _exit(1); /* the child was killed before it was ready */
    }
    close(p[0]);
    ready_fd = p[1];
    if (setsid() < 0)
        msg_fatal("detach: setsid: %m");
}

void sh_daemon_ready(void)
{
    int fd;

    if (ready_fd < 0)
        return;
    if (chdir("/") < 0)
        msg_fatal("chdir /: %m");
    if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
        msg_fatal("/dev/null: %m");
    if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
        msg_fatal("dup2 /dev/null: %m");
    close(fd);
    if (write(ready_fd, "R", 1) != 1)
        msg_warn("detach: cannot release the starting process: %m");
    close(ready_fd);
    ready_fd = -1;
}

char *sh_daemon_abspath(const char *path)
{
    char cwd[PATH_MAX], *out;

    if (path == NULL || path[0] == '/')
        return path ? xstrdup(path) : NULL;
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        msg_fatal("getcwd: %m");
    out = xmalloc(strlen(cwd) + strlen(path) + 2);
    sprintf(out, "%s/%s", cwd, path);
    return out;
}

static void notify(const char *state)
{
    int rc = sd_notify(0, state);

    if (rc < 0)
        msg_warn("sd_notify %s: %s", state, strerror(-rc));
}

void sh_notify_ready(void)
{
    notify("READY=1");
}

void sh_notify_reloading(void)
{
    notify("RELOADING=1");
}

void sh_notify_stopping(void)
{
    notify("STOPPING=1");
}
