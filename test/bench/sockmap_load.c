/* sockmap_load.c - closed-loop load client for a Postfix socketmap server.
 *
 * N persistent connections, each sending one request (`LEN:NAME KEY,`, see
 * socketmap_table(5)) and waiting for its reply before the next, as Postfix's
 * dict_sockmap does. Connections are spread over a few epoll threads so the
 * client stays cheap next to the server it measures. Requests are built once
 * at start; the hot loop is one write and one read per lookup.
 *
 * Stops by itself: after -d seconds of measurement (plus -w warm-up) or -n
 * lookups, whichever comes first; a reply slower than -T seconds is a timeout.
 * Latency is per request (send to complete reply), kept in a log-linear
 * histogram (<1% error) so memory does not grow with the run.
 *
 * --first SECS: wait until the server answers one lookup (connect retried every
 * millisecond), print the wall-clock time of that answer, exit. Used to measure
 * the time from daemon start to first answered lookup.
 */
#include "bench_net.h"
#include "netstring.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS     65536
#define MAX_THREADS   64
#define MAX_KEY       1024        /* longer lines in a key file are skipped */
#define MAX_KEYS      (10u << 20) /* key file lines kept */
#define MAX_REPLY     100000      /* Postfix socketmap_max_reply_size default */
#define HIST_SUB_BITS 6
#define HIST_BUCKETS  (128 + (64 - 7) * 64)

enum kind { K_OK, K_NOTFOUND, K_TEMP, K_PERM, K_OTHER, K_NKINDS };
static const char *const kind_name[K_NKINDS] = {"ok", "notfound", "temp", "perm", "other"};

struct stats {
    uint64_t hist[HIST_BUCKETS];
    uint64_t kinds[K_NKINDS];
    uint64_t done; /* replies counted in the measurement window */
    uint64_t warm; /* replies during warm-up (not in hist) */
    uint64_t max_ns;
    uint64_t malformed, closed, timeouts, connfail;
    uint64_t last_reply_ns;
};

struct conn {
    int fd;
    size_t key;       /* next request index */
    uint64_t sent_ns; /* 0: no request outstanding */
    size_t wr_off;    /* bytes of the current request written */
    char *in;
    size_t in_len, in_cap;
};

struct worker {
    pthread_t tid;
    int ep;
    struct conn *conns;
    size_t nconns;
    size_t live; /* connections still open */
    struct stats st;
};

/* Requests, built once: req_buf[req_off[i] .. req_off[i+1]). */
static char *req_buf;
static size_t *req_off;
static size_t nreq;

static struct bench_target target;
static uint64_t t_start_ns, t_measure_ns, t_stop_ns;
static uint64_t timeout_ns = 5000000000ull;
static uint64_t max_lookups;        /* 0: unlimited */
static atomic_uint_fast64_t issued; /* requests started, for -n */
static volatile sig_atomic_t interrupted;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned hist_index(uint64_t v)
{
    if (v < 128)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned mant = (unsigned)(v >> (msb - HIST_SUB_BITS)); /* 64..127 */
    return 128 + (msb - 7) * 64 + (mant - 64);
}

static uint64_t hist_value(unsigned i) /* middle of the bucket */
{
    if (i < 128)
        return i;
    unsigned msb = (i - 128) / 64 + 7, mant = (i - 128) % 64 + 64;
    uint64_t lo = (uint64_t)mant << (msb - HIST_SUB_BITS);
    return lo + ((1ull << (msb - HIST_SUB_BITS)) >> 1);
}

static uint64_t hist_quantile(const uint64_t *h, uint64_t total, double q)
{
    if (total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)total);
    if (rank >= total)
        rank = total - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h[i];
        if (seen > rank)
            return hist_value(i);
    }
    return 0;
}

/* --- keys and requests --- */

static void add_request(char **buf, size_t *len, size_t *cap, const char *map, size_t maplen,
                        const char *key, size_t keylen)
{
    char head[32];
    int hl = snprintf(head, sizeof head, "%zu:", maplen + 1 + keylen);
    size_t need = (size_t)hl + maplen + 1 + keylen + 1;
    if (*len + need > *cap) {
        *cap = (*cap + need) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf) {
            perror("realloc");
            exit(1);
        }
    }
    char *p = *buf + *len;
    memcpy(p, head, (size_t)hl), p += hl;
    memcpy(p, map, maplen), p += maplen;
    *p++ = ' ';
    memcpy(p, key, keylen), p += keylen;
    *p++ = ',';
    *len += need;
}

static void push_offset(size_t **off, size_t *n, size_t *cap, size_t v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *off = realloc(*off, *cap * sizeof **off);
        if (!*off) {
            perror("realloc");
            exit(1);
        }
    }
    (*off)[(*n)++] = v;
}

/* Keys from FILE (one per line, '#' comments), or generated: user<i>@dom<k>.test
 * over GEN_USERS x GEN_DOMAINS plus every 10th one unmatched (nobody<i>@miss.invalid). */
static void build_requests(const char *map, const char *keyfile, unsigned gen_count)
{
    char *buf = NULL;
    size_t len = 0, cap = 0, ocap = 0, maplen = strlen(map);
    nreq = 0;
    push_offset(&req_off, &nreq, &ocap, 0);
    if (keyfile) {
        FILE *f = fopen(keyfile, "r");
        if (!f) {
            perror(keyfile);
            exit(2);
        }
        char line[MAX_KEY + 2];
        while (nreq <= MAX_KEYS && fgets(line, sizeof line, f)) {
            size_t l = strlen(line);
            if (l && line[l - 1] != '\n' && !feof(f)) { /* too long: skip the rest */
                int c;
                while ((c = fgetc(f)) != EOF && c != '\n')
                    ;
                continue;
            }
            while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
                line[--l] = '\0';
            if (!l || line[0] == '#')
                continue;
            add_request(&buf, &len, &cap, map, maplen, line, l);
            push_offset(&req_off, &nreq, &ocap, len);
        }
        fclose(f);
    } else {
        for (unsigned i = 0; i < gen_count; i++) {
            char key[96];
            int kl = i % 10 == 9
                         ? snprintf(key, sizeof key, "nobody%u@miss.invalid", i)
                         : snprintf(key, sizeof key, "user%u@dom%u.test", i % 60000u, i % 35000u);
            add_request(&buf, &len, &cap, map, maplen, key, (size_t)kl);
            push_offset(&req_off, &nreq, &ocap, len);
        }
    }
    nreq--; /* offsets hold nreq+1 entries */
    if (nreq == 0) {
        fprintf(stderr, "no keys\n");
        exit(2);
    }
    req_buf = buf;
}

/* --- reply parsing --- */

/* Complete netstring at the start of BUF? Returns its total length, 0 when more
 * bytes are needed, -1 when malformed (the daemon's own codec). */
static long netstring_complete(const char *buf, size_t len, const char **data, size_t *dlen)
{
    struct netstring_frame f;

    switch (netstring_decode(buf, len, MAX_REPLY, &f)) {
    case NETSTRING_COMPLETE:
        *data = f.data;
        *dlen = f.len;
        return (long)f.consumed;
    case NETSTRING_NEED_MORE:
        return 0;
    default:
        return -1;
    }
}

static enum kind classify(const char *d, size_t n)
{
    static const struct {
        const char *w;
        size_t l;
        enum kind k;
    } words[] = {
        {"OK", 2, K_OK},
        {"NOTFOUND", 8, K_NOTFOUND},
        {"TEMP", 4, K_TEMP},
        {"PERM", 4, K_PERM},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (n >= words[i].l && memcmp(d, words[i].w, words[i].l) == 0 &&
            (n == words[i].l || d[words[i].l] == ' '))
            return words[i].k;
    return K_OTHER;
}

/* --- the load loop --- */

static void conn_close(struct worker *w, struct conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        w->live--;
    }
    c->fd = -1;
    c->sent_ns = 0;
}

/* Start the next request on C unless the run is over. */
static void conn_send(struct worker *w, struct conn *c, uint64_t now)
{
    if (now >= t_stop_ns || interrupted) {
        conn_close(w, c);
        return;
    }
    if (max_lookups && atomic_fetch_add_explicit(&issued, 1, memory_order_relaxed) >= max_lookups) {
        conn_close(w, c);
        return;
    }
    c->sent_ns = now;
    c->wr_off = 0;
    size_t i = c->key;
    c->key = i + 1 == nreq ? 0 : i + 1;
    const char *p = req_buf + req_off[i];
    size_t len = req_off[i + 1] - req_off[i];
    ssize_t r = write(c->fd, p, len);
    if (r == (ssize_t)len)
        return;
    if (r < 0 && errno != EAGAIN) {
        w->st.closed++;
        conn_close(w, c);
        return;
    }
    /* Partial write (rare: requests are small): finish on EPOLLOUT. */
    c->wr_off = r > 0 ? (size_t)r : 0;
    c->key = i; /* remember which request is pending */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_flush(struct worker *w, struct conn *c)
{
    size_t i = c->key;
    const char *p = req_buf + req_off[i] + c->wr_off;
    size_t len = req_off[i + 1] - req_off[i] - c->wr_off;
    ssize_t r = write(c->fd, p, len);
    if (r < 0 && errno == EAGAIN)
        return;
    if (r < 0) {
        w->st.closed++;
        conn_close(w, c);
        return;
    }
    c->wr_off += (size_t)r;
    if ((size_t)r == len) {
        c->key = i + 1 == nreq ? 0 : i + 1;
        c->wr_off = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
}

static void conn_read(struct worker *w, struct conn *c)
{
    if (c->in_cap - c->in_len < 512) {
        size_t ncap = c->in_cap * 2;
        if (ncap > MAX_REPLY + 16)
            ncap = MAX_REPLY + 16;
        if (ncap <= c->in_len) {
            w->st.malformed++;
            conn_close(w, c);
            return;
        }
        char *n = realloc(c->in, ncap);
        if (!n) {
            perror("realloc");
            exit(1);
        }
        c->in = n, c->in_cap = ncap;
    }
    ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        w->st.closed++;
        conn_close(w, c);
        return;
    }
    c->in_len += (size_t)r;
    const char *d;
    size_t dlen;
    long used = netstring_complete(c->in, c->in_len, &d, &dlen);
    if (used == 0)
        return;
    if (used < 0 || !c->sent_ns || (size_t)used != c->in_len) { /* garbage, unasked or extra */
        w->st.malformed++;
        conn_close(w, c);
        return;
    }
    uint64_t now = now_ns(), lat = now - c->sent_ns;
    enum kind k = classify(d, dlen);
    if (c->sent_ns >= t_measure_ns) {
        w->st.hist[hist_index(lat)]++;
        w->st.kinds[k]++;
        w->st.done++;
        if (lat > w->st.max_ns)
            w->st.max_ns = lat;
        w->st.last_reply_ns = now;
    } else {
        w->st.warm++;
    }
    c->in_len = 0;
    c->sent_ns = 0;
    conn_send(w, c, now);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[256];
    uint64_t last_scan = now_ns();
    for (size_t i = 0; i < w->nconns; i++) {
        w->live += w->conns[i].fd >= 0;
        if (w->conns[i].fd >= 0)
            conn_send(w, &w->conns[i], now_ns());
    }
    while (w->live) {
        int n = epoll_wait(w->ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (evs[i].events & EPOLLOUT)
                conn_flush(w, c);
            if (c->fd >= 0 && evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                conn_read(w, c);
        }
        uint64_t now = now_ns();
        if (now - last_scan > 100000000ull ||
            n <= 0) { /* timeouts, and stop when idle past the end */
            last_scan = now;
            for (size_t i = 0; i < w->nconns; i++) {
                struct conn *c = &w->conns[i];
                if (c->fd < 0)
                    continue;
                if (c->sent_ns && now - c->sent_ns > timeout_ns) {
                    w->st.timeouts++;
                    conn_close(w, c);
                } else if (!c->sent_ns && (now >= t_stop_ns || interrupted)) {
                    conn_close(w, c);
                }
            }
        }
    }
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* --first: one answered lookup as soon as the server is up. */
static int first_answer(double wait_s)
{
    uint64_t deadline = now_ns() + (uint64_t)(wait_s * 1e9);
    char in[MAX_REPLY + 16];
    while (now_ns() < deadline) {
        int fd = bench_connect(&target, false);
        if (fd < 0) {
            usleep(1000);
            continue;
        }
        size_t len = req_off[1] - req_off[0];
        if (write(fd, req_buf, len) != (ssize_t)len) {
            close(fd);
            usleep(1000);
            continue;
        }
        size_t have = 0;
        for (;;) {
            int ms = (int)((deadline - now_ns()) / 1000000);
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (ms <= 0 || poll(&p, 1, ms) <= 0)
                break;
            ssize_t r = read(fd, in + have, sizeof in - have);
            if (r <= 0)
                break;
            have += (size_t)r;
            const char *d;
            size_t dlen;
            long used = netstring_complete(in, have, &d, &dlen);
            if (used < 0)
                break;
            if (used > 0) {
                struct timespec rt;
                clock_gettime(CLOCK_REALTIME, &rt);
                printf("first_reply_unix_ns=%" PRIu64 " kind=%s\n",
                       (uint64_t)((uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec),
                       kind_name[classify(d, dlen)]);
                close(fd);
                return 0;
            }
        }
        close(fd);
        usleep(1000);
    }
    fprintf(stderr, "no answer within %.1f s\n", wait_s);
    return 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: sockmap_load [options] inet:ADDR:PORT|unix:PATH\n"
                    "  -c N      connections (default 16)\n"
                    "  -t N      client threads (default 1)\n"
                    "  -d SECS   measured duration (default 5)\n"
                    "  -w SECS   warm-up before measuring (default 0.5, 0 with -n)\n"
                    "  -n COUNT  stop after COUNT lookups (default: no limit)\n"
                    "  -T SECS   reply timeout (default 5)\n"
                    "  -m NAME   socketmap table name (default relay)\n"
                    "  -k FILE   keys, one per line (default: generated user<i>@dom<k>.test)\n"
                    "  -g COUNT  generated keys (default 100000)\n"
                    "  --first SECS  wait for one answered lookup, print its time, exit\n");
    exit(2);
}

static double num_arg(const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "bad number: %s\n", s);
        usage();
    }
    return v;
}

int main(int argc, char **argv)
{
    unsigned nconns = 16, nthreads = 1, gen_count = 100000;
    double dur = 5, warm = -1, first = -1;
    const char *map = "relay", *keyfile = NULL;
    static const struct option longopts[] = {{"first", required_argument, NULL, 'F'}, {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "c:t:d:w:n:T:m:k:g:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            nconns = (unsigned)num_arg(optarg, 1, MAX_CONNS);
            break;
        case 't':
            nthreads = (unsigned)num_arg(optarg, 1, MAX_THREADS);
            break;
        case 'd':
            dur = num_arg(optarg, 0.01, 3600);
            break;
        case 'w':
            warm = num_arg(optarg, 0, 600);
            break;
        case 'n':
            max_lookups = (uint64_t)num_arg(optarg, 1, 1e12);
            break;
        case 'T':
            timeout_ns = (uint64_t)(num_arg(optarg, 0.001, 600) * 1e9);
            break;
        case 'm':
            map = optarg;
            break;
        case 'k':
            keyfile = optarg;
            break;
        case 'g':
            gen_count = (unsigned)num_arg(optarg, 1, MAX_KEYS);
            break;
        case 'F':
            first = num_arg(optarg, 0.001, 600);
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1 || !*map || strlen(map) > 100)
        usage();
    if (warm < 0) /* with -n, every lookup counts; else skip connection start-up */
        warm = max_lookups ? 0 : 0.5;
    if (!bench_target_parse(argv[optind], &target))
        return 2;
    signal(SIGPIPE, SIG_IGN);
    build_requests(map, keyfile, gen_count);
    if (first >= 0)
        return first_answer(first);
    if (nthreads > nconns)
        nthreads = nconns;

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct worker *ws = calloc(nthreads, sizeof *ws);
    struct conn *conns = calloc(nconns, sizeof *conns);
    if (!ws || !conns) {
        perror("calloc");
        return 1;
    }
    uint64_t connfail = 0;
    for (unsigned i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        c->fd = bench_connect(&target, true);
        if (c->fd < 0) {
            if (connfail++ == 0)
                perror("connect");
        }
        c->key =
            (size_t)(((uint64_t)i * 7919u * 131u) % nreq); /* spread connections over the keys */
        c->in_cap = 4096;
        c->in = malloc(c->in_cap);
        if (!c->in) {
            perror("malloc");
            return 1;
        }
    }
    if (connfail == nconns) {
        fprintf(stderr, "no connection could be made\n");
        return 1;
    }
    t_start_ns = now_ns();
    t_measure_ns = t_start_ns + (uint64_t)(warm * 1e9);
    t_stop_ns = t_measure_ns + (uint64_t)(dur * 1e9);
    for (unsigned t = 0; t < nthreads; t++) {
        struct worker *w = &ws[t];
        w->conns = conns + (size_t)nconns * t / nthreads;
        w->nconns = (size_t)nconns * (t + 1) / nthreads - (size_t)nconns * t / nthreads;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        if (w->ep < 0) {
            perror("epoll_create1");
            return 1;
        }
        for (size_t i = 0; i < w->nconns; i++) {
            if (w->conns[i].fd < 0)
                continue;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->conns[i]};
            epoll_ctl(w->ep, EPOLL_CTL_ADD, w->conns[i].fd, &ev);
        }
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    struct stats all = {0};
    for (unsigned t = 0; t < nthreads; t++) {
        pthread_join(ws[t].tid, NULL);
        struct stats *s = &ws[t].st;
        for (unsigned i = 0; i < HIST_BUCKETS; i++)
            all.hist[i] += s->hist[i];
        for (unsigned k = 0; k < K_NKINDS; k++)
            all.kinds[k] += s->kinds[k];
        all.done += s->done;
        all.warm += s->warm;
        all.malformed += s->malformed;
        all.closed += s->closed;
        all.timeouts += s->timeouts;
        if (s->max_ns > all.max_ns)
            all.max_ns = s->max_ns;
        if (s->last_reply_ns > all.last_reply_ns)
            all.last_reply_ns = s->last_reply_ns;
    }
    /* Rate over the measured window: from its start to the last counted reply. */
    double secs =
        all.last_reply_ns > t_measure_ns ? (double)(all.last_reply_ns - t_measure_ns) / 1e9 : 0;
    double rate = secs > 0 ? (double)all.done / secs : 0;
    printf("conns=%u threads=%u secs=%.3f lookups=%" PRIu64 " rate=%.0f p50_us=%.1f p99_us=%.1f "
           "max_us=%.1f",
           nconns, nthreads, secs, all.done, rate, hist_quantile(all.hist, all.done, 0.50) / 1e3,
           hist_quantile(all.hist, all.done, 0.99) / 1e3, all.max_ns / 1e3);
    for (unsigned k = 0; k < K_NKINDS; k++)
        printf(" %s=%" PRIu64, kind_name[k], all.kinds[k]);
    printf(" malformed=%" PRIu64 " closed=%" PRIu64 " timeouts=%" PRIu64 " connfail=%" PRIu64
           " warm=%" PRIu64 "\n",
           all.malformed, all.closed, all.timeouts, connfail, all.warm);
    for (unsigned i = 0; i < nconns; i++) {
        if (conns[i].fd >= 0)
            close(conns[i].fd);
        free(conns[i].in);
    }
    for (unsigned t = 0; t < nthreads; t++)
        close(ws[t].ep);
    free(conns);
    free(ws);
    return all.done > 0 && !all.malformed && !all.timeouts && !all.closed && !connfail ? 0 : 1;
}
