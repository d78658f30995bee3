/* ratelimit_redis.c - the fixed-window store in Redis, so several relays share
 * one budget. One Lua script per take keeps check-and-add atomic across all
 * clients. hiredis contexts are not thread-safe: each thread keeps its own. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "ratelimit.h"

/* KEYS[1] counter; ARGV: n, limit, commit (0/1), ttl. 1 = fits, 0 = exceeded. */
static const char script[] =
    "local v = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "local n = tonumber(ARGV[1]) "
    "if v + n > tonumber(ARGV[2]) then return 0 end "
    "if ARGV[3] == '1' then "
    "  redis.call('INCRBY', KEYS[1], n) "
    "  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4])) "
    "end "
    "return 1";

struct redis_store {
    struct rl_store base; /* first */
    unsigned long id;     /* tells a thread its cached connection is for another store */
    char host[256];
    int port;             /* 0: unix socket at host */
    unsigned timeout_ms, retry_ms;
    char prefix[80];
    char label[300]; /* the address as configured, for logs */
};

/* This thread's connection. */
static __thread struct {
    unsigned long id;
    redisContext *ctx;
    struct timespec retry_after;
} conn;

static atomic_ulong next_id = 1;

static struct timespec ms_from_now(unsigned ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L)
        t.tv_sec++, t.tv_nsec -= 1000000000L;
    return t;
}

static bool passed(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void drop(const struct redis_store *r, const char *what)
{
    if (conn.ctx) {
        msg_warn("redis %s: %s: %s; rate limits use the fail mode for %u ms", r->label, what,
                 conn.ctx->errstr[0] ? conn.ctx->errstr : "error", r->retry_ms);
        redisFree(conn.ctx);
    } else {
        msg_warn("redis %s: %s", r->label, what);
    }
    conn.ctx = NULL;
    conn.retry_after = ms_from_now(r->retry_ms);
}

static redisContext *connection(const struct redis_store *r)
{
    struct timeval tv = {.tv_sec = r->timeout_ms / 1000,
                         .tv_usec = (suseconds_t)(r->timeout_ms % 1000) * 1000};

    if (conn.id != r->id) { /* a reload replaced the store */
        if (conn.ctx)
            redisFree(conn.ctx);
        conn.ctx = NULL;
        conn.id = r->id;
        conn.retry_after = (struct timespec){0};
    }
    if (conn.ctx)
        return conn.ctx;
    if (!passed(&conn.retry_after))
        return NULL;
    conn.ctx = r->port ? redisConnectWithTimeout(r->host, r->port, tv)
                       : redisConnectUnixWithTimeout(r->host, tv);
    if (conn.ctx == NULL) {
        drop(r, "out of memory");
        return NULL;
    }
    if (conn.ctx->err || redisSetTimeout(conn.ctx, tv) != REDIS_OK) {
        drop(r, "connect");
        return NULL;
    }
    return conn.ctx;
}

static enum rl_result redis_take(struct rl_store *st, const struct rl_take *t)
{
    const struct redis_store *r = (const struct redis_store *)st;
    char key[RL_MAX_KEY + 128], n[24], limit[24], ttl[24];
    long long slot = (long long)(t->now / (time_t)t->window);
    redisContext *ctx;
    redisReply *rep;
    enum rl_result res;

    if (t->window == 0)
        return RL_UNAVAILABLE;
    if ((ctx = connection(r)) == NULL)
        return RL_UNAVAILABLE;
    snprintf(key, sizeof(key), "%s%s:%lld", r->prefix, t->key, slot);
    snprintf(n, sizeof(n), "%u", t->n);
    snprintf(limit, sizeof(limit), "%u", t->limit);
    /* Keep a window's key one window longer than it matters: clocks differ a little. */
    snprintf(ttl, sizeof(ttl), "%u", t->window * 2 > t->window ? t->window * 2 : t->window);
    rep = redisCommand(ctx, "EVAL %s 1 %s %s %s %s %s", script, key, n, limit,
                       t->commit ? "1" : "0", ttl);
    if (rep == NULL) {
        drop(r, "command");
        return RL_UNAVAILABLE;
    }
    if (rep->type == REDIS_REPLY_INTEGER)
        res = rep->integer == 1 ? RL_OK : RL_EXCEEDED;
    else {
        msg_warn("redis: unexpected reply type %d%s%.120s", rep->type,
                 rep->type == REDIS_REPLY_ERROR ? ": " : "",
                 rep->type == REDIS_REPLY_ERROR && rep->str ? rep->str : "");
        res = RL_UNAVAILABLE;
    }
    freeReplyObject(rep);
    return res;
}

static void redis_free(struct rl_store *st)
{
    free(st); /* threads drop their connection when they see another id */
}

/* "inet:HOST:PORT", "inet:[V6]:PORT" or "unix:PATH". */
static bool parse_address(const char *a, struct redis_store *r, const char **why)
{
    const char *colon;
    char *end;
    long port;

    if (strncmp(a, "unix:", 5) == 0) {
        if (a[5] != '/' || strlen(a + 5) >= sizeof(r->host)) {
            *why = "unix: needs an absolute path";
            return false;
        }
        strcpy(r->host, a + 5);
        r->port = 0;
        return true;
    }
    if (strncmp(a, "inet:", 5) != 0 || (colon = strrchr(a + 5, ':')) == NULL) {
        *why = "write inet:HOST:PORT or unix:PATH";
        return false;
    }
    port = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || port < 1 || port > 65535) {
        *why = "port must be 1-65535";
        return false;
    }
    a += 5;
    if (*a == '[' && colon > a + 1 && colon[-1] == ']')
        a++, colon--;
    if (colon == a || (size_t)(colon - a) >= sizeof(r->host)) {
        *why = "missing or overlong host";
        return false;
    }
    memcpy(r->host, a, (size_t)(colon - a));
    r->host[colon - a] = 0;
    r->port = (int)port;
    return true;
}

struct rl_store *rl_redis_new(const char *address, unsigned timeout_ms, unsigned retry_ms,
                              const char *prefix, const char **why)
{
    struct redis_store *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        *why = "out of memory";
        return NULL;
    }
    if (!parse_address(address, r, why) || strlen(prefix) >= sizeof(r->prefix)) {
        if (strlen(prefix) >= sizeof(r->prefix))
            *why = "key prefix too long";
        free(r);
        return NULL;
    }
    strcpy(r->prefix, prefix);
    snprintf(r->label, sizeof(r->label), "%s", address);
    r->timeout_ms = timeout_ms ? timeout_ms : 1;
    r->retry_ms = retry_ms;
    r->id = atomic_fetch_add(&next_id, 1);
    r->base.take = redis_take;
    r->base.free = redis_free;
    return &r->base;
}
