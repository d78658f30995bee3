/* ratelimit.h - fixed-window counters behind one small store interface.
 *
 * A window of W seconds is the slot now / W (wall clock, so several hosts
 * sharing Redis agree on it). A burst of up to twice the limit can straddle a
 * window edge; that is the price of one counter per key. The store never sees
 * rules or requests, only keys and numbers; the clock is the caller's, so tests
 * inject it. Stores: in-process (this file) and Redis (ratelimit_redis.c).
 */
#ifndef SH_RATELIMIT_H
#define SH_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RL_MAX_KEY          600    /* limit name + counted value, bounded by SH_MAX_KEY */
#define RL_MEMORY_MAX_KEYS  200000 /* in-process counters ... */
#define RL_MEMORY_MAX_BYTES (64u * 1024 * 1024) /* ... and the memory they may take */

enum rl_result {
    RL_OK,          /* fits (and was added when commit) */
    RL_EXCEEDED,    /* N more would pass the limit; nothing added */
    RL_UNAVAILABLE, /* the store cannot answer (Redis down): the fail mode applies */
    RL_FULL,        /* no room for a new key until windows expire: always deferred */
};

struct rl_take {
    const char *key; /* printable, NUL-terminated, < RL_MAX_KEY */
    time_t now;
    unsigned window; /* seconds, >= 1 */
    unsigned n;      /* units to add */
    unsigned limit;  /* most units per window */
    bool commit;     /* false: only ask whether N more would fit */
};

#define RL_MAX_TAKES 128 /* counters in one rl_take_all(): 2 per policy limit */

/* One counter as the store holds it: KEY without the window, the window's
 * slot (now / window), the count. */
typedef void rl_each_fn(void *ctx, const char *key, long long slot, unsigned long count);

struct rl_store {
    enum rl_result (*take)(struct rl_store *st, const struct rl_take *t, size_t n, size_t *failed);
    void (*free)(struct rl_store *st);
    /* For the control socket, never on the request path. The count of each of
     * the N keys in the window of T[i] (0: none yet) into COUNT[i]. */
    enum rl_result (*peek)(struct rl_store *st, const struct rl_take *t, size_t n,
                           unsigned long *count);
    /* Remove the N keys' counters of the windows of T[i]. */
    enum rl_result (*reset)(struct rl_store *st, const struct rl_take *t, size_t n);
    /* Call EACH for at most MAX counters; *MORE: how many were left out
     * (the Redis store looks at a bounded number of keys: at least that many). */
    enum rl_result (*list)(struct rl_store *st, size_t max, rl_each_fn *each, void *ctx,
                           size_t *more);
    /* One line for status: memory keys used / cap, or Redis reachable and the
     * latency of a PING sent now on a fresh connection with the configured timeout. */
    void (*status)(struct rl_store *st, char *buf, size_t cap);
};

/* N counters in one atomic step: every take is checked first and only when
 * all fit are the committing ones added, so a limit that defers leaves the
 * others' counters untouched. RL_EXCEEDED sets *FAILED to the first take
 * that did not fit. N is 1..RL_MAX_TAKES. */
static inline enum rl_result rl_take_all(struct rl_store *st, const struct rl_take *t, size_t n,
                                         size_t *failed)
{
    *failed = 0;
    return n == 0 ? RL_OK : n > RL_MAX_TAKES ? RL_UNAVAILABLE : st->take(st, t, n, failed);
}

static inline enum rl_result rl_take(struct rl_store *st, const struct rl_take *t)
{
    size_t failed;

    return rl_take_all(st, t, 1, &failed);
}

static inline void rl_store_free(struct rl_store *st)
{
    if (st)
        st->free(st);
}

const char *rl_result_name(enum rl_result r);

/* In-process store: a mutex-guarded hash of counters, at most MAX_KEYS of them
 * and at most RL_MEMORY_MAX_BYTES. Expired counters are reclaimed as the
 * table fills (a full sweep at most once per second of the caller's clock);
 * when it is still full, a new key gets RL_FULL (existing keys keep counting)
 * and a warning is logged, rate-limited. Thread-safe. */
struct rl_store *rl_memory_new(size_t max_keys);

/* Redis store (hiredis). ADDRESS is "inet:HOST:PORT" or "unix:PATH";
 * connect and each command are bounded by TIMEOUT_MS; after a failure the
 * store answers RL_UNAVAILABLE without trying again for RETRY_MS, so a dead
 * Redis never costs every request a timeout. One connection per thread.
 * NULL with *why set when ADDRESS is malformed (nothing is connected here). */
struct rl_store *rl_redis_new(const char *address, unsigned timeout_ms, unsigned retry_ms,
                              const char *prefix, const char **why);

#endif
