/* server.c - epoll workers serving persistent, pipelined connections. */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "counter.h"
#include "msg.h"
#include "peercred.h"
#include "server.h"

#define MAX_LISTENERS 16
#define MAX_EVENTS    256
#define ACCEPT_BURST  64          /* accepts per wakeup, so one worker does not take all */
#define OUT_HIGHWATER (64 * 1024) /* stop serving input while this much output waits */
#define FD_RESERVE    64          /* descriptors beside connections: listeners, epoll, logs */
#define TICK_MS       1000

enum tag { TAG_LISTENER, TAG_STOP, TAG_CONN };

/* One endpoint: its sockets share one connection cap. */
struct pool {
    char name[64]; /* for logs: "socketmap inet:127.0.0.1:10025" */
    const struct sh_proto *proto;
    unsigned idle; /* seconds idle between requests */
    unsigned max;  /* connection cap */
    atomic_uint nconns;
    unsigned ctr_accepted, ctr_refused, ctr_malformed, ctr_timeouts; /* counter.h slots */
};

struct listener {
    enum tag tag; /* first: epoll data points at it */
    int fd;
    struct pool *pool;
};

struct worker {
    struct sh_server *srv;
    pthread_t tid;
    bool started;
    int epfd;
    struct sh_conn *conns; /* list of this worker's connections */
    time_t paused_until;   /* listeners off after EMFILE and the like */
    time_t last_warn;
};

struct sh_server {
    struct sh_server_opts opts;
    struct listener listeners[MAX_LISTENERS];
    size_t nlisteners;
    struct pool pools[MAX_LISTENERS];
    size_t npools;
    enum tag stop_tag;
    int stopfd;
    atomic_bool stopping;
    struct worker *workers;
};

struct sh_conn {
    enum tag tag;
    struct sh_conn *prev, *next;
    struct worker *w;
    const struct sh_proto *proto;
    struct pool *pool;
    int fd;
    uint32_t events;    /* current epoll interest */
    time_t last;        /* last input, monotonic seconds */
    time_t req_started; /* first byte of the unfinished request (when in_len > 0) */
    bool eof;
    enum { UID_UNASKED, UID_KNOWN, UID_NONE } uid_state;
    uid_t uid;
    void *data;
    char peer[INET6_ADDRSTRLEN + 8];
    char *out;
    size_t out_off, out_len, out_cap;
    size_t in_len, in_cap;
    char in[]; /* in_cap bytes */
};

/* Warnings peers trigger at will (oversized requests, connection floods). */
static struct msg_rate peer_rate = MSG_RATE_INIT;

static time_t now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

/* At most one warning a second per worker: a flood must not flood the log. */
static bool warn_ok(struct worker *w)
{
    time_t t = now_sec();
    if (t == w->last_warn)
        return false;
    w->last_warn = t;
    return true;
}

struct sh_server *sh_server_new(const struct sh_server_opts *opts)
{
    struct sh_server *srv = calloc(1, sizeof(*srv));

    if (srv == NULL)
        return NULL;
    srv->opts = *opts;
    if (srv->opts.threads < 1)
        srv->opts.threads = 1;
    if (srv->opts.threads > SH_SERVER_MAX_THREADS)
        srv->opts.threads = SH_SERVER_MAX_THREADS;
    if (srv->opts.max_conns < 1)
        srv->opts.max_conns = SH_SERVER_DEFAULT_MAX_CONNS;
    if (srv->opts.request_timeout < 1)
        srv->opts.request_timeout = SH_SERVER_DEFAULT_REQUEST;
    srv->stop_tag = TAG_STOP;
    srv->stopfd = -1;
    return srv;
}

bool sh_server_add_listener(struct sh_server *srv, const char *name, const int *fds, size_t nfds,
                            const struct sh_proto *proto)
{
    struct pool *p;

    if (srv->nlisteners + nfds > MAX_LISTENERS || srv->npools >= MAX_LISTENERS ||
        srv->workers != NULL)
        return false;
    p = &srv->pools[srv->npools++];
    snprintf(p->name, sizeof(p->name), "%s %s", proto->name, name);
    p->proto = proto;
    p->max = srv->opts.max_conns;
    p->idle = srv->opts.idle_timeout    ? srv->opts.idle_timeout
              : proto->idle_timeout > 0 ? proto->idle_timeout
                                        : SH_SERVER_DEFAULT_IDLE;
    static const char *const lname[1] = {"listener"};
    const char *lvalue[1] = {p->name};
    p->ctr_accepted = sh_ctr_register("listener_accepted_total", 1, lname, lvalue);
    p->ctr_refused = sh_ctr_register("listener_refused_total", 1, lname, lvalue);
    p->ctr_malformed = sh_ctr_register("listener_protocol_errors_total", 1, lname, lvalue);
    p->ctr_timeouts = sh_ctr_register("listener_timeouts_total", 1, lname, lvalue);
    for (size_t i = 0; i < nfds; i++)
        srv->listeners[srv->nlisteners++] = (struct listener){TAG_LISTENER, fds[i], p};
    return true;
}

size_t sh_server_listeners(const struct sh_server *srv, struct sh_listener_info *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < srv->npools && n < cap; i++, n++) {
        const struct pool *p = &srv->pools[i];
        snprintf(out[n].name, sizeof(out[n].name), "%s", p->name);
        out[n].conns = atomic_load(&p->nconns);
        out[n].max = p->max;
    }
    return n;
}

/* ---- connections ---- */

static void conn_close(struct sh_conn *c)
{
    struct worker *w = c->w;

    if (c->proto->on_close)
        c->proto->on_close(c);
    close(c->fd); /* also removes it from the epoll set */
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&c->pool->nconns, 1);
    free(c->out);
    free(c);
}

bool sh_conn_send(struct sh_conn *c, const void *data, size_t len)
{
    size_t limit = OUT_HIGHWATER + c->proto->max_reply;

    if (c->out_off > 0 && c->out_len + len > c->out_cap) { /* compact first */
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 512;
        char *p;
        while (cap < c->out_len + len)
            cap *= 2;
        if (cap > limit)
            cap = limit;
        if (c->out_len + len > cap || (p = realloc(c->out, cap)) == NULL)
            return false;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return true;
}

const char *sh_conn_peer(const struct sh_conn *c)
{
    return c->peer;
}

bool sh_conn_peer_uid(struct sh_conn *c, uid_t *uid)
{
    if (c->uid_state == UID_UNASKED)
        c->uid_state = sh_peer_uid(c->fd, &c->uid) ? UID_KNOWN : UID_NONE;
    if (c->uid_state != UID_KNOWN)
        return false;
    *uid = c->uid;
    return true;
}

void *sh_conn_data(const struct sh_conn *c)
{
    return c->data;
}

void sh_conn_set_data(struct sh_conn *c, void *data)
{
    c->data = data;
}

static size_t pending(const struct sh_conn *c)
{
    return c->out_len - c->out_off;
}

/* Write what the socket takes now. false: the peer is gone. */
static bool flush(struct sh_conn *c)
{
    while (pending(c) > 0) {
        ssize_t n = send(c->fd, c->out + c->out_off, pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return true;
}

struct wake {
    struct sh_server *srv;
    bool begun;
    void *value;
};

static void *wake_value(struct wake *wk)
{
    if (!wk->begun) {
        wk->begun = true;
        wk->value = wk->srv->opts.wake_begin ? wk->srv->opts.wake_begin() : NULL;
    }
    return wk->value;
}

/* Serve complete requests while output is not backed up. false: close. */
static bool serve(struct sh_conn *c, struct wake *wk)
{
    size_t off = 0;
    bool ok = true;

    while (off < c->in_len && pending(c) < OUT_HIGHWATER) {
        ssize_t r = c->proto->on_input(c, c->in + off, c->in_len - off, wake_value(wk));
        if (r == SH_INPUT_DONE) { /* read no more; closed once the reply is out */
            c->eof = true;
            off = c->in_len;
            break;
        }
        if (r < 0 || (size_t)r > c->in_len - off) {
            sh_ctr_inc(c->pool->ctr_malformed);
            ok = false;
            break;
        }
        if (r == 0)
            break;
        off += (size_t)r;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    if (off > 0 && c->in_len > 0) /* the rest is the start of the next request */
        c->req_started = now_sec();
    return ok;
}

static void conn_event(struct sh_conn *c, uint32_t ev, struct wake *wk)
{
    uint32_t want;
    bool served;

    if (ev & EPOLLERR)
        goto close;
    if ((ev & EPOLLOUT) && !flush(c))
        goto close;
    if ((ev & (EPOLLIN | EPOLLHUP)) && !c->eof && c->in_len < c->in_cap &&
        pending(c) < OUT_HIGHWATER) {
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n > 0) {
            c->last = now_sec();
            if (c->in_len == 0)
                c->req_started = c->last;
            c->in_len += (size_t)n;
        } else if (n == 0) {
            c->eof = true;
        } else if (errno != EAGAIN && errno != EINTR) {
            goto close;
        }
    }
    /* Replies queued before a protocol error (answers to earlier pipelined
     * requests, or the protocol's last word on why it closes) go out first, as
     * far as the socket takes them now. */
    served = serve(c, wk);
    if (!flush(c) || !served)
        goto close;
    if (c->in_len == c->in_cap && pending(c) < OUT_HIGHWATER) {
        /* The protocol should have refused it already; this is the backstop. */
        sh_ctr_inc(c->pool->ctr_malformed);
        if (warn_ok(c->w))
            msg_warn_rate(&peer_rate, "%s: %s: request longer than %zu bytes; disconnecting",
                          c->proto->name, c->peer, c->in_cap);
        goto close;
    }
    if (c->eof && pending(c) == 0) {
        if (c->in_len > 0 && msg_verbose)
            msg_info("%s: %s: disconnected in mid-request", c->proto->name, c->peer);
        goto close;
    }
    want = (pending(c) ? EPOLLOUT : 0) | (!c->eof && pending(c) < OUT_HIGHWATER ? EPOLLIN : 0);
    if (want != c->events) {
        struct epoll_event e = {.events = want, .data.ptr = c};
        if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
            goto close;
        c->events = want;
    }
    return;
close:
    conn_close(c);
}

/* ---- listeners ---- */

static void listeners_arm(struct worker *w, bool on)
{
    struct sh_server *srv = w->srv;

    for (size_t i = 0; i < srv->nlisteners; i++) {
        /* EPOLLEXCLUSIVE: one worker wakes per new connection. It cannot be
         * modified, only deleted and added again. */
        struct epoll_event e = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &srv->listeners[i]};
        epoll_ctl(w->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, srv->listeners[i].fd, &e);
    }
}

static void peer_name(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(buf, cap, "%s:%u", ip, ntohs(sin->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, cap, "[%s]:%u", ip, ntohs(sin6->sin6_port));
    } else {
        snprintf(buf, cap, "unix");
    }
}

static void accept_some(struct worker *w, const struct listener *l)
{
    struct pool *p = l->pool;

    for (int i = 0; i < ACCEPT_BURST; i++) {
        struct sockaddr_storage ss;
        socklen_t sslen = sizeof(ss);
        struct sh_conn *c;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: stop accepting for a tick, or
             * level-triggered epoll would spin on the pending connection. */
            if (warn_ok(w))
                msg_warn("%s: accept: %m; pausing for a second", p->name);
            listeners_arm(w, false);
            w->paused_until = now_sec() + 1;
            return;
        }
        if (atomic_fetch_add(&p->nconns, 1) >= p->max) {
            atomic_fetch_sub(&p->nconns, 1);
            sh_ctr_inc(p->ctr_refused);
            if (warn_ok(w))
                msg_warn_rate(&peer_rate, "%s: %u connections open; refusing more", p->name,
                              p->max);
            close(fd);
            continue;
        }
        if ((c = calloc(1, sizeof(*c) + p->proto->max_input)) == NULL) {
            atomic_fetch_sub(&p->nconns, 1);
            close(fd);
            continue;
        }
        if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
            /* Replies to pipelined requests go out in several writes: do not
             * let Nagle hold one back for the peer's delayed ACK (40 ms). */
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        sh_ctr_inc(p->ctr_accepted);
        c->tag = TAG_CONN;
        c->w = w;
        c->proto = p->proto;
        c->pool = p;
        c->fd = fd;
        c->in_cap = p->proto->max_input;
        c->last = now_sec();
        c->events = EPOLLIN;
        peer_name(&ss, c->peer, sizeof(c->peer));
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
            atomic_fetch_sub(&p->nconns, 1);
            close(fd);
            free(c);
            continue;
        }
        c->next = w->conns;
        if (w->conns)
            w->conns->prev = c;
        w->conns = c;
    }
}

/* ---- workers ---- */

/* Close connections idle between requests, and those whose request did not
 * arrive in time since its first byte (the idle timer alone restarts on every
 * byte, so a peer trickling bytes would never meet it). */
static void expire(struct worker *w, time_t now)
{
    struct sh_conn *c, *next;
    unsigned request = w->srv->opts.request_timeout;

    for (c = w->conns; c; c = next) {
        next = c->next;
        if (c->in_len > 0 && now - c->req_started >= (time_t)request) {
            sh_ctr_inc(c->pool->ctr_timeouts);
            if (warn_ok(w))
                msg_warn_rate(&peer_rate,
                              "%s: %s: request incomplete after %us (%zu bytes); disconnecting",
                              c->proto->name, c->peer, request, c->in_len);
            conn_close(c);
        } else if (now - c->last >= (time_t)c->pool->idle) {
            if (msg_verbose)
                msg_info("%s: %s: idle for %us; disconnecting", c->proto->name, c->peer,
                         c->pool->idle);
            conn_close(c);
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sh_server *srv = w->srv;
    struct epoll_event ev[MAX_EVENTS];
    time_t last_scan = now_sec();

    while (!atomic_load(&srv->stopping)) {
        int n = epoll_wait(w->epfd, ev, MAX_EVENTS, TICK_MS);
        struct wake wk = {.srv = srv};
        time_t now;

        if (n < 0 && errno != EINTR)
            msg_fatal("epoll_wait: %m");
        for (int i = 0; i < n; i++) {
            enum tag *tag = ev[i].data.ptr;
            if (*tag == TAG_CONN)
                conn_event((struct sh_conn *)tag, ev[i].events, &wk);
            else if (*tag == TAG_LISTENER)
                accept_some(w, (struct listener *)tag);
        }
        if (wk.begun && srv->opts.wake_end)
            srv->opts.wake_end(wk.value);
        now = now_sec();
        if (w->paused_until && now >= w->paused_until) {
            w->paused_until = 0;
            listeners_arm(w, true);
        }
        if (now != last_scan) {
            last_scan = now;
            expire(w, now);
        }
    }
    while (w->conns)
        conn_close(w->conns);
    return NULL;
}

/* Enough descriptors for every listener's cap together, so a flood on one
 * listener runs into its own cap, never into EMFILE for all. When the hard
 * limit says no, the descriptors there are are shared out evenly. */
static void raise_nofile(struct sh_server *srv)
{
    struct rlimit rl;
    rlim_t total = 0, want;

    for (size_t i = 0; i < srv->npools; i++)
        total += srv->pools[i].max;
    want = total + FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        struct rlimit up = {want, want}; /* works when privileged */
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            return;
        want = rl.rlim_max;
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < total + FD_RESERVE && srv->npools > 0) {
        rlim_t avail = rl.rlim_cur > FD_RESERVE * 2 ? rl.rlim_cur - FD_RESERVE : FD_RESERVE;
        unsigned each = (unsigned)(avail / srv->npools);
        if (each < 1)
            each = 1;
        msg_warn("open file limit %llu allows only %u connections per listener",
                 (unsigned long long)rl.rlim_cur, each);
        for (size_t i = 0; i < srv->npools; i++)
            if (srv->pools[i].max > each)
                srv->pools[i].max = each;
    }
}

bool sh_server_start(struct sh_server *srv)
{
    raise_nofile(srv);
    if ((srv->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        msg_warn("eventfd: %m");
        return false;
    }
    if ((srv->workers = calloc(srv->opts.threads, sizeof(*srv->workers))) == NULL)
        return false;
    for (unsigned i = 0; i < srv->opts.threads; i++) {
        struct worker *w = &srv->workers[i];
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = &srv->stop_tag};

        w->srv = srv;
        if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
            epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->stopfd, &e) < 0) {
            msg_warn("epoll: %m");
            return false;
        }
        listeners_arm(w, true);
        if ((errno = pthread_create(&w->tid, NULL, worker_main, w)) != 0) {
            msg_warn("pthread_create: %m");
            return false;
        }
        w->started = true;
    }
    return true;
}

void sh_server_stop(struct sh_server *srv)
{
    uint64_t one = 1;

    if (srv->workers == NULL || atomic_exchange(&srv->stopping, true))
        return;
    if (write(srv->stopfd, &one, sizeof(one)) < 0)
        msg_warn("eventfd write: %m");
    for (unsigned i = 0; i < srv->opts.threads; i++)
        if (srv->workers[i].started)
            pthread_join(srv->workers[i].tid, NULL);
}

void sh_server_free(struct sh_server *srv)
{
    if (srv == NULL)
        return;
    sh_server_stop(srv);
    if (srv->workers) {
        for (unsigned i = 0; i < srv->opts.threads; i++)
            if (srv->workers[i].epfd > 0)
                close(srv->workers[i].epfd);
        free(srv->workers);
    }
    if (srv->stopfd >= 0)
        close(srv->stopfd);
    free(srv);
}
