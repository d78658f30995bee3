/* bench_net.h - socket endpoints for the benchmark tools: "inet:HOST:PORT" or "unix:PATH".
 *
 * Loopback benchmarking only; no name resolution (HOST is a numeric IPv4/IPv6 address).
 */
#ifndef BENCH_NET_H
#define BENCH_NET_H

#include <stdbool.h>
#include <sys/socket.h>

struct bench_target {
    struct sockaddr_storage addr;
    socklen_t len;
    bool inet;
};

/* false with a message on stderr when SPEC is not a numeric inet: or a unix: endpoint. */
bool bench_target_parse(const char *spec, struct bench_target *t);

/* Non-blocking (if NONBLOCK) connected socket, TCP_NODELAY on inet; -1 with errno set. */
int bench_connect(const struct bench_target *t, bool nonblock);

/* Non-blocking listening socket (a stale unix socket file is replaced); -1 with errno set. */
int bench_listen(const struct bench_target *t);

#endif
