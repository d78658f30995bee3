/* smarthostd.c - the daemon: options, configuration lifecycle, signals.
 *
 * Workers serve lookups on the current snapshot; the main thread only waits
 * for signals (blocked everywhere, taken with sigwaitinfo) and reloads or stops.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "endpoint.h"
#include "msg.h"
#include "policy_server.h"
#include "privs.h"
#include "reload_status.h"
#include "server.h"
#include "snapshot.h"
#include "sockmap.h"

#define DEFAULT_SOCKETMAP "unix:/var/spool/postfix/private/smarthostd"
#define DEFAULT_GROUP     "postfix"
#define MAX_ENDPOINTS     8

struct options {
    const char *config;
    bool foreground, check;
    const char *endpoints[MAX_ENDPOINTS];
    size_t nendpoints;
    const char *policy[MAX_ENDPOINTS]; /* policy delegation listeners (issue 3) */
    size_t npolicy;
    const char *pidfile;
    const char *group; /* NULL: "postfix" when that group exists */
    const char *user;  /* -u: NULL = see sh_privs_drop() */
    const char *sasl_users; /* --sasl-users; NULL: root and postfix */
    struct sh_server_opts server;
};

static _Noreturn void usage(const char *prog, int code)
{
    fprintf(code ? stderr : stdout,
            "usage: %s [-c FILE] [-f] [-n] [-v] [-u USER] [--socketmap ADDR]... [--policy ADDR]...\n"
            "          [--threads N]\n"
            "          [--pidfile FILE] [--socket-group GROUP] [--max-connections N]\n"
            "          [--idle-timeout SECONDS] [--request-timeout SECONDS]\n"
            "          [--sasl-users USER,...]\n"
            "  -c FILE   configuration (default %s)\n"
            "  -f        foreground, log to stderr (default: syslog, facility mail)\n"
            "  -n        check the configuration and exit\n"
            "  -u USER   as root: run as USER once bound (the units say -u " SH_DEFAULT_USER ")\n"
            "  ADDR      unix:PATH or inet:HOST:PORT (socketmap default %s;\n"
            "            no default for --policy, the policy delegation service)\n"
            "  --max-connections N  open connections per listening ADDR (default %u)\n"
            "  --idle-timeout S     close a connection idle between requests after S seconds\n"
            "                       (default: socketmap %u, policy %u; Postfix itself closes\n"
            "                       idle ones after 10 s and smtpd_policy_service_max_idle)\n"
            "  --request-timeout S  a request must be complete S seconds after its first\n"
            "                       byte (default %u)\n"
            "  --sasl-users LIST    the only users that get passwords from the sasl map\n"
            "                       (default root,postfix); others get TEMP\n",
            prog, SH_DEFAULT_CONFIG, DEFAULT_SOCKETMAP, SH_SERVER_DEFAULT_MAX_CONNS,
            SH_SERVER_DEFAULT_IDLE, sh_policy_proto.idle_timeout, SH_SERVER_DEFAULT_REQUEST);
    exit(code);
}

static unsigned number(const char *opt, const char *s, unsigned lo, unsigned hi)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
        msg_fatal("%s: expected a number from %u to %u, got \"%s\"", opt, lo, hi, s);
    return (unsigned)v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    enum {
        OPT_SOCKETMAP = 256,
        OPT_THREADS,
        OPT_PIDFILE,
        OPT_GROUP,
        OPT_MAXCONN,
        OPT_IDLE,
        OPT_POLICY,
        OPT_REQUEST,
        OPT_SASL_USERS
    };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"foreground", no_argument, NULL, 'f'},
        {"check", no_argument, NULL, 'n'},
        {"verbose", no_argument, NULL, 'v'},
        {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {"socketmap", required_argument, NULL, OPT_SOCKETMAP},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"pidfile", required_argument, NULL, OPT_PIDFILE},
        {"socket-group", required_argument, NULL, OPT_GROUP},
        {"max-connections", required_argument, NULL, OPT_MAXCONN},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"request-timeout", required_argument, NULL, OPT_REQUEST},
        {"sasl-users", required_argument, NULL, OPT_SASL_USERS},
        {NULL, 0, NULL, 0},
    };
    int ch;

    o->config = SH_DEFAULT_CONFIG;
    o->server = (struct sh_server_opts){
        .threads = SH_SERVER_DEFAULT_THREADS,
        .max_conns = SH_SERVER_DEFAULT_MAX_CONNS,
        .request_timeout = SH_SERVER_DEFAULT_REQUEST,
    };
    while ((ch = getopt_long(argc, argv, "c:fnvu:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 'f':
            o->foreground = true;
            break;
        case 'n':
            o->check = true;
            break;
        case 'v':
            msg_set_verbose(msg_verbose + 1);
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'h':
            usage(argv[0], 0);
        case OPT_SOCKETMAP:
            if (o->nendpoints == MAX_ENDPOINTS)
                msg_fatal("at most %d --socketmap endpoints", MAX_ENDPOINTS);
            o->endpoints[o->nendpoints++] = optarg;
            break;
        case OPT_POLICY:
            if (o->npolicy == MAX_ENDPOINTS)
                msg_fatal("at most %d --policy endpoints", MAX_ENDPOINTS);
            o->policy[o->npolicy++] = optarg;
            break;
        case OPT_THREADS:
            o->server.threads = number("--threads", optarg, 1, SH_SERVER_MAX_THREADS);
            break;
        case OPT_PIDFILE:
            o->pidfile = optarg;
            break;
        case OPT_GROUP:
            o->group = optarg;
            break;
        case OPT_MAXCONN:
            o->server.max_conns = number("--max-connections", optarg, 1, 1000000);
            break;
        case OPT_IDLE:
            o->server.idle_timeout = number("--idle-timeout", optarg, 1, 86400);
            break;
        case OPT_REQUEST:
            o->server.request_timeout = number("--request-timeout", optarg, 1, 3600);
            break;
        case OPT_SASL_USERS:
            o->sasl_users = optarg;
            break;
        default:
            usage(argv[0], 2);
        }
    }
    if (optind != argc)
        usage(argv[0], 2);
    if (o->nendpoints == 0 && o->npolicy == 0)
        o->endpoints[o->nendpoints++] = DEFAULT_SOCKETMAP;
}

static void log_warnings(const struct sh_snapshot *s)
{
    for (size_t i = 0; i < s->nwarnings; i++)
        msg_warn("%s", s->warnings[i]);
}

/* -n: the verdict on stdout/stderr, whatever the logging mode. */
static _Noreturn void check_config(const char *path)
{
    struct sh_error err = {{0}};
    struct sh_snapshot *s = sh_config_load(path, &err);

    if (s == NULL) {
        fprintf(stderr, "%s\n", err.text);
        exit(1);
    }
    for (size_t i = 0; i < s->nwarnings; i++)
        fprintf(stderr, "warning: %s\n", s->warnings[i]);
    sh_snapshot_free(s);
    printf("configuration OK\n");
    exit(0);
}

/* With --pidfile, every load's verdict goes to PIDFILE.status for smarthostctl. */
static int status_fd = -1;
static unsigned long generation;

/* Build a complete new snapshot; only a good one replaces the current one. */
static void reload(const char *path)
{
    struct sh_error err = {{0}};
    struct sh_snapshot *s = sh_config_load(path, &err);

    sh_reload_status_write(status_fd, ++generation, s != NULL, err.text);
    if (s == NULL) {
        msg_warn("reload failed: %s; keeping previous configuration", err.text);
        return;
    }
    log_warnings(s);
    sh_snapshot_publish(s);
    msg_info("reloaded configuration %s", path);
}

static void *pin_snapshot(void)
{
    return sh_snapshot_acquire();
}

static void unpin_snapshot(void *s)
{
    sh_snapshot_release(s);
}

/* Every listening endpoint, socketmap and policy, so a failure can undo them all. */
static struct sh_endpoint eps[2 * MAX_ENDPOINTS];
static const struct sh_proto *eps_proto[2 * MAX_ENDPOINTS];
static size_t neps;

static void close_all(void)
{
    for (size_t i = 0; i < neps; i++)
        sh_endpoint_close(&eps[i]); /* unlinks the unix sockets we made */
}

/* Bind SPEC and serve PROTO on it; on failure remove what was bound, then fatal. */
static void listen_on(struct sh_server *srv, const char *spec, gid_t gid,
                      const struct sh_proto *proto)
{
    struct sh_endpoint *ep = &eps[neps];
    char ebuf[512];

    if (!sh_endpoint_parse(spec, ep, ebuf, sizeof(ebuf)) ||
        !sh_endpoint_listen(ep, gid, ebuf, sizeof(ebuf))) {
        close_all();
        msg_fatal("%s", ebuf);
    }
    eps_proto[neps++] = proto;
    if (!sh_server_add_listener(srv, ep->text, ep->fds, ep->nfds, proto)) {
        close_all();
        msg_fatal("too many listening sockets");
    }
}

static gid_t socket_group(const char *name)
{
    struct group *gr = getgrnam(name ? name : DEFAULT_GROUP);

    if (gr == NULL && name != NULL)
        msg_fatal("--socket-group %s: no such group", name);
    return gr ? gr->gr_gid : (gid_t)-1;
}

static void write_pidfile(const char *path)
{
    FILE *fp = fopen(path, "we");

    if (fp == NULL || fprintf(fp, "%ld\n", (long)getpid()) < 0 || fclose(fp) != 0) {
        close_all();
        msg_fatal("pidfile %s: %m", path);
    }
}

int main(int argc, char **argv)
{
    struct options o = {0};
    struct sh_error err = {{0}};
    struct sh_snapshot *s;
    struct sh_server *srv;
    sigset_t sigs;
    int sig;

    sh_privs_no_core_dumps(); /* the sasl map's passwords live in this process */
    /* Signals go to the main thread only, taken by sigwaitinfo(): block them
     * before anything else, so workers inherit the mask and a signal during
     * startup waits instead of killing us half-bound. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    parse_args(argc, argv, &o);
    if (o.check)
        check_config(o.config);
    msg_open("smarthostd", o.foreground);

    if ((s = sh_config_load(o.config, &err)) == NULL) {
        if (!o.foreground) /* the operator starting us sees it, not only syslog */
            fprintf(stderr, "smarthostd: fatal: %s\n", err.text);
        msg_fatal("%s", err.text);
    }
    log_warnings(s);
    sh_snapshot_publish(s);
    sockmap_sasl_users(o.sasl_users);

    o.server.wake_begin = pin_snapshot;
    o.server.wake_end = unpin_snapshot;
    if ((srv = sh_server_new(&o.server)) == NULL)
        msg_fatal("out of memory");
    gid_t gid = socket_group(o.group);
    for (size_t i = 0; i < o.nendpoints; i++)
        listen_on(srv, o.endpoints[i], gid, &sh_sockmap_proto);
    for (size_t i = 0; i < o.npolicy; i++)
        listen_on(srv, o.policy[i], gid, &sh_policy_proto);

    if (o.pidfile) {
        write_pidfile(o.pidfile);
        if ((status_fd = sh_reload_status_open(o.pidfile)) < 0)
            msg_warn("%s.status: %m; smarthostctl cannot confirm reloads", o.pidfile);
        sh_reload_status_write(status_fd, ++generation, true, NULL);
    }
    sh_privs_drop(o.user, NULL); /* bound and secrets read: give up root before serving */
    if (!sh_server_start(srv)) {
        close_all();
        msg_fatal("cannot start worker threads");
    }
    for (size_t i = 0; i < neps; i++)
        msg_info("listening on %s (%s)", eps[i].text, eps_proto[i]->name);
    msg_info("started with configuration %s, %u threads", o.config, o.server.threads);

    for (;;) {
        if ((sig = sigwaitinfo(&sigs, NULL)) < 0) {
            if (errno == EINTR)
                continue;
            msg_fatal("sigwaitinfo: %m");
        }
        if (sig == SIGHUP)
            reload(o.config);
        else
            break;
    }
    msg_info("stopping on signal %d", sig);
    sh_server_free(srv);
    close_all();
    if (o.pidfile) {
        unlink(o.pidfile);
        sh_reload_status_unlink(o.pidfile);
    }
    return 0;
}
