/* noop_sockmap.c - the benchmark baseline: a socketmap server that looks nothing up.
 *
 * Same shape as a real server (persistent connections, netstring requests,
 * N worker threads, default 2 like smarthostd) but every well-formed request
 * gets one fixed reply. Each worker has its own epoll set and accepts from the
 * shared listening socket (EPOLLEXCLUSIVE, so one worker wakes per connection),
 * then owns that connection: no locks, no hand-offs, one read and one write per
 * request. Whatever the real daemon costs above this is its own work.
 *
 * Runs until SIGINT/SIGTERM or -l SECONDS (default 600), whichever is first.
 */
#include "bench_net.h"
#include "netstring.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_QUERY   100000 /* Postfix socketmap_max_reply_size: requests stay far below */

struct conn {
    int fd;
    char *in;
    size_t in_len, in_cap;
    char *out; /* pending reply bytes when a write was short */
    size_t out_len, out_off;
};

static int listen_fd;
static char *reply; /* the whole netstring */
static size_t reply_len;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void conn_free(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

/* Length of the complete netstring at BUF, 0 if more bytes are needed, -1 if
 * malformed: the daemon's own codec, so the baseline parses exactly as it does. */
static long netstring_len(const char *buf, size_t len)
{
    struct netstring_frame f;

    switch (netstring_decode(buf, len, NETSTRING_MAX_REQUEST, &f)) {
    case NETSTRING_COMPLETE:
        return (long)f.consumed;
    case NETSTRING_NEED_MORE:
        return 0;
    default:
        return -1;
    }
}

/* Queue COUNT replies; false if the connection must go. */
static bool send_replies(int ep, struct conn *c, size_t count)
{
    size_t need = reply_len * count;
    if (!c->out_len && count == 1) { /* the common case: straight from the constant */
        ssize_t r = write(c->fd, reply, reply_len);
        if (r == (ssize_t)reply_len)
            return true;
        if (r < 0 && errno != EAGAIN)
            return false;
        size_t done = r > 0 ? (size_t)r : 0;
        c->out = malloc(reply_len);
        if (!c->out)
            return false;
        memcpy(c->out, reply + done, reply_len - done);
        c->out_len = reply_len - done;
        c->out_off = 0;
    } else {
        if (c->out_len > MAX_QUERY * 4)
            return false; /* the peer does not read its replies */
        char *n = realloc(c->out, c->out_len + need);
        if (!n)
            return false;
        c->out = n;
        for (size_t i = 0; i < count; i++)
            memcpy(c->out + c->out_len + i * reply_len, reply, reply_len);
        c->out_len += need;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

static bool conn_flush(int ep, struct conn *c)
{
    ssize_t r = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (r < 0)
        return errno == EAGAIN;
    c->out_off += (size_t)r;
    if (c->out_off < c->out_len)
        return true;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

static bool conn_read(int ep, struct conn *c)
{
    if (c->in_len == c->in_cap) {
        size_t ncap = c->in_cap * 2;
        if (ncap > MAX_QUERY + 16)
            return false;
        char *n = realloc(c->in, ncap);
        if (!n)
            return false;
        c->in = n, c->in_cap = ncap;
    }
    ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (r < 0)
        return errno == EAGAIN || errno == EINTR;
    if (r == 0)
        return false;
    c->in_len += (size_t)r;
    size_t off = 0, count = 0;
    long n;
    while ((n = netstring_len(c->in + off, c->in_len - off)) > 0)
        off += (size_t)n, count++;
    if (n < 0)
        return false; /* malformed: drop the client, as a real server would */
    if (off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    return count == 0 || send_replies(ep, c, count);
}

static void accept_all(int ep)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: another worker got it, or none left */
        struct conn *c = calloc(1, sizeof *c);
        if (c) {
            c->in_cap = 512;
            c->in = malloc(c->in_cap);
        }
        if (!c || !c->in) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            free(c->in);
            free(c);
            close(fd);
        }
    }
}

static void *worker(void *arg)
{
    (void)arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &lev) < 0) {
        perror("epoll");
        exit(1);
    }
    struct epoll_event evs[256];
    while (!stop) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                accept_all(ep);
                continue;
            }
            bool ok = true;
            if (evs[i].events & EPOLLOUT)
                ok = conn_flush(ep, c);
            if (ok && evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                ok = conn_read(ep, c);
            if (!ok)
                conn_free(ep, c);
        }
    }
    return NULL; /* connections are reclaimed at exit */
}

static void usage(void)
{
    fprintf(stderr, "usage: noop_sockmap [-t THREADS (2)] [-r REPLY] [-l LIFETIME_S (600)] "
                    "inet:ADDR:PORT|unix:PATH\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned nthreads = 2;
    long lifetime = 600;
    const char *text = "OK [127.0.0.1]:25";
    int opt;
    while ((opt = getopt(argc, argv, "t:r:l:")) != -1) {
        switch (opt) {
        case 't':
            nthreads = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'r':
            text = optarg;
            break;
        case 'l':
            lifetime = strtol(optarg, NULL, 10);
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1 || nthreads < 1 || nthreads > MAX_THREADS || lifetime < 1 ||
        strlen(text) > 1000)
        usage();
    struct bench_target t;
    if (!bench_target_parse(argv[optind], &t))
        return 2;

    size_t tl = strlen(text);
    reply = malloc(tl + 16);
    if (!reply)
        return 1;
    reply_len = (size_t)snprintf(reply, tl + 16, "%zu:%s,", tl, text);

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    listen_fd = bench_listen(&t);
    if (listen_fd < 0) {
        perror(argv[optind]);
        return 1;
    }
    pthread_t tids[MAX_THREADS];
    for (unsigned i = 0; i < nthreads; i++)
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    time_t end = time(NULL) + lifetime;
    while (!stop && time(NULL) < end)
        usleep(100000);
    stop = 1;
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(tids[i], NULL);
    return 0;
}
