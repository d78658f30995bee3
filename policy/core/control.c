/* control.c - the control socket both daemons share: its options, listener, peer check, verbs. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "control_codec.h"
#include "daemon.h"
#include "endpoint.h"
#include "metrics.h"
#include "msg.h"
#include "policy_conf.h"
#include "snapshot.h"

static const char *program = "smarthostd", *prefix = "smarthostd_", *config_path = "";
static const struct sh_server *server;
static time_t started;
static gid_t group = (gid_t)-1;
static const struct control_ext *ext;
static char *spec; /* --control, unix:ABSOLUTE-PATH */
static struct sh_endpoint ep;
static bool listening;

void control_init(const char *prog, const char *pfx, const char *config,
                  const struct control_ext *e)
{
    program = prog;
    prefix = pfx;
    config_path = config;
    ext = e;
    started = time(NULL);
    sh_metrics_init();
}

void control_set_server(const struct sh_server *srv)
{
    server = srv;
}

bool control_option(int ch, const char *arg)
{
    struct group *gr;

    if (ch == CONTROL_OPT_GROUP) {
        if ((gr = getgrnam(arg)) == NULL) {
            fprintf(stderr, "--control-group %s: no such group\n", arg);
            return false;
        }
        group = gr->gr_gid;
        return true;
    }
    if (ch != CONTROL_OPT_CONTROL)
        return false;
    if (strncmp(arg, "unix:", 5) != 0 || arg[5] == 0) {
        fprintf(stderr, "--control: only a unix:PATH socket, got \"%s\"\n", arg);
        return false;
    }
    /* relative to where we were started, before the daemon leaves it */
    char *abs = sh_daemon_abspath(arg + 5);
    free(spec);
    if ((spec = malloc(strlen(abs) + 6)) == NULL)
        msg_fatal("out of memory");
    sprintf(spec, "unix:%s", abs);
    free(abs);
    return true;
}

bool control_wanted(void)
{
    return spec != NULL;
}

bool control_listen(struct sh_server *srv, char *err, size_t errlen)
{
    if (!sh_endpoint_parse(spec, &ep, err, errlen))
        return false;
    ep.mode = group == (gid_t)-1 ? 0600 : 0660; /* root's alone, or root's and its group's */
    if (!sh_endpoint_listen(&ep, group, err, errlen))
        return false;
    if (!sh_server_add_listener(srv, ep.text, ep.fds, ep.nfds, &sh_control_proto)) {
        sh_endpoint_close(&ep);
        snprintf(err, errlen, "too many listening sockets");
        return false;
    }
    listening = true;
    return true;
}

const char *control_endpoint(void)
{
    return listening ? ep.text : "";
}

void control_close(void)
{
    if (listening)
        sh_endpoint_close(&ep); /* unlinks the socket we made */
    listening = false;
}

/* Root, or a member of the control group (primary or supplementary). */
static bool allowed(uid_t uid)
{
    struct passwd *pw;
    gid_t groups[64];
    int n = 64;

    if (uid == 0)
        return true;
    if (group == (gid_t)-1 || (pw = getpwuid(uid)) == NULL)
        return false;
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
        return false;
    for (int i = 0; i < n; i++)
        if (groups[i] == group)
            return true;
    return false;
}

static void stamp(char *buf, size_t cap, time_t t)
{
    struct tm tm;

    if (t == 0 || localtime_r(&t, &tm) == NULL)
        snprintf(buf, cap, "-");
    else
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

static void status(FILE *out, const struct sh_snapshot *s)
{
    struct sh_load_record lr;
    struct sh_listener_info li[16];
    char t1[40], t2[40];
    size_t n;

    sh_metrics_loads(&lr);
    stamp(t1, sizeof(t1), started);
    fprintf(out, "daemon: %s\npid: %ld\nstarted: %s\nuptime_seconds: %lld\n", program,
            (long)getpid(), t1, (long long)(time(NULL) - started));
    fprintf(out, "config: %s\n", config_path);
    for (size_t i = 0; s && i < s->nfiles; i++)
        fprintf(out, "config_file: %s\n", s->files[i]);
    stamp(t1, sizeof(t1), lr.last_ok);
    stamp(t2, sizeof(t2), lr.last_failed);
    fprintf(out, "loads: %lu\nlast_load: %s\nreload_failures: %lu\nlast_failure: %s\n", lr.loads,
            t1, lr.failures, t2);
    fprintf(out, "last_reload: %s\n", lr.last_was_ok ? "ok" : "failed");
    if (!lr.last_was_ok)
        fprintf(out, "last_reload_error: %s\n", lr.error);
    if (s) {
        fprintf(out, "relays: %zu\nsender_rules: %zu\ncredentials: %zu\nrecipient_rules: %zu\n",
                s->nrelays, s->nrules, s->ncreds, s->ntransports);
        if (s->policy)
            fprintf(out, "rate_limits: %zu\n", s->policy->nlimits);
    }
    n = server ? sh_server_listeners(server, li, sizeof(li) / sizeof(li[0])) : 0;
    for (size_t i = 0; i < n; i++)
        fprintf(out, "listener: %s connections=%u max=%u\n", li[i].name, li[i].conns, li[i].max);
    if (ext && ext->status)
        ext->status(out, s);
    fprintf(out, "counters: %s\n", sh_ctr_enabled() ? "on" : "off (built without)");
}

/* Peers' bad requests share one warning budget. */
static struct msg_rate bad_rate = MSG_RATE_INIT;

static bool send_reply(struct sh_conn *c, const char *st, const char *text, size_t len)
{
    char *buf = NULL;
    size_t blen = 0;
    FILE *fp = open_memstream(&buf, &blen);
    bool ok;

    if (fp == NULL)
        return false;
    ok = ctl_write_reply(fp, st, text, len);
    ok = fclose(fp) == 0 && ok && blen <= CTL_MAX_REPLY && sh_conn_send(c, buf, blen);
    free(buf);
    return ok;
}

static ssize_t on_input(struct sh_conn *c, const char *buf, size_t len, void *wake)
{
    const struct sh_snapshot *s = wake;
    struct ctl_request r;
    const char *why, *err = NULL;
    char *text = NULL, unknown[256];
    size_t used = 0, tlen = 0;
    uid_t uid;
    FILE *fp;
    bool ok;

    if (!sh_conn_peer_uid(c, &uid) || !allowed(uid)) {
        msg_warn_rate(&bad_rate, "control: %s: refused uid %ld", sh_conn_peer(c),
                      sh_conn_peer_uid(c, &uid) ? (long)uid : -1L);
        send_reply(c, "ERR permission denied", "", 0);
        return SH_INPUT_CLOSE;
    }
    switch (ctl_parse(buf, len, &r, &used, &why)) {
    case CTL_NEED_MORE:
        return SH_INPUT_NEED_MORE;
    case CTL_MALFORMED:
        msg_warn_rate(&bad_rate, "control: %s: %s; disconnecting", sh_conn_peer(c), why);
        send_reply(c, "ERR malformed request", "", 0);
        return SH_INPUT_CLOSE;
    case CTL_OK:
        break;
    }
    if ((fp = open_memstream(&text, &tlen)) == NULL)
        return SH_INPUT_CLOSE;
    if (strcmp(r.verb, "status") == 0 && r.nargs == 0)
        status(fp, s);
    else if (strcmp(r.verb, "stats") == 0 && r.nargs == 0)
        sh_metrics_table(fp, s);
    else if (strcmp(r.verb, "stats") == 0 && r.nargs == 1 && strcmp(r.args[0], "prometheus") == 0)
        sh_metrics_prometheus(fp, prefix, s);
    else if (!(ext && ext->verb && ext->verb(fp, &r, s, uid == 0, &err))) {
        snprintf(unknown, sizeof(unknown), "ERR unknown request (status, stats [prometheus]%s)",
                 ext && ext->usage ? ext->usage : "");
        err = unknown;
    }
    ok = fclose(fp) == 0;
    ok = ok && send_reply(c, err ? err : "OK", err ? "" : text, err ? 0 : tlen);
    free(text);
    return ok ? (ssize_t)used : SH_INPUT_CLOSE;
}

const struct sh_proto sh_control_proto = {
    .name = "control",
    .max_input = CTL_MAX_LINE + 2,
    .max_reply = CTL_MAX_REPLY,
    .idle_timeout = 30,
    .on_input = on_input,
};
