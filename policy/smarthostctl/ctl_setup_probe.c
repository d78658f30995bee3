/* ctl_setup_probe.c - before `postfix-setup --apply`: do the daemons' sockets answer? */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_setup.h"
#include "endpoint.h"
#include "netstring.h"

#define PROBE_MS 5000

/* Connect to unix:PATH, inet:HOST:PORT or (libmilter) local:PATH, inet:PORT@HOST:
 * the libmilter forms are rewritten to Postfix notation, then the daemons' own
 * endpoint parser checks it. */
static int connect_to(const char *spec)
{
    char postfix[700], err[400];
    struct sh_endpoint ep;

    if (!sh_endpoint_parse(setup_postfix_notation(spec, postfix, sizeof(postfix)), &ep, err,
                           sizeof(err)))
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

bool setup_probe_all(const struct setup *s)
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
