/* smarthostd.c - the socketmap and policy service: its listeners and workers.
 *
 * Options, configuration lifecycle, signals, pidfile and privileges are the shared
 * daemon skeleton's (core/lifecycle.c); this file supplies the service: bind the
 * socketmap and policy endpoints, serve them with worker threads on the current
 * snapshot, stop them.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "control.h"
#include "control_verbs.h"
#include "endpoint.h"
#include "hookup.h"
#include "lifecycle.h"
#include "metrics_http.h"
#include "metrics.h"
#include "msg.h"
#include "policy_server.h"
#include "server.h"
#include "snapshot.h"
#include "sockmap.h"

#define DEFAULT_GROUP "postfix"
#define MAX_ENDPOINTS 8

static struct {
    const char *endpoints[MAX_ENDPOINTS];
    size_t nendpoints;
    const char *policy[MAX_ENDPOINTS]; /* policy delegation listeners */
    size_t npolicy;
    const char *metrics[MAX_ENDPOINTS]; /* HTTP GET /metrics listeners */
    size_t nmetrics;
    const char *group;      /* NULL: "postfix" when that group exists */
    const char *sasl_users; /* --sasl-users; NULL: root and postfix */
    struct sh_server_opts server;
} o = {
    .server = {.threads = SH_SERVER_DEFAULT_THREADS,
               .max_conns = SH_SERVER_DEFAULT_MAX_CONNS,
               .request_timeout = SH_SERVER_DEFAULT_REQUEST},
};
static struct sh_server *server;

enum {
    OPT_SOCKETMAP = 256,
    OPT_THREADS,
    OPT_GROUP,
    OPT_MAXCONN,
    OPT_IDLE,
    OPT_POLICY,
    OPT_REQUEST,
    OPT_SASL_USERS,
    OPT_METRICS,
};

static const struct option longopts[] = {
    {"socketmap", required_argument, NULL, OPT_SOCKETMAP},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"socket-group", required_argument, NULL, OPT_GROUP},
    {"max-connections", required_argument, NULL, OPT_MAXCONN},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"request-timeout", required_argument, NULL, OPT_REQUEST},
    {"sasl-users", required_argument, NULL, OPT_SASL_USERS},
    {"metrics", required_argument, NULL, OPT_METRICS},
    CONTROL_LONGOPTS,
    {NULL, 0, NULL, 0},
};

static bool number(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "smarthostd: %s: expected a number from %u to %u, got \"%s\"\n", opt, lo,
                hi, s);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool add_endpoint(const char **list, size_t *n, const char *opt, const char *spec)
{
    if (*n == MAX_ENDPOINTS) {
        fprintf(stderr, "smarthostd: at most %d %s endpoints\n", MAX_ENDPOINTS, opt);
        return false;
    }
    /* unix:PATH relative to where we were started, before the daemon leaves it */
    if (strncmp(spec, "unix:", 5) == 0 && spec[5] != '/' && spec[5] != 0) {
        char *abs = sh_daemon_abspath(spec + 5), *full = malloc(strlen(abs) + 6);
        if (full == NULL)
            msg_fatal("out of memory");
        sprintf(full, "unix:%s", abs);
        free(abs);
        spec = full;
    }
    list[(*n)++] = spec;
    return true;
}

static bool option(int ch, const char *arg)
{
    switch (ch) {
    case OPT_SOCKETMAP:
        return add_endpoint(o.endpoints, &o.nendpoints, "--socketmap", arg);
    case OPT_POLICY:
        return add_endpoint(o.policy, &o.npolicy, "--policy", arg);
    case OPT_METRICS:
        return add_endpoint(o.metrics, &o.nmetrics, "--metrics", arg);
    case OPT_THREADS:
        return number("--threads", arg, 1, SH_SERVER_MAX_THREADS, &o.server.threads);
    case OPT_GROUP:
        o.group = arg;
        return true;
    case OPT_MAXCONN:
        return number("--max-connections", arg, 1, 1000000, &o.server.max_conns);
    case OPT_IDLE:
        return number("--idle-timeout", arg, 1, 86400, &o.server.idle_timeout);
    case OPT_REQUEST:
        return number("--request-timeout", arg, 1, 3600, &o.server.request_timeout);
    case OPT_SASL_USERS:
        o.sasl_users = arg;
        return true;
    case CONTROL_OPT_CONTROL:
    case CONTROL_OPT_GROUP:
        return control_option(ch, arg);
    default:
        return false;
    }
}

static bool args_ok(void)
{
    if (o.nendpoints == 0 && o.npolicy == 0)
        o.endpoints[o.nendpoints++] = SH_HOOKUP_SOCKETMAP;
    return true;
}

static void *pin_snapshot(void)
{
    return sh_snapshot_acquire();
}

static void unpin_snapshot(void *s)
{
    sh_snapshot_release(s);
}

/* Every listening endpoint, socketmap, policy and metrics, so a failure can undo them all. */
static struct sh_endpoint eps[3 * MAX_ENDPOINTS];
static const struct sh_proto *eps_proto[3 * MAX_ENDPOINTS];
static size_t neps;

static void close_all(void)
{
    for (size_t i = 0; i < neps; i++)
        sh_endpoint_close(&eps[i]); /* unlinks the unix sockets we made */
    control_close();
}

/* Bind SPEC and serve PROTO on it; on failure remove what was bound, then fatal. */
static void listen_on(struct sh_server *srv, const char *spec, gid_t gid, mode_t mode,
                      const struct sh_proto *proto)
{
    struct sh_endpoint *ep = &eps[neps];
    char ebuf[512];
    bool parsed = sh_endpoint_parse(spec, ep, ebuf, sizeof(ebuf));

    ep->mode = mode;
    if (!parsed || !sh_endpoint_listen(ep, gid, ebuf, sizeof(ebuf))) {
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

static void listen_all(void)
{
    gid_t gid = socket_group(o.group);
    char ebuf[512];

    control_init("smarthostd", "smarthostd_", sh_daemon_config(), &sh_smarthostd_control);
    sockmap_sasl_users(o.sasl_users);
    o.server.wake_begin = pin_snapshot;
    o.server.wake_end = unpin_snapshot;
    if ((server = sh_server_new(&o.server)) == NULL)
        msg_fatal("out of memory");
    for (size_t i = 0; i < o.nendpoints; i++)
        listen_on(server, o.endpoints[i], gid, 0, &sh_sockmap_proto);
    for (size_t i = 0; i < o.npolicy; i++)
        listen_on(server, o.policy[i], gid, 0, &sh_policy_proto);
    for (size_t i = 0; i < o.nmetrics; i++)
        listen_on(server, o.metrics[i], gid, 0, &sh_metrics_http_proto);
    control_set_server(server);
    if (control_wanted() && !control_listen(server, ebuf, sizeof(ebuf))) {
        close_all();
        msg_fatal("%s", ebuf);
    }
}

static void start(void)
{
    if (!sh_server_start(server)) {
        close_all();
        msg_fatal("cannot start worker threads");
    }
    for (size_t i = 0; i < neps; i++)
        msg_info("listening on %s (%s)", eps[i].text, eps_proto[i]->name);
    if (control_wanted())
        msg_info("listening on %s (control)", control_endpoint());
    msg_info("serving with %u threads", o.server.threads);
}

static void stop(void)
{
    sh_server_free(server);
    close_all();
}

static const struct sh_service service = {
    .name = "smarthostd",
    .synopsis = "[--socketmap ADDR]... [--policy ADDR]... [--metrics ADDR]...\n"
                "          [--threads N] [--socket-group GROUP] [--max-connections N]\n"
                "          [--idle-timeout SECONDS] [--request-timeout SECONDS]\n"
                "          [--sasl-users USER,...] " CONTROL_SYNOPSIS,
    .help = "  --socketmap ADDR  socketmap listener, unix:PATH or inet:HOST:PORT (repeatable;\n"
            "                  default " SH_HOOKUP_SOCKETMAP ")\n"
            "  --policy ADDR   policy delegation listener (repeatable; no default)\n"
            "  --metrics ADDR  HTTP listener answering GET /metrics with the counters in the\n"
            "                  Prometheus text format, e.g. inet:127.0.0.1:9125 (repeatable)\n"
            "  --socket-group GROUP  group of the unix sockets (mode 0660; default postfix)\n"
            "  --threads N     worker threads\n"
            "  --max-connections N  open connections per listening ADDR\n"
            "  --idle-timeout S     close a connection idle between requests after S seconds\n"
            "                  (default: socketmap and policy each their own; Postfix itself\n"
            "                  closes idle ones after 10 s and smtpd_policy_service_max_idle)\n"
            "  --request-timeout S  a request must be complete S seconds after its first byte\n"
            "  --sasl-users LIST    the only users that get passwords from the sasl map\n"
            "                  (default root,postfix); others get TEMP\n" CONTROL_HELP,
    .shortopts = "",
    .longopts = longopts,
    .option = option,
    .args_ok = args_ok,
    .listen = listen_all,
    .start = start,
    .stop = stop,
    .summary = sh_metrics_summary,
};

int main(int argc, char **argv)
{
    return sh_daemon_main(argc, argv, &service);
}
