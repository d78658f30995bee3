/* server.h - a generic event-driven connection server (epoll, worker threads).
 *
 * Knows sockets and buffers, nothing of socketmap or snapshots. Each listener
 * carries a protocol: a callback that consumes bytes of input and queues its
 * replies with sh_conn_send(). Socketmap is one protocol; the policy delegation
 * protocol (name=value lines) can be another listener kind of the same server.
 *
 * Each worker thread owns an epoll set and the connections it accepted; all
 * workers share the listeners. Connections are persistent, pipelined requests
 * in one read are answered in order, input and output buffers are bounded.
 * Every listener has its own connection cap, so a flood on one port cannot
 * lock clients out of another. Time limits: a connection idle between
 * requests is closed after the idle timeout; a request, once its first byte
 * arrived, must be complete within the request timeout (a peer trickling one
 * byte a second cannot hold a connection by resetting the idle timer).
 * Each listener counts (counter.h) connections accepted, refused at the cap,
 * closed for a malformed request and closed for a request that came too slowly.
 */
#ifndef SH_SERVER_H
#define SH_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sh_server;
struct sh_conn;

#define SH_INPUT_NEED_MORE 0    /* on_input: no complete request yet */
#define SH_INPUT_CLOSE     (-1) /* on_input: protocol error or trouble: disconnect */
#define SH_INPUT_DONE      (-2) /* on_input: answered; close once the reply is out, read no more */

struct sh_proto {
    const char *name; /* for logs: "socketmap" */
    size_t max_input; /* bytes of one whole request; a longer one is a protocol error */
    size_t max_reply; /* bytes of one whole reply */
    /* Seconds a connection may sit idle between requests when
     * sh_server_opts.idle_timeout is 0: what this protocol's clients expect
     * (0: SH_SERVER_DEFAULT_IDLE). */
    unsigned idle_timeout;
    /* Called with the unconsumed input (LEN > 0). Returns the number of bytes
     * consumed (> 0), SH_INPUT_NEED_MORE or SH_INPUT_CLOSE; called again while it
     * consumes, so pipelined requests are served from one read; SH_INPUT_DONE
     * ends the connection after the queued reply (one request per connection). WAKE is what
     * sh_server_opts.wake_begin returned for the current wakeup. */
    ssize_t (*on_input)(struct sh_conn *c, const char *buf, size_t len, void *wake);
    void (*on_close)(struct sh_conn *c); /* optional: free per-connection state */
};

struct sh_server_opts {
    unsigned threads;         /* worker threads, >= 1 */
    unsigned max_conns;       /* open connections at once per listener, all workers together */
    unsigned idle_timeout;    /* seconds idle between requests; 0: each protocol's own */
    unsigned request_timeout; /* seconds from a request's first byte to its last */
    /* Optional: called by a worker before it serves the first request of a
     * wakeup, and once after the wakeup with the value begin returned (e.g. to
     * pin the current configuration for a short time, never for long). */
    void *(*wake_begin)(void);
    void (*wake_end)(void *wake);
};

#define SH_SERVER_DEFAULT_THREADS   2
#define SH_SERVER_MAX_THREADS       64
#define SH_SERVER_DEFAULT_MAX_CONNS 4096
#define SH_SERVER_DEFAULT_IDLE      60
#define SH_SERVER_DEFAULT_REQUEST   5 /* a whole request within 5 s of its first byte */

struct sh_server *sh_server_new(const struct sh_server_opts *opts);
/* One listener: FDS are its NFDS non-blocking listening sockets (one endpoint
 * may bind several addresses), still owned by the caller; they share one
 * connection cap of opts.max_conns. NAME (copied) is for logs. */
bool sh_server_add_listener(struct sh_server *srv, const char *name, const int *fds, size_t nfds,
                            const struct sh_proto *proto);
/* Raise RLIMIT_NOFILE for every listener's cap and start the workers. Call with
 * the signals the main thread handles blocked, so workers never take them. */
bool sh_server_start(struct sh_server *srv);
/* Stop and join the workers, close every connection. Thread-safe once. */
void sh_server_stop(struct sh_server *srv);
void sh_server_free(struct sh_server *srv);

/* Each listener's name ("socketmap unix:/path"), open connections and cap, for
 * status; returns how many were written to OUT (at most CAP). Thread-safe. */
struct sh_listener_info {
    char name[64];
    unsigned conns, max;
};
size_t sh_server_listeners(const struct sh_server *srv, struct sh_listener_info *out, size_t cap);

/* Queue reply bytes; false when the output buffer bound is exceeded (the
 * caller returns SH_INPUT_CLOSE then). */
bool sh_conn_send(struct sh_conn *c, const void *data, size_t len);
const char *sh_conn_peer(const struct sh_conn *c); /* "127.0.0.1:4711", for logs */
/* The local user on the other end (unix socket, or loopback TCP), asked of the
 * kernel at the first call and remembered for the connection. false: not a
 * local peer, or its uid cannot be known. */
bool sh_conn_peer_uid(struct sh_conn *c, uid_t *uid);
void *sh_conn_data(const struct sh_conn *c);
void sh_conn_set_data(struct sh_conn *c, void *data);

#endif
