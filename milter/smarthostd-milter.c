/* smarthostd-milter - header privacy/hygiene and per-relay sender rewrite for Postfix.
 *
 *   smarthostd-milter [-c FILE] [-f] [-v] [-u USER] [--pidfile FILE] -p SOCKET
 *   smarthostd-milter [-c FILE] -n
 *
 * Options, configuration lifecycle, signals, pidfile and privileges are the shared
 * daemon skeleton's (core/lifecycle.c); this file supplies libmilter as the service.
 * Signals: libmilter's own signal thread sigwaits for SIGHUP, SIGTERM and SIGINT and
 * stops the filter on any of them, so smfi_main() runs in a second thread with every
 * signal blocked, started only once the main thread takes the signals with handlers
 * it never blocks (core/lifecycle.c): the kernel then gives them to the main thread,
 * where SIGHUP reloads (a bad file keeps the old snapshot) and SIGTERM and SIGINT
 * stop, and libmilter's thread waits for nothing. If smfi_main() returns unasked the
 * daemon exits 1, so the unit's Restart=on-failure brings it back. The control socket (--control)
 * is served by a util/server.c instance with that one listener and one worker thread, apart from
 * libmilter's threads.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "daemon.h"
#include "endpoint.h"
#include "lifecycle.h"
#include "metrics.h"
#include "milter_conf.h"
#include "mlfi.h"
#include "msg.h"
#include "server.h"
#include "snapshot.h"

static const char *socket_spec; /* -p, in libmilter notation */
static char *socket_path;       /* unix:PATH / local:PATH: PATH made absolute */

static bool option(int ch, const char *arg)
{
    if (ch == CONTROL_OPT_CONTROL || ch == CONTROL_OPT_GROUP)
        return control_option(ch, arg);
    if (ch != 'p')
        return false;
    socket_spec = arg;
    if (strncmp(arg, "unix:", 5) == 0 || strncmp(arg, "local:", 6) == 0) {
        socket_path = sh_daemon_abspath(strchr(arg, ':') + 1);
        return socket_path[strlen(socket_path) - 1] != '/';
    }
    if (strncmp(arg, "inet:", 5) == 0 || strncmp(arg, "inet6:", 6) == 0)
        return true;
    fprintf(stderr, "smarthostd-milter: -p %s: write unix:PATH or inet:PORT@HOST\n", arg);
    return false;
}

static bool args_ok(void)
{
    return socket_spec != NULL;
}

static void check(const struct sh_snapshot *s)
{
    if (s->milter == NULL)
        fprintf(stderr, "warning: no milter group: messages would pass unchanged\n");
}

static void loaded(const struct sh_snapshot *s, bool first)
{
    if (s->milter == NULL)
        msg_warn("%s: no milter group: messages pass unchanged", s->path);
    msg_info("%s %s: %zu header rule(s)", first ? "loaded" : "reloaded", s->path,
             s->milter ? s->milter->nrules : 0);
}

/* stop() has asked libmilter to stop; smfi_main() has returned (nothing left to ask). */
static atomic_bool stop_asked, milter_done;

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
    sh_daemon_wait_serving(); /* libmilter's signal thread starts here */
    rc = smfi_main();
    if (rc != MI_SUCCESS)
        msg_warn("smfi_main failed");
    else if (!atomic_load(&stop_asked))
        msg_warn("libmilter stopped unasked (its signal thread took a signal)");
    atomic_store(&milter_done, true);
    /* the main thread owns shutdown: unasked, this is a failure (exit 1) */
    sh_daemon_service_ended();
    return NULL;
}

/* libmilter binds the socket itself: let it bind at the private temporary name. */
static bool open_milter_socket(const char *tmp, void *ctx, char *err, size_t errlen)
{
    char spec[PATH_MAX + 8];

    (void)ctx;
    snprintf(spec, sizeof(spec), "unix:%s", tmp);
    if (smfi_setconn(spec) != MI_SUCCESS || smfi_opensocket(true) != MI_SUCCESS) {
        snprintf(err, errlen, "cannot listen on %s", socket_spec);
        return false;
    }
    return true;
}

/* The control socket's own small server: one worker, a few connections. */
static struct sh_server *control_srv;

static void *pin_snapshot(void)
{
    return sh_snapshot_acquire();
}

static void unpin_snapshot(void *s)
{
    sh_snapshot_release(s);
}

static void status_lines(FILE *out, const struct sh_snapshot *s)
{
    (void)s;
    fprintf(out, "milter_socket: %s\n", socket_spec);
}

static const struct control_ext milter_control = {.status = status_lines};

static void listen_control(void)
{
    struct sh_server_opts so = {.threads = 1,
                                .max_conns = 16,
                                .request_timeout = SH_SERVER_DEFAULT_REQUEST,
                                .wake_begin = pin_snapshot,
                                .wake_end = unpin_snapshot};
    char err[512];

    control_init("smarthostd-milter", "smarthostd_milter_", sh_daemon_config(), &milter_control);
    sh_mlfi_metrics_init();
    if (!control_wanted())
        return;
    if ((control_srv = sh_server_new(&so)) == NULL)
        msg_fatal("out of memory");
    control_set_server(control_srv);
    if (!control_listen(control_srv, err, sizeof(err)))
        msg_fatal("%s", err);
}

static void listen_milter(void)
{
    struct sh_endpoint ep;
    char host[256], err[600], spec[sizeof(ep.text)];

    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = 0;
        sh_mlfi_set_hostname(host);
    }
    if (smfi_register(sh_mlfi_desc) != MI_SUCCESS)
        msg_fatal("smfi_register failed");
    listen_control();
    if (socket_path == NULL) { /* inet */
        if (smfi_setconn((char *)socket_spec) != MI_SUCCESS ||
            smfi_opensocket(true) != MI_SUCCESS) {
            control_close();
            msg_fatal("cannot listen on %s", socket_spec);
        }
        listener_nodelay();
        return;
    }
    /* Postfix (group postfix, from the setgid socket directory) connects: rw for owner
     * and group, nothing for others, set before the socket appears at its path. */
    snprintf(spec, sizeof(spec), "unix:%s", socket_path);
    if (!sh_endpoint_parse(spec, &ep, err, sizeof(err)) ||
        !sh_unix_socket_remove_stale(&ep, err, sizeof(err)) ||
        !sh_unix_socket_place(socket_path, SH_UNIX_SOCKET_MODE, (gid_t)-1, open_milter_socket, NULL,
                              err, sizeof(err))) {
        control_close();
        msg_fatal("%s", err);
    }
}

static pthread_t milter_tid;

static void start(void)
{
    if (control_srv && !sh_server_start(control_srv))
        msg_fatal("cannot start the control thread");
    if ((errno = pthread_create(&milter_tid, NULL, milter_thread, NULL)) != 0)
        msg_fatal("pthread_create: %s", strerror(errno));
    msg_info("listening on %s", socket_spec);
    if (control_srv)
        msg_info("listening on %s (control)", control_endpoint());
}

/* smfi_stop() waits for a lock libmilter's listener holds through its poll (about 5 s):
 * ask from a helper thread and wait for smfi_main() at most STOP_GRACE seconds, so a
 * stop is prompt (a session cut short gets Postfix's milter_default_action). */
#define STOP_GRACE 1

static void *stopper(void *arg)
{
    (void)arg;
    smfi_stop();
    return NULL;
}

static void stop(void)
{
    struct timespec until;
    pthread_t tid;

    atomic_store(&stop_asked, true);
    if (!atomic_load(&milter_done)) { /* else libmilter has stopped and cleaned up */
        if ((errno = pthread_create(&tid, NULL, stopper, NULL)) == 0)
            pthread_detach(tid);
        else
            msg_warn("pthread_create: %m");
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STOP_GRACE;
    if (pthread_timedjoin_np(milter_tid, NULL, &until) != 0)
        msg_info("libmilter still winding down after %d s: leaving without it", STOP_GRACE);
    if (socket_path != NULL)
        unlink(socket_path);
    if (control_srv)
        sh_server_free(control_srv);
    control_close();
}

static const struct option longopts[] = {CONTROL_LONGOPTS, {NULL, 0, NULL, 0}};

static const struct sh_service service = {
    .name = "smarthostd-milter",
    .synopsis = "-p SOCKET " CONTROL_SYNOPSIS,
    .help = "  -p SOCKET       libmilter socket: unix:PATH (mode 0660) or "
            "inet:PORT@HOST\n" CONTROL_HELP,
    .shortopts = "p:",
    .longopts = longopts,
    .option = option,
    .args_ok = args_ok,
    .check = check,
    .loaded = loaded,
    .listen = listen_milter,
    .start = start,
    .stop = stop,
    .summary = sh_metrics_summary,
};

int main(int argc, char **argv)
{
    return sh_daemon_main(argc, argv, &service);
}
