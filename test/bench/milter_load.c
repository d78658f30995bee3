/* milter_load.c - closed-loop load client for a milter, without an MTA.
 *
 * Speaks the milter protocol (version 6) as Postfix does for smtpd_milters:
 * option negotiation, CONNECT, HELO, then per message the MAIL macros, MAIL,
 * RCPT/DATA/headers/EOH/body only where the milter did not negotiate them
 * away, and end of message, reading the milter's edits up to its final
 * answer. N connections (one thread each, blocking sockets), each sending the
 * next message as soon as the previous one is answered. Each message carries
 * one internal and one external Received, X-Mailer, From, To, Subject, and no
 * Date or Message-ID, so a privacy-configured milter has real work to do.
 * Runs -d seconds after -w seconds of warm-up (both bounded), then prints
 * messages/s and p50/p99/max latency (MAIL to final answer) in microseconds.
 *
 *   milter_load -c CONNS -d SECS [-w SECS] unix:PATH | inet:127.0.0.1:PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_args.h"
#include "bench_net.h"

#define MAX_CONNS   256
#define MAX_SAMPLES 2000000 /* per thread, bounded */
#define MAX_PACKET  65536

/* protocol constants (libmilter's mfdef.h; spelled out so the client needs no libmilter) */
#define P_NOCONNECT 0x1UL
#define P_NOHELO    0x2UL
#define P_NOMAIL    0x4UL
#define P_NORCPT    0x8UL
#define P_NOBODY    0x10UL
#define P_NOHDRS    0x20UL
#define P_NOEOH     0x40UL
#define P_NR_HDR    0x80UL
#define P_NODATA    0x200UL
#define P_NR_CONN   0x1000UL
#define P_NR_HELO   0x2000UL
#define P_NR_MAIL   0x4000UL
#define P_NR_RCPT   0x8000UL
#define P_NR_DATA   0x10000UL
#define P_NR_EOH    0x40000UL
#define P_NR_BODY   0x80000UL
#define P_OFFERED   0x1fffffUL /* every step and no-reply option of protocol 6 */
#define A_ALL       0x1ffUL    /* every action */

struct worker {
    pthread_t th;
    int id;
    uint32_t *lat_us;
    size_t n;
    uint64_t errors, rejects, edits;
};

static struct bench_target target;
static atomic_int phase; /* 0 warm-up, 1 measuring, 2 stop */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        len -= (size_t)w;
    }
    return true;
}

static bool read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        len -= (size_t)r;
    }
    return true;
}

static bool send_pkt(int fd, char cmd, const void *data, size_t len)
{
    char buf[MAX_PACKET];
    uint32_t n = htonl((uint32_t)len + 1);

    if (len + 5 > sizeof(buf))
        return false;
    memcpy(buf, &n, 4);
    buf[4] = cmd;
    memcpy(buf + 5, data, len);
    return write_all(fd, buf, len + 5);
}

/* One packet: its command in *CMD, its data (at most CAP bytes) in BUF. */
static bool recv_pkt(int fd, char *cmd, char *buf, size_t cap, size_t *len)
{
    uint32_t n;

    if (!read_all(fd, &n, 4))
        return false;
    n = ntohl(n);
    if (n < 1 || n - 1 > cap || !read_all(fd, cmd, 1))
        return false;
    *len = n - 1;
    return read_all(fd, buf, *len);
}

/* "name\0value\0" pairs built up in a buffer */
struct pkt {
    char b[4096];
    size_t n;
};

static void put(struct pkt *p, const char *s)
{
    size_t l = strlen(s) + 1;
    if (p->n + l <= sizeof(p->b)) {
        memcpy(p->b + p->n, s, l);
        p->n += l;
    }
}

static bool ask(int fd, char cmd, const struct pkt *p, bool reply, char *answer)
{
    char buf[MAX_PACKET];
    size_t len;

    *answer = 'c';
    if (!send_pkt(fd, cmd, p ? p->b : "", p ? p->n : 0))
        return false;
    return !reply || recv_pkt(fd, answer, buf, sizeof(buf), &len);
}

static int session(unsigned long *proto)
{
    uint32_t neg[3] = {htonl(6), htonl(A_ALL), htonl(P_OFFERED)};
    char cmd, buf[MAX_PACKET];
    size_t len;
    struct pkt p = {.n = 0};
    int fd = bench_connect(&target, false);

    if (fd < 0)
        return -1;
    if (!send_pkt(fd, 'O', neg, sizeof(neg)) || !recv_pkt(fd, &cmd, buf, sizeof(buf), &len) ||
        cmd != 'O' || len < 12) {
        close(fd);
        return -1;
    }
    memcpy(neg, buf, 12);
    *proto = ntohl(neg[2]);
    put(&p, "client.example");
    p.b[p.n++] = '4';
    p.b[p.n++] = 0x30; /* port 12345, network order */
    p.b[p.n++] = 0x39;
    put(&p, "192.0.2.10");
    if (!(*proto & P_NOCONNECT) && (!ask(fd, 'C', &p, !(*proto & P_NR_CONN), &cmd) || cmd != 'c')) {
        close(fd);
        return -1;
    }
    p.n = 0;
    put(&p, "client.example");
    if (!(*proto & P_NOHELO) && (!ask(fd, 'H', &p, !(*proto & P_NR_HELO), &cmd) || cmd != 'c')) {
        close(fd);
        return -1;
    }
    return fd;
}

static const char *const hdrs[][2] = {
    {"Received", "from pc7.lan (pc7.lan [10.1.2.3]) by gw.example.org with ESMTP id 1; "
                 "Mon, 1 Jan 2024 00:00:00 +0000"},
    {"Received", "from mail.example.net (mail.example.net [203.0.113.5]) by gw.example.org; "
                 "Mon, 1 Jan 2024 00:00:00 +0000"},
    {"X-Mailer", "bench 1.0"},
    {"From", "Alice <alice@example.org>"},
    {"To", "bob@example.net"},
    {"Subject", "milter load"},
};

/* One message; true when the milter gave a final answer. */
static bool message(int fd, unsigned long proto, unsigned seq, struct worker *w)
{
    struct pkt p = {.n = 0};
    char cmd, buf[MAX_PACKET], qid[32];
    size_t len;

    snprintf(qid, sizeof(qid), "Q%08X%04X", seq, (unsigned)w->id);
    p.b[p.n++] = 'M';
    put(&p, "i");
    put(&p, qid);
    if (!send_pkt(fd, 'D', p.b, p.n))
        return false;
    p.n = 0;
    put(&p, "<alice@example.org>");
    if (!(proto & P_NOMAIL) && (!ask(fd, 'M', &p, !(proto & P_NR_MAIL), &cmd) || cmd != 'c')) {
        w->rejects += cmd != 'c';
        return cmd != 0;
    }
    p.n = 0;
    put(&p, "<bob@example.net>");
    if (!(proto & P_NORCPT) && (!ask(fd, 'R', &p, !(proto & P_NR_RCPT), &cmd) || cmd != 'c'))
        return false;
    if (!(proto & P_NODATA) && (!ask(fd, 'T', NULL, !(proto & P_NR_DATA), &cmd) || cmd != 'c'))
        return false;
    for (size_t i = 0; !(proto & P_NOHDRS) && i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        p.n = 0;
        put(&p, hdrs[i][0]);
        put(&p, hdrs[i][1]);
        if (!ask(fd, 'L', &p, !(proto & P_NR_HDR), &cmd) || cmd != 'c')
            return false;
    }
    if (!(proto & P_NOEOH) && (!ask(fd, 'N', NULL, !(proto & P_NR_EOH), &cmd) || cmd != 'c'))
        return false;
    p.n = 0;
    memcpy(p.b, "body\r\n", 6);
    p.n = 6;
    if (!(proto & P_NOBODY) && (!ask(fd, 'B', &p, !(proto & P_NR_BODY), &cmd) || cmd != 'c'))
        return false;
    if (!send_pkt(fd, 'E', "", 0))
        return false;
    for (int k = 0; k < 1000; k++) {
        if (!recv_pkt(fd, &cmd, buf, sizeof(buf), &len))
            return false;
        if (strchr("caqrtdy", cmd)) {
            w->rejects += cmd != 'c' && cmd != 'a';
            return true;
        }
        w->edits++;
    }
    return false;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    unsigned long proto = 0;
    unsigned seq = 0;
    int fd = -1;

    while (atomic_load(&phase) < 2) {
        double t0;
        bool ok;
        if (fd < 0 && (fd = session(&proto)) < 0) {
            w->errors++;
            usleep(10000);
            continue;
        }
        uint64_t e0 = w->edits;
        t0 = now_s();
        ok = message(fd, proto, seq++, w);
        if (atomic_load(&phase) != 1)
            w->edits = e0; /* count edits of measured messages only */
        if (!ok) {
            w->errors++;
            close(fd);
            fd = -1;
            continue;
        }
        if (atomic_load(&phase) == 1 && w->n < MAX_SAMPLES)
            w->lat_us[w->n++] = (uint32_t)((now_s() - t0) * 1e6);
    }
    if (fd >= 0) {
        send_pkt(fd, 'Q', "", 0);
        close(fd);
    }
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static struct worker ws[MAX_CONNS];
    struct bench_loop_args args = {.conns = 8, .run_s = 5, .warm_s = 1};
    size_t total = 0, k = 0;
    uint64_t errors = 0, rejects = 0, edits = 0;
    uint32_t *all;

    if (!bench_loop_args(argc, argv, MAX_CONNS, &args) || !bench_target_parse(args.target, &target))
        goto usage;
    for (int i = 0; i < args.conns; i++) {
        ws[i].id = i;
        if ((ws[i].lat_us = malloc(MAX_SAMPLES * sizeof(uint32_t))) == NULL ||
            pthread_create(&ws[i].th, NULL, run, &ws[i]) != 0) {
            perror("milter_load");
            return 1;
        }
    }
    usleep((useconds_t)(args.warm_s * 1e6));
    atomic_store(&phase, 1);
    double t0 = now_s();
    usleep((useconds_t)(args.run_s * 1e6));
    atomic_store(&phase, 2);
    double el = now_s() - t0;
    for (int i = 0; i < args.conns; i++) {
        pthread_join(ws[i].th, NULL);
        total += ws[i].n;
        errors += ws[i].errors;
        rejects += ws[i].rejects;
        edits += ws[i].edits;
    }
    if (total == 0) {
        fprintf(stderr, "milter_load: no message completed (%llu errors)\n",
                (unsigned long long)errors);
        return 1;
    }
    all = malloc(total * sizeof(uint32_t));
    if (all == NULL)
        return 1;
    for (int i = 0; i < args.conns; i++) {
        memcpy(all + k, ws[i].lat_us, ws[i].n * sizeof(uint32_t));
        k += ws[i].n;
        free(ws[i].lat_us);
    }
    qsort(all, total, sizeof(uint32_t), cmp_u32);
    printf("conns=%d msgs=%zu secs=%.2f msg_per_s=%.0f p50_us=%u p99_us=%u max_us=%u "
           "edits_per_msg=%.1f rejects=%llu errors=%llu\n",
           args.conns, total, el, (double)total / el, all[total / 2], all[total * 99 / 100],
           all[total - 1], (double)edits / (double)total, (unsigned long long)rejects,
           (unsigned long long)errors);
    free(all);
    return errors > 0 ? 2 : 0;
usage:
    fprintf(stderr, "usage: milter_load [-c CONNS] [-d SECS] [-w SECS] unix:PATH|inet:IP:PORT\n");
    return 2;
}
