/* endpoint.c - parse Postfix-style endpoint names, bind and listen. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "endpoint.h"

#define LISTEN_BACKLOG 4096 /* the kernel clamps it to net.core.somaxconn */

__attribute__((format(printf, 3, 4))) static bool fail(char *err, size_t errlen, const char *fmt,
                                                       ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static bool parse_port(const char *s, char port[6])
{
    unsigned long v = 0;
    size_t n = strlen(s);

    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return false;
    snprintf(port, 6, "%lu", v);
    return true;
}

static bool parse_inet(const char *rest, struct sh_endpoint *ep, char *err, size_t errlen)
{
    const char *colon, *host = rest;
    size_t hlen;

    if (rest[0] == '[') { /* [IPv6]:port */
        const char *end = strchr(rest, ']');
        if (end == NULL || end[1] != ':')
            return fail(err, errlen, "%s: expected inet:[HOST]:PORT", ep->text);
        host = rest + 1;
        hlen = (size_t)(end - host);
        colon = end + 1;
    } else { /* host:port, the port after the last ':' (so ::1:25 works too) */
        if ((colon = strrchr(rest, ':')) == NULL)
            return fail(err, errlen, "%s: expected inet:HOST:PORT", ep->text);
        hlen = (size_t)(colon - rest);
    }
    if (hlen >= sizeof(ep->host))
        return fail(err, errlen, "%s: host name too long", ep->text);
    memcpy(ep->host, host, hlen);
    ep->host[hlen] = 0;
    if (strcmp(ep->host, "*") == 0)
        ep->host[0] = 0;
    if (!parse_port(colon + 1, ep->port))
        return fail(err, errlen, "%s: port must be a number from 1 to 65535", ep->text);
    return true;
}

bool sh_endpoint_parse(const char *spec, struct sh_endpoint *ep, char *err, size_t errlen)
{
    memset(ep, 0, sizeof(*ep));
    if (strlen(spec) >= sizeof(ep->text))
        return fail(err, errlen, "endpoint name too long");
    strcpy(ep->text, spec);
    if (strncmp(spec, "unix:", 5) == 0) {
        ep->kind = SH_EP_UNIX;
        if (spec[5] == 0)
            return fail(err, errlen, "%s: empty socket path", spec);
        if (strlen(spec + 5) >= sizeof(ep->path))
            return fail(err, errlen, "%s: socket path too long", spec);
        strcpy(ep->path, spec + 5);
        return true;
    }
    if (strncmp(spec, "inet:", 5) == 0) {
        ep->kind = SH_EP_INET;
        return parse_inet(spec + 5, ep, err, errlen);
    }
    return fail(err, errlen, "%s: expected unix:PATH or inet:HOST:PORT", spec);
}

static bool errno_fail(char *err, size_t errlen, const char *what, const char *text)
{
    snprintf(err, errlen, "%s: %s: %s", text, what, strerror(errno));
    return false;
}

/* A socket file at PATH: remove it when nobody listens there any more. */
bool sh_unix_socket_remove_stale(const struct sh_endpoint *ep, char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, rc;

    if (lstat(ep->path, &st) < 0)
        return errno == ENOENT ? true : errno_fail(err, errlen, "lstat", ep->text);
    if (!S_ISSOCK(st.st_mode))
        return fail(err, errlen, "%s: exists and is not a socket", ep->text);
    strcpy(sun.sun_path, ep->path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return errno_fail(err, errlen, "socket", ep->text);
    rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    close(fd);
    if (rc == 0)
        return fail(err, errlen, "%s: in use by another running server", ep->text);
    if (unlink(ep->path) < 0 && errno != ENOENT)
        return errno_fail(err, errlen, "unlink stale socket", ep->text);
    return true;
}

bool sh_unix_socket_place(const char *path, mode_t mode, gid_t gid,
                          bool (*make)(const char *tmp, void *ctx, char *err, size_t errlen),
                          void *ctx, char *err, size_t errlen)
{
    char dir[PATH_MAX], tmpdir[PATH_MAX], tmp[PATH_MAX];
    bool ok = false;

    /* Why this is race-free: the socket is made, chmod'ed and chown'ed inside a fresh
     * directory that mkdtemp() creates with mode 0700 for us alone, so no other user can
     * swap the name for a link between bind() and chmod()/chown(). rename() then moves
     * the finished socket to PATH in one step; whatever was at PATH (a stale socket, a
     * planted link) is replaced, never followed. */
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
        snprintf(tmpdir, sizeof(tmpdir), "%s/.sock.XXXXXX", dirname(dir)) >= (int)sizeof(tmpdir))
        return fail(err, errlen, "%s: path too long", path);
    if (strlen(tmpdir) + 2 >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return fail(err, errlen, "%s: directory name too long for a unix socket", path);
    if (mkdtemp(tmpdir) == NULL)
        return errno_fail(err, errlen, "mkdtemp next to it", path);
    snprintf(tmp, sizeof(tmp), "%s/s", tmpdir);
    if (make(tmp, ctx, err, errlen)) {
        if (chmod(tmp, mode) < 0)
            errno_fail(err, errlen, "chmod", path);
        else if (gid != (gid_t)-1 && chown(tmp, (uid_t)-1, gid) < 0)
            errno_fail(err, errlen, "chown", path);
        else if (rename(tmp, path) < 0)
            errno_fail(err, errlen, "rename into place", path);
        else
            ok = true;
    }
    if (!ok)
        unlink(tmp);
    rmdir(tmpdir);
    return ok;
}

static bool bind_fd(const char *tmp, void *ctx, char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", tmp);
    return bind(*(int *)ctx, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
           errno_fail(err, errlen, "bind", tmp);
}

static bool listen_unix(struct sh_endpoint *ep, gid_t gid, char *err, size_t errlen)
{
    int fd;

    if (!sh_unix_socket_remove_stale(ep, err, errlen))
        return false;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return errno_fail(err, errlen, "socket", ep->text);
    /* Nobody can connect before listen(): the socket is placed with its final mode first. */
    if (!sh_unix_socket_place(ep->path, ep->mode ? ep->mode : SH_UNIX_SOCKET_MODE, gid, bind_fd,
                              &fd, err, errlen)) {
        close(fd);
        return false;
    }
    ep->bound_path = true;
    if (listen(fd, LISTEN_BACKLOG) < 0) {
        errno_fail(err, errlen, "listen", ep->text);
        close(fd);
        unlink(ep->path);
        ep->bound_path = false;
        return false;
    }
    ep->fds[ep->nfds++] = fd;
    return true;
}

static bool listen_inet(struct sh_endpoint *ep, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res, *ai;
    int rc, one = 1;
    bool ok = true;

    if ((rc = getaddrinfo(ep->host[0] ? ep->host : NULL, ep->port, &hints, &res)) != 0) {
        snprintf(err, errlen, "%s: %s", ep->text, gai_strerror(rc));
        return false;
    }
    for (ai = res; ai && ep->nfds < SH_ENDPOINT_MAX_FDS; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            ok = errno_fail(err, errlen, "socket", ep->text);
            break;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6) /* "any" binds 0.0.0.0 and :: side by side */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
            ok = errno_fail(err, errlen, "bind", ep->text);
            close(fd);
            break;
        }
        ep->fds[ep->nfds++] = fd;
    }
    freeaddrinfo(res);
    if (!ok)
        sh_endpoint_close(ep);
    return ok;
}

bool sh_endpoint_listen(struct sh_endpoint *ep, gid_t gid, char *err, size_t errlen)
{
    return ep->kind == SH_EP_UNIX ? listen_unix(ep, gid, err, errlen)
                                  : listen_inet(ep, err, errlen);
}

void sh_endpoint_close(struct sh_endpoint *ep)
{
    for (size_t i = 0; i < ep->nfds; i++)
        close(ep->fds[i]);
    ep->nfds = 0;
    if (ep->bound_path) {
        unlink(ep->path);
        ep->bound_path = false;
    }
}

int sh_endpoint_connect(const struct sh_endpoint *ep)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *r;
    int fd = -1, gai;

    if (ep->kind == SH_EP_UNIX) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        strcpy(sun.sun_path, ep->path); /* bounded by sh_endpoint_parse */
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
            connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            fd = -1;
        }
        return fd;
    }
    /* "" (inet:*:PORT): getaddrinfo without AI_PASSIVE gives the loopback address. */
    if ((gai = getaddrinfo(ep->host[0] ? ep->host : NULL, ep->port, &hints, &res)) != 0) {
        errno = gai == EAI_SYSTEM ? errno : EHOSTUNREACH;
        return -1;
    }
    for (r = res; r; r = r->ai_next) {
        if ((fd = socket(r->ai_family, r->ai_socktype | SOCK_CLOEXEC, r->ai_protocol)) < 0)
            continue;
        if (connect(fd, r->ai_addr, r->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}
