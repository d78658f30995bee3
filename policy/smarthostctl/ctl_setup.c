/* ctl_setup.c - `smarthostctl postfix-setup --dry-run | --apply | --undo`.
 *
 * Applies the lines `postfix-conf` prints (ctl_postfix.c's tables), plus the
 * policy service and the milter, to a Postfix config directory through
 * postconf(1) only. Before changing anything it records every previous value
 * (or "unset") in a state file, so --undo puts main.cf and master.cf back.
 * --apply refuses when the daemons' sockets do not answer: Postfix would
 * otherwise defer or tempfail every message.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "endpoint.h"
#include "netstring.h"
#include "ctl_postfix.h"

#define SOCK_DIR          CTL_PF_QUEUE_DIRECTORY "/smarthostd"
#define DEFAULT_SOCKETMAP "unix:" SOCK_DIR "/socketmap"
#define DEFAULT_POLICY    "unix:" SOCK_DIR "/policy"
#define DEFAULT_MILTER    "unix:" SOCK_DIR "/milter"
#define DEFAULT_STATE     "/var/lib/smarthostd/postfix-setup.state"

#define MAX_PARAMS  24
#define MAX_VALUE   8192       /* one main.cf value we save or set */
#define MAX_OUTPUT  (64 * 1024) /* postconf output we read */
#define MAX_STATE   (256 * 1024)
#define PROBE_MS    5000
#define STATE_MAGIC "# smarthostctl postfix-setup state v1"

struct param {
    const char *name;
    char *old; /* NULL: not set in main.cf */
    char *new;
};

struct setup {
    const char *dir, *state, *socketmap, *policy, *milter;
    char queue[1024];
    char service[160]; /* master.cf "NAME/unix" */
    char *master_old;  /* NULL: no such entry */
    char master_new[512];
    struct param p[MAX_PARAMS];
    size_t np;
};

/* ---- postconf(1) ------------------------------------------------------------ */

/* Run postconf -c DIR ARGS...; its stdout (up to MAX_OUTPUT) into *OUT when OUT
 * is not NULL. Returns its exit status, -1 when it could not run. */
static int postconf(const char *dir, const char *const *args, char **out)
{
    const char *argv[MAX_PARAMS * 2 + 8];
    size_t n = 0, len = 0;
    int pfd[2], status;
    char *buf = NULL;
    pid_t pid;

    argv[n++] = "postconf";
    argv[n++] = "-c";
    argv[n++] = dir;
    for (size_t i = 0; args[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (out && (buf = malloc(MAX_OUTPUT + 1)) == NULL)
        return -1;
    if (pipe2(pfd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
        free(buf);
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        char sink[512];
        ssize_t r = buf && len < MAX_OUTPUT ? read(pfd[0], buf + len, MAX_OUTPUT - len)
                                            : read(pfd[0], sink, sizeof(sink));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (buf && len < MAX_OUTPUT)
            len += (size_t)r;
        else if (buf)
            len = MAX_OUTPUT + 1; /* truncated: not to be trusted */
    }
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (buf) {
        if (len > MAX_OUTPUT) {
            free(buf);
            return -1;
        }
        buf[len] = 0;
        *out = buf;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);

    if (d == NULL) {
        fprintf(stderr, "smarthostctl: out of memory\n");
        exit(CTL_FAIL);
    }
    return d;
}

/* The effective value of NAME (default included), trailing newline removed. */
static char *effective(const struct setup *s, const char *name)
{
    const char *args[] = {"-h", name, NULL};
    char *out = NULL;

    if (postconf(s->dir, args, &out) != 0) {
        free(out);
        return NULL;
    }
    out[strcspn(out, "\n")] = 0;
    return out;
}

/* The values main.cf sets explicitly (postconf -n NAME...), into s->p[].old. */
static bool read_explicit(struct setup *s)
{
    const char *args[MAX_PARAMS + 2] = {"-n"};
    char *out = NULL, *line, *save;

    for (size_t i = 0; i < s->np; i++)
        args[i + 1] = s->p[i].name;
    if (postconf(s->dir, args, &out) != 0) {
        free(out);
        return false;
    }
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        for (size_t i = 0; i < s->np; i++) {
            size_t n = strlen(s->p[i].name);
            if (strncmp(line, s->p[i].name, n) == 0 && strncmp(line + n, " =", 2) == 0)
                s->p[i].old = xstrdup(line[n + 2] == ' ' ? line + n + 3 : line + n + 2);
        }
    }
    free(out);
    return true;
}

/* ---- what to set -------------------------------------------------------------- */

static void add(struct setup *s, const char *name, const char *value)
{
    if (s->np == MAX_PARAMS) {
        fprintf(stderr, "smarthostctl: too many parameters (a bug)\n");
        exit(CTL_FAIL);
    }
    s->p[s->np++] = (struct param){.name = name, .new = xstrdup(value)};
}

/* NAME = ITEM first, then what is there now (its default included): the policy
 * check must come before any permit_* (README "Policy service"), and our milter
 * before a signing milter so the signature covers the cleaned headers. */
static bool add_first(struct setup *s, const char *name, const char *item)
{
    char *cur = effective(s, name), *v;
    size_t n;

    if (cur == NULL)
        return false;
    n = strlen(item) + strlen(cur) + 3;
    if ((v = malloc(n)) == NULL)
        return false;
    if (strstr(cur, item) != NULL)
        snprintf(v, n, "%s", cur); /* already there: keep it as it is */
    else
        snprintf(v, n, "%s%s%s", item, *cur ? ", " : "", cur);
    add(s, name, v);
    free(v);
    free(cur);
    return true;
}

/* libmilter's local:PATH and inet:PORT@HOST in Postfix notation (unix:PATH,
 * inet:HOST:PORT); anything else as it is. */
static const char *postfix_notation(const char *spec, char *buf, size_t cap)
{
    const char *at;

    if (strncmp(spec, "local:", 6) == 0)
        snprintf(buf, cap, "unix:%s", spec + 6);
    else if (strncmp(spec, "inet:", 5) == 0 && (at = strchr(spec, '@')) != NULL)
        snprintf(buf, cap, "inet:%s:%.*s", at + 1, (int)(at - spec - 5), spec + 5);
    else
        snprintf(buf, cap, "%s", spec);
    return buf;
}

/* The milter's socket as main.cf names it: Postfix notation, relative to the
 * queue directory when it lies inside. */
static const char *milter_addr(const char *spec, const char *queue, char *buf, size_t cap)
{
    char tmp[600];

    postfix_notation(spec, tmp, sizeof(tmp));
    return ctl_pf_relative(tmp, queue, buf, cap) == buf ? buf : strcpy(buf, tmp);
}

static bool plan(struct setup *s, const char *config_path)
{
    char *q = effective(s, "queue_directory"), rel[600], item[700], value[700], tr[128];
    const char *map;

    if (q == NULL) {
        fprintf(stderr, "smarthostctl: postconf -c %s failed (is there a main.cf?)\n", s->dir);
        return false;
    }
    snprintf(s->queue, sizeof(s->queue), "%s", q);
    free(q);
    map = ctl_pf_relative(s->socketmap, s->queue, rel, sizeof(rel));
    for (size_t i = 0; i < ctl_pf_nmain; i++)
        add(s, ctl_pf_main[i].name, ctl_pf_value(&ctl_pf_main[i], map, value, sizeof(value)));
    if (s->policy) {
        snprintf(item, sizeof(item), "check_policy_service %s",
                 ctl_pf_relative(s->policy, s->queue, rel, sizeof(rel)));
        if (!add_first(s, "smtpd_recipient_restrictions", item) ||
            !add_first(s, "smtpd_end_of_data_restrictions", item))
            return false;
    }
    if (s->milter) {
        milter_addr(s->milter, s->queue, item, sizeof(item));
        if (!add_first(s, "smtpd_milters", item) || !add_first(s, "non_smtpd_milters", item))
            return false;
        add(s, "milter_default_action", "tempfail");
    }
    if (!read_explicit(s))
        return false;

    ctl_pf_transport(config_path, tr, sizeof(tr));
    snprintf(s->service, sizeof(s->service), "%s/unix", tr);
    int n = snprintf(s->master_new, sizeof(s->master_new), "%s = %s " CTL_PF_SMTPS_FIELDS,
                     s->service, tr);
    for (size_t i = 0; ctl_pf_smtps_opts[i] && n > 0 && (size_t)n < sizeof(s->master_new); i++)
        n += snprintf(s->master_new + n, sizeof(s->master_new) - (size_t)n, " -o %s",
                      ctl_pf_smtps_opts[i]);
    const char *args[] = {"-M", s->service, NULL};
    char *out = NULL;
    if (postconf(s->dir, args, &out) != 0) {
        free(out);
        return false;
    }
    out[strcspn(out, "\n")] = 0;
    s->master_old = *out ? out : NULL;
    if (!*out)
        free(out);
    return true;
}

/* ---- probes ----------------------------------------------------------------- */

/* Connect to unix:PATH, inet:HOST:PORT or (libmilter) local:PATH, inet:PORT@HOST:
 * the libmilter forms are rewritten to Postfix notation, then the daemons' own
 * endpoint parser checks it. */
static int connect_to(const char *spec)
{
    char postfix[700], err[400];
    struct sh_endpoint ep;

    if (!sh_endpoint_parse(postfix_notation(spec, postfix, sizeof(postfix)), &ep, err, sizeof(err)))
        return -1;
    return sh_endpoint_connect(&ep);
}

/* Send REQ, read until COMPLETE says the reply is whole (bounded in bytes and
 * time); the reply in BUF, NUL-terminated. */
static bool exchange(const char *spec, const char *req, size_t reqlen,
                     bool (*complete)(const char *buf, size_t len), char *buf, size_t cap)
{
    int fd = connect_to(spec);
    size_t len = 0;
    struct timespec t0, t;

    if (fd < 0)
        return false;
    if (write(fd, req, reqlen) != (ssize_t)reqlen) {
        close(fd);
        return false;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    buf[0] = 0;
    while (len < cap - 1 && !complete(buf, len)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = PROBE_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        ssize_t r;
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        if ((r = read(fd, buf + len, cap - 1 - len)) <= 0)
            break;
        len += (size_t)r;
        buf[len] = 0;
    }
    close(fd);
    return complete(buf, len);
}

static bool netstring_whole(const char *buf, size_t len)
{
    struct netstring_frame f;
    return netstring_decode(buf, len, NETSTRING_MAX_REPLY, &f) != NETSTRING_NEED_MORE;
}

static bool policy_whole(const char *buf, size_t len)
{
    (void)len;
    return strstr(buf, "\n\n") != NULL;
}

/* A socketmap lookup (netstring "NAME KEY"), any well-formed verdict. */
static bool probe_socketmap(const char *spec)
{
    static const char q[] = "relay postfix-setup-probe@smarthostd.invalid";
    char req[128], rep[512];
    struct netstring_frame f;
    size_t n = netstring_encode(req, sizeof(req), q, sizeof(q) - 1);

    if (!exchange(spec, req, n, netstring_whole, rep, sizeof(rep)) ||
        netstring_decode(rep, strlen(rep), NETSTRING_MAX_REPLY, &f) != NETSTRING_COMPLETE)
        return false;
    return (f.len >= 2 && strncmp(f.data, "OK", 2) == 0) ||
           (f.len >= 8 && strncmp(f.data, "NOTFOUND", 8) == 0) ||
           (f.len >= 4 && (strncmp(f.data, "TEMP", 4) == 0 || strncmp(f.data, "PERM", 4) == 0));
}

/* A minimal policy request; any action= reply. */
static bool probe_policy(const char *spec)
{
    static const char req[] = "request=smtpd_access_policy\nprotocol_state=RCPT\n"
                              "protocol_name=ESMTP\nclient_address=127.0.0.1\n"
                              "client_name=localhost\nhelo_name=localhost\n"
                              "sender=postfix-setup-probe@smarthostd.invalid\n"
                              "recipient=postfix-setup-probe@smarthostd.invalid\n"
                              "instance=postfix-setup-probe\n\n";
    char rep[1024];

    return exchange(spec, req, sizeof(req) - 1, policy_whole, rep, sizeof(rep)) &&
           strncmp(rep, "action=", 7) == 0;
}

/* The milter only gets a connect: a protocol negotiation is libmilter's job. */
static bool probe_milter(const char *spec)
{
    int fd = connect_to(spec);

    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static bool probe_all(const struct setup *s)
{
    struct {
        const char *what, *spec;
        bool (*fn)(const char *);
    } pr[] = {
        {"socketmap", s->socketmap, probe_socketmap},
        {"policy", s->policy, probe_policy},
        {"milter", s->milter, probe_milter},
    };
    bool ok = true;

    for (size_t i = 0; i < sizeof(pr) / sizeof(pr[0]); i++) {
        if (pr[i].spec == NULL)
            continue;
        bool up = pr[i].fn(pr[i].spec);
        printf("probe %-9s %s: %s\n", pr[i].what, pr[i].spec, up ? "answering" : "NOT ANSWERING");
        ok = ok && up;
    }
    return ok;
}

/* ---- the state file ------------------------------------------------------------ */

static bool write_state(const struct setup *s)
{
    char tmp[1100];
    FILE *fp;
    int fd;

    snprintf(tmp, sizeof(tmp), "%s.tmp", s->state);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
        (fp = fdopen(fd, "w")) == NULL) {
        fprintf(stderr, "smarthostctl: %s: %s\n", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    fprintf(fp, STATE_MAGIC "\ndir %s\n", s->dir);
    for (size_t i = 0; i < s->np; i++) {
        if (s->p[i].old)
            fprintf(fp, "main %s set %s\n", s->p[i].name, s->p[i].old);
        else
            fprintf(fp, "main %s unset\n", s->p[i].name);
    }
    if (s->master_old)
        fprintf(fp, "master %s set %s\n", s->service, s->master_old);
    else
        fprintf(fp, "master %s unset\n", s->service);
    if (fflush(fp) != 0 || fsync(fd) != 0 || fclose(fp) != 0 || rename(tmp, s->state) != 0) {
        fprintf(stderr, "smarthostctl: %s: %s\n", s->state, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

/* Read the state file into S (p[].old, service, master_old). */
static bool read_state(struct setup *s)
{
    FILE *fp = fopen(s->state, "re");
    char line[MAX_VALUE + 256], dir[1024] = "";
    size_t total = 0;
    bool magic = false;

    if (fp == NULL) {
        fprintf(stderr, "smarthostctl: %s: %s (nothing to undo)\n", s->state, strerror(errno));
        return false;
    }
    while (fgets(line, sizeof(line), fp)) {
        size_t n = strlen(line);
        char name[160], how[8];
        int off = 0;
        if ((total += n) > MAX_STATE || n == 0 || line[n - 1] != '\n')
            goto bad;
        line[n - 1] = 0;
        if (!magic) {
            if (strcmp(line, STATE_MAGIC) != 0)
                goto bad;
            magic = true;
        } else if (strncmp(line, "dir ", 4) == 0) {
            if (strlen(line + 4) >= sizeof(dir))
                goto bad;
            memcpy(dir, line + 4, strlen(line + 4) + 1);
        } else if (sscanf(line, "main %159s %7s %n", name, how, &off) >= 2 && s->np < MAX_PARAMS) {
            s->p[s->np].name = xstrdup(name);
            s->p[s->np].old = strcmp(how, "set") == 0 ? xstrdup(off ? line + off : "") : NULL;
            if (strcmp(how, "set") != 0 && strcmp(how, "unset") != 0)
                goto bad;
            s->np++;
        } else if (sscanf(line, "master %159s %7s %n", name, how, &off) >= 2) {
            snprintf(s->service, sizeof(s->service), "%s", name);
            s->master_old = strcmp(how, "set") == 0 ? xstrdup(off ? line + off : "") : NULL;
        } else {
            goto bad;
        }
    }
    fclose(fp);
    if (!magic || !*s->service) {
        fprintf(stderr, "smarthostctl: %s: incomplete state file\n", s->state);
        return false;
    }
    if (strcmp(dir, s->dir) != 0) {
        fprintf(stderr, "smarthostctl: %s was made for %s, not %s\n", s->state, dir, s->dir);
        return false;
    }
    return true;
bad:
    fclose(fp);
    fprintf(stderr, "smarthostctl: %s: malformed state file\n", s->state);
    return false;
}

/* ---- verbs -------------------------------------------------------------------- */

/* Put back what the state says. true when every postconf call succeeded. */
static bool restore(const struct setup *s)
{
    const char *unset[MAX_PARAMS + 2] = {"-X"}, *set[MAX_PARAMS + 2] = {"-e"};
    char *assign[MAX_PARAMS] = {0}, master[MAX_VALUE + 200];
    size_t nu = 1, ns = 1;
    bool ok = true;

    for (size_t i = 0; i < s->np; i++) {
        if (s->p[i].old == NULL) {
            unset[nu++] = s->p[i].name;
        } else {
            size_t n = strlen(s->p[i].name) + strlen(s->p[i].old) + 4;
            if ((assign[i] = malloc(n)) == NULL)
                return false;
            snprintf(assign[i], n, "%s = %s", s->p[i].name, s->p[i].old);
            set[ns++] = assign[i];
        }
    }
    if (ns > 1 && postconf(s->dir, set, NULL) != 0)
        ok = false;
    if (nu > 1 && postconf(s->dir, unset, NULL) != 0)
        ok = false;
    for (size_t i = 0; i < s->np; i++)
        free(assign[i]);
    if (s->master_old) {
        snprintf(master, sizeof(master), "%s = %s", s->service, s->master_old);
        const char *args[] = {"-M", "-e", master, NULL};
        ok = postconf(s->dir, args, NULL) == 0 && ok;
    } else if (*s->service) {
        const char *args[] = {"-M", "-X", s->service, NULL};
        ok = postconf(s->dir, args, NULL) == 0 && ok;
    }
    return ok;
}

static int apply(struct setup *s, bool dry)
{
    const char *set[MAX_PARAMS + 2] = {"-e"};
    char *assign[MAX_PARAMS] = {0};
    bool up;
    int rc = CTL_OK;

    if (!dry && access(s->state, F_OK) == 0) {
        fprintf(stderr, "smarthostctl: %s exists: already applied (--undo first)\n", s->state);
        return CTL_FAIL;
    }
    for (size_t i = 0; i < s->np; i++) {
        size_t n = strlen(s->p[i].name) + strlen(s->p[i].new) + 4;
        if ((assign[i] = malloc(n)) == NULL)
            return CTL_FAIL;
        snprintf(assign[i], n, "%s = %s", s->p[i].name, s->p[i].new);
        set[i + 1] = assign[i];
        if (dry)
            printf("main.cf   %s = %s    (now: %s%s)\n", s->p[i].name, s->p[i].new,
                   s->p[i].old ? s->p[i].old : "unset", s->p[i].old && !*s->p[i].old ? "empty" : "");
    }
    if (dry)
        printf("master.cf %s    (now: %s)\n", s->master_new, s->master_old ? s->master_old : "unset");
    up = probe_all(s);
    if (dry) {
        printf("dry run: nothing changed in %s%s\n", s->dir,
               up ? "" : "; --apply would refuse: start the daemons first");
    } else if (!up) {
        fprintf(stderr, "smarthostctl: refusing to apply: smarthostd's sockets are not "
                        "answering (start the daemons first)\n");
        rc = CTL_FAIL;
    } else if (!write_state(s)) {
        rc = CTL_FAIL;
    } else {
        const char *margs[] = {"-M", "-e", s->master_new, NULL};
        if (postconf(s->dir, set, NULL) != 0 || postconf(s->dir, margs, NULL) != 0) {
            fprintf(stderr, "smarthostctl: postconf failed; putting the old values back\n");
            if (restore(s))
                unlink(s->state);
            rc = CTL_FAIL;
        } else {
            printf("applied to %s (previous values in %s); now: postfix reload\n", s->dir,
                   s->state);
        }
    }
    for (size_t i = 0; i < s->np; i++)
        free(assign[i]);
    return rc;
}

static int undo(struct setup *s)
{
    if (!read_state(s))
        return CTL_FAIL;
    if (!restore(s)) {
        fprintf(stderr, "smarthostctl: postconf failed; %s kept, try again\n", s->state);
        return CTL_FAIL;
    }
    if (unlink(s->state) != 0)
        fprintf(stderr, "smarthostctl: %s: %s\n", s->state, strerror(errno));
    printf("restored %s; now: postfix reload\n", s->dir);
    return CTL_OK;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: smarthostctl [-c FILE] postfix-setup --dry-run|--apply|--undo\n"
            "          [--config-dir DIR] [--state FILE] [--socketmap ADDR]\n"
            "          [--policy ADDR|none] [--milter ADDR|none]\n"
            "  DIR default /etc/postfix; FILE default " DEFAULT_STATE "\n"
            "  sockets default " SOCK_DIR "/{socketmap,policy,milter}\n");
    return CTL_USAGE;
}

int ctl_postfix_setup(struct ctl_ctx *ctx, int argc, char **argv)
{
    enum { DRY = 1, APPLY, UNDO, DIR_, STATE, SOCKETMAP, POLICY, MILTER };
    static const struct option longopts[] = {
        {"dry-run", no_argument, NULL, DRY},
        {"apply", no_argument, NULL, APPLY},
        {"undo", no_argument, NULL, UNDO},
        {"config-dir", required_argument, NULL, DIR_},
        {"state", required_argument, NULL, STATE},
        {"socketmap", required_argument, NULL, SOCKETMAP},
        {"policy", required_argument, NULL, POLICY},
        {"milter", required_argument, NULL, MILTER},
        {NULL, 0, NULL, 0},
    };
    struct setup s = {.dir = "/etc/postfix", .state = DEFAULT_STATE, .socketmap = DEFAULT_SOCKETMAP,
                      .policy = DEFAULT_POLICY, .milter = DEFAULT_MILTER};
    int mode = 0, c, rc;

    optind = 0; /* a fresh getopt scan over the verb's own arguments */
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case DRY:
        case APPLY:
        case UNDO:
            if (mode && mode != c)
                return usage();
            mode = c;
            break;
        case DIR_: s.dir = optarg; break;
        case STATE: s.state = optarg; break;
        case SOCKETMAP: s.socketmap = optarg; break;
        case POLICY: s.policy = strcmp(optarg, "none") ? optarg : NULL; break;
        case MILTER: s.milter = strcmp(optarg, "none") ? optarg : NULL; break;
        default: return usage();
        }
    }
    if (!mode || optind != argc || strlen(s.state) > 1000)
        return usage();
    if (mode == UNDO)
        rc = undo(&s);
    else
        rc = plan(&s, ctx->config_path) ? apply(&s, mode == DRY) : CTL_FAIL;
    for (size_t i = 0; i < s.np; i++) {
        free(s.p[i].old);
        free(s.p[i].new);
        if (mode == UNDO)
            free((char *)s.p[i].name);
    }
    free(s.master_old);
    return rc;
}
