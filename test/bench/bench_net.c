/* bench_net.c - endpoint parsing, connect and listen for the benchmark tools. */
#include "bench_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

static bool parse_port(const char *s, unsigned short *port)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > 65535)
        return false;
    *port = (unsigned short)v;
    return true;
}

bool bench_target_parse(const char *spec, struct bench_target *t)
{
    memset(t, 0, sizeof *t);
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&t->addr;
        const char *path = spec + 5;
        if (!*path || strlen(path) >= sizeof un->sun_path) {
            fprintf(stderr, "bad unix socket path: %s\n", spec);
            return false;
        }
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, path, strlen(path) + 1);
        t->len = sizeof *un;
        return true;
    }
    if (strncmp(spec, "inet:", 5) == 0) {
        char host[64];
        const char *hp = spec + 5, *colon = strrchr(hp, ':');
        size_t hlen = colon ? (size_t)(colon - hp) : 0;
        unsigned short port;
        if (!colon || hlen == 0 || hlen >= sizeof host || !parse_port(colon + 1, &port)) {
            fprintf(stderr, "bad inet endpoint (want inet:ADDR:PORT): %s\n", spec);
            return false;
        }
        memcpy(host, hp, hlen);
        host[hlen] = '\0';
        if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') { /* [::1] */
            memmove(host, host + 1, hlen - 2);
            host[hlen - 2] = '\0';
        }
        struct sockaddr_in *in4 = (struct sockaddr_in *)&t->addr;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->addr;
        if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
            in4->sin_family = AF_INET;
            in4->sin_port = htons(port);
            t->len = sizeof *in4;
        } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(port);
            t->len = sizeof *in6;
        } else {
            fprintf(stderr, "not a numeric address: %s\n", host);
            return false;
        }
        t->inet = true;
        return true;
    }
    fprintf(stderr, "endpoint must be inet:ADDR:PORT or unix:PATH: %s\n", spec);
    return false;
}

int bench_connect(const struct bench_target *t, bool nonblock)
{
    int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&t->addr, t->len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (t->inet) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (nonblock)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int bench_listen(const struct bench_target *t)
{
    int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    if (t->inet)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    else
        unlink(((const struct sockaddr_un *)&t->addr)->sun_path);
    if (bind(fd, (const struct sockaddr *)&t->addr, t->len) < 0 || listen(fd, 1024) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
