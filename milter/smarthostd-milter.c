/* smarthostd-milter - header privacy/hygiene and per-relay sender rewrite for Postfix.
 *
 *   smarthostd-milter -c FILE [-f] [-v] -p SOCKET     (unix:PATH, inet:PORT@HOST)
 *   smarthostd-milter -c FILE -n                      check the configuration
 *
 * Signals: libmilter's own signal thread stops the filter on SIGHUP, so
 * smfi_main() runs in a second thread with every signal blocked and the main
 * thread (the one the kernel prefers for process signals) waits for them:
 * SIGHUP reloads (a bad file keeps the old snapshot), SIGTERM/SIGINT stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "milter_conf.h"
#include "mlfi.h"
#include "msg.h"
#include "privs.h"
#include "reload_status.h"
#include "snapshot.h"

struct opts {
    const char *config;
    const char *socket;
    const char *user; /* -u: NULL = see sh_privs_drop() */
    const char *pidfile;
    bool foreground, check;
    int verbose;
};

static _Noreturn void usage(const char *prog, int code)
{
    fprintf(code ? stderr : stdout,
            "usage: %s [-c FILE] [-f] [-v] [-u USER] [--pidfile FILE] -p SOCKET\n"
            "       %s [-c FILE] -n\n"
            "  -c FILE    configuration (default " SH_DEFAULT_CONFIG ")\n"
            "  -p SOCKET  libmilter socket: unix:PATH or inet:PORT@HOST\n"
            "  -f         stay in the foreground, log to stderr\n"
            "  -n         check the configuration and exit\n"
            "  -u USER    as root: run as USER once bound (the units say -u " SH_DEFAULT_USER ")\n"
            "  -v         more logging\n"
            "  --pidfile FILE  write the pid there, and each load's verdict to FILE.status\n"
            "             (smarthostctl waits for it after a change)\n",
            prog, prog);
    exit(code);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {{"pidfile", required_argument, NULL, 'P'},
                                              {NULL, 0, NULL, 0}};
    int ch;

    o->config = SH_DEFAULT_CONFIG;
    while ((ch = getopt_long(argc, argv, "c:p:u:fnvh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'P': o->pidfile = optarg; break;
        case 'c': o->config = optarg; break;
        case 'p': o->socket = optarg; break;
        case 'u': o->user = optarg; break;
        case 'f': o->foreground = true; break;
        case 'n': o->check = true; break;
        case 'v': o->verbose++; break;
        case 'h': usage(argv[0], 0);
        default: usage(argv[0], 2);
        }
    }
    if (optind != argc || (!o->check && o->socket == NULL))
        usage(argv[0], 2);
    if (o->socket && strncmp(o->socket, "unix:", 5) != 0 && strncmp(o->socket, "local:", 6) != 0 &&
        strncmp(o->socket, "inet:", 5) != 0 && strncmp(o->socket, "inet6:", 6) != 0) {
        fprintf(stderr, "%s: -p %s: write unix:PATH or inet:PORT@HOST\n", argv[0], o->socket);
        exit(2);
    }
}

static void log_loaded(const struct sh_snapshot *s, const char *what)
{
    for (size_t i = 0; i < s->nwarnings; i++)
        msg_warn("%s", s->warnings[i]);
    if (s->milter == NULL)
        msg_warn("%s: no milter group: messages pass unchanged", s->path);
    msg_info("%s %s: %zu header rule(s)", what, s->path, s->milter ? s->milter->nrules : 0);
}

static int check_config(const char *path)
{
    struct sh_error err;
    struct sh_snapshot *s = sh_config_load(path, &err);

    if (s == NULL) {
        fprintf(stderr, "%s\n", err.text);
        return 1;
    }
    for (size_t i = 0; i < s->nwarnings; i++)
        fprintf(stderr, "warning: %s\n", s->warnings[i]);
    if (s->milter == NULL)
        fprintf(stderr, "warning: no milter group: messages would pass unchanged\n");
    sh_snapshot_free(s);
    printf("configuration OK\n");
    return 0;
}

/* With --pidfile, every load's verdict goes to PIDFILE.status for smarthostctl. */
static int status_fd = -1;
static unsigned long generation;

static void reload(const char *path)
{
    struct sh_error err;
    struct sh_snapshot *s = sh_config_load(path, &err);

    sh_reload_status_write(status_fd, ++generation, s != NULL, err.text);
    if (s == NULL) {
        msg_warn("reload failed, keeping the previous configuration: %s", err.text);
        return;
    }
    sh_snapshot_publish(s);
    log_loaded(s, "reloaded");
}

static pthread_t main_thread;

/* libmilter never sets TCP_NODELAY, and its end-of-message answer is several
 * small writes (one per header edit, then the verdict): Nagle holds each
 * behind the MTA's delayed ACK, about 40 ms per message (measured with
 * test/bench/milter_load). Accepted sockets inherit the option from the
 * listener, which libmilter keeps to itself: find it among our descriptors. */
static void listener_nodelay(void)
{
    for (int fd = 0; fd < 1024; fd++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss), len = sizeof(int);
        int acc = 0, on = 1;

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc ||
            getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
            (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
            msg_warn("TCP_NODELAY on the milter socket: %s", strerror(errno));
    }
}

static void *milter_thread(void *arg)
{
    int rc;

    (void)arg;
    rc = smfi_main();
    if (rc != MI_SUCCESS)
        msg_warn("smfi_main failed");
    /* wake the main thread, which owns shutdown */
    pthread_kill(main_thread, SIGTERM);
    return NULL;
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    struct sh_error err;
    struct sh_snapshot *s;
    sigset_t set;
    pthread_t tid;
    char host[256];
    int sig, pid_fd = -1;

    parse_args(argc, argv, &o);
    if (o.check)
        return check_config(o.config);
    sh_privs_no_core_dumps(); /* the snapshot holds relay passwords */
    msg_open("smarthostd-milter", o.foreground);
    msg_set_verbose(o.verbose);
    if ((s = sh_config_load(o.config, &err)) == NULL)
        msg_fatal("%s", err.text);
    sh_snapshot_publish(s);
    log_loaded(s, "loaded");
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = 0;
        sh_mlfi_set_hostname(host);
    }

    if (smfi_register(sh_mlfi_desc) != MI_SUCCESS)
        msg_fatal("smfi_register failed");
    if (smfi_setconn((char *)o.socket) != MI_SUCCESS)
        msg_fatal("smfi_setconn %s failed", o.socket);
    /* Postfix (group postfix) connects to a unix socket: group rw, no others. */
    umask(007);
    if (smfi_opensocket(true) != MI_SUCCESS)
        msg_fatal("cannot listen on %s", o.socket);
    listener_nodelay();
    /* Opened while privileged (the run directory may be root's), written below. */
    if (o.pidfile) {
        if ((pid_fd = open(o.pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
            msg_fatal("pidfile %s: %m", o.pidfile);
        if ((status_fd = sh_reload_status_open(o.pidfile)) < 0)
            msg_warn("%s.status: %m; smarthostctl cannot confirm reloads", o.pidfile);
    }
    sh_privs_drop(o.user, NULL); /* bound and secrets read: give up root before serving */
    if (!o.foreground && daemon(0, 0) < 0)
        msg_fatal("daemon: %s", strerror(errno));
    if (pid_fd >= 0) { /* after daemon(): the pid that serves */
        if (dprintf(pid_fd, "%ld\n", (long)getpid()) < 0 || close(pid_fd) < 0)
            msg_fatal("pidfile %s: %m", o.pidfile);
        sh_reload_status_write(status_fd, ++generation, true, NULL);
    }

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread */
    main_thread = pthread_self();
    if ((errno = pthread_create(&tid, NULL, milter_thread, NULL)) != 0)
        msg_fatal("pthread_create: %s", strerror(errno));
    msg_info("listening on %s", o.socket);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(o.config);
            continue;
        }
        if (sig == SIGPIPE)
            continue;
        break;
    }
    msg_info("stopping");
    smfi_stop();
    pthread_join(tid, NULL);
    if (o.pidfile) {
        unlink(o.pidfile);
        sh_reload_status_unlink(o.pidfile);
    }
    return 0;
}
