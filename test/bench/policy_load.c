/* policy_load.c - closed-loop load client for a Postfix policy delegation server.
 *
 * N persistent connections (one thread each, blocking sockets: simple, and the
 * same for every server measured), each sending one request and waiting for the
 * "action=...\n\n" reply before the next, as smtpd does. Requests vary the
 * sender and recipient (K distinct ones) so no server can answer from a cache
 * of identical requests. Runs -d seconds after -w seconds of warm-up, then
 * prints requests/s and p50/p99/max latency in microseconds.
 *
 *   policy_load -c CONNS -d SECS [-w SECS] inet:127.0.0.1:PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_args.h"

#define MAX_CONNS   1024
#define MAX_SAMPLES 2000000 /* per thread, bounded */
#define NREQ        256

struct worker {
    pthread_t th;
    int id;
    uint32_t *lat_us;
    size_t n;
    uint64_t errors;
};

static struct sockaddr_in target;
static uint64_t t_measure, t_stop;
static char reqs[NREQ][700];
static size_t reqlen[NREQ];

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    char buf[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct timeval tv = {.tv_sec = 5};

    if (fd < 0 || connect(fd, (struct sockaddr *)&target, sizeof(target)) < 0) {
        w->errors++;
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for (unsigned i = (unsigned)w->id;; i++) {
        uint64_t t0 = now_ns();
        size_t have = 0;
        const char *r = reqs[i % NREQ];

        if (t0 >= t_stop)
            break;
        if (write(fd, r, reqlen[i % NREQ]) != (ssize_t)reqlen[i % NREQ]) {
            w->errors++;
            break;
        }
        while (have < 2 || buf[have - 1] != '\n' || buf[have - 2] != '\n') {
            ssize_t n = read(fd, buf + have, sizeof(buf) - have);
            if (n <= 0 || (have += (size_t)n) == sizeof(buf)) {
                w->errors++;
                close(fd);
                return NULL;
            }
        }
        if (t0 >= t_measure && w->n < MAX_SAMPLES)
            w->lat_us[w->n++] = (uint32_t)((now_ns() - t0) / 1000);
    }
    close(fd);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct bench_loop_args args = {.conns = 1, .run_s = 5, .warm_s = 1};
    char host[64];
    unsigned port;
    struct rlimit rl;

    if (!bench_loop_args(argc, argv, MAX_CONNS, &args) ||
        sscanf(args.target, "inet:%63[0-9.]:%u", host, &port) != 2 || port > 65535)
        goto usage;
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &target.sin_addr) != 1)
        goto usage;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)args.conns + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)args.conns + 64 ? rl.rlim_max : (rlim_t)args.conns + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int i = 0; i < NREQ; i++) /* what smtpd sends at RCPT, varied per request */
        reqlen[i] = (size_t)snprintf(
            reqs[i], sizeof(reqs[i]),
            "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            "helo_name=client%d.example\nqueue_id=\nsender=user%d@example.org\n"
            "recipient=rcpt%d@example.net\nrecipient_count=0\nclient_address=10.0.%d.%d\n"
            "client_name=client%d.example\nreverse_client_name=client%d.example\n"
            "instance=%x.%x.1\nsasl_method=plain\nsasl_username=alice@example.com\n"
            "sasl_sender=\nsize=12345\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
            "encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n"
            "encryption_keysize=256\netrn_domain=\nstress=\n\n",
            i, i, i, i / 200, i % 200 + 1, i, i, i, i);

    struct worker *w = calloc((size_t)args.conns, sizeof(*w));
    uint64_t t0 = now_ns(), errors = 0;
    t_measure = t0 + (uint64_t)(args.warm_s * 1e9);
    t_stop = t_measure + (uint64_t)(args.run_s * 1e9);
    for (int i = 0; i < args.conns; i++) {
        w[i].id = i;
        w[i].lat_us = malloc(MAX_SAMPLES * sizeof(uint32_t));
        pthread_create(&w[i].th, NULL, run, &w[i]);
    }
    size_t total = 0;
    for (int i = 0; i < args.conns; i++) {
        pthread_join(w[i].th, NULL);
        total += w[i].n;
        errors += w[i].errors;
    }
    uint32_t *all = malloc((total ? total : 1) * sizeof(uint32_t));
    size_t k = 0;
    for (int i = 0; i < args.conns; i++) {
        memcpy(all + k, w[i].lat_us, w[i].n * sizeof(uint32_t));
        k += w[i].n;
        free(w[i].lat_us);
    }
    qsort(all, total, sizeof(uint32_t), cmp);
    printf("conns=%d requests=%zu rps=%.0f p50_us=%u p99_us=%u max_us=%u errors=%llu\n", args.conns,
           total, (double)total / args.run_s, total ? all[total / 2] : 0,
           total ? all[(size_t)((double)total * 0.99)] : 0, total ? all[total - 1] : 0,
           (unsigned long long)errors);
    free(all);
    free(w);
    return errors ? 1 : 0;
usage:
    fprintf(stderr, "usage: policy_load [-c CONNS] [-d SECS] [-w SECS] inet:IPV4:PORT\n");
    return 2;
}
