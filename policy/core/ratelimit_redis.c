/* ratelimit_redis.c - the fixed-window store in Redis, so several relays share
 * one budget. One Lua script per take keeps check-and-add atomic across all
 * clients, also over several keys. hiredis contexts are not thread-safe: each
 * thread keeps its own. (Redis Cluster would need the keys in one hash slot.) */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "ratelimit.h"

/* KEYS[i] counters; ARGV[4i-3..4i]: n, limit, commit (0/1), ttl. Checks all
 * before adding any: 0 = all fit (and were added), i = KEYS[i] exceeded. */
static const char script[] =
    "for i = 1, #KEYS do "
    "  local v = tonumber(redis.call('GET', KEYS[i]) or '0') "
    "  if v + tonumber(ARGV[4*i-3]) > tonumber(ARGV[4*i-2]) then return i end "
    "end "
    "for i = 1, #KEYS do "
    "  if ARGV[4*i-1] == '1' then "
    "    redis.call('INCRBY', KEYS[i], tonumber(ARGV[4*i-3])) "
    "    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[4*i])) "
    "  end "
    "end "
    "return 0";

struct redis_store {
    struct rl_store base; /* first */
    unsigned long id;     /* tells a thread its cached connection is for another store */
    char host[256];
    int port; /* 0: unix socket at host */
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
static pthread_key_t conn_key; /* its destructor closes a thread's connection at its exit */
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

static void conn_close(void *unused)
{
    (void)unused;
    if (conn.ctx)
        redisFree(conn.ctx);
    conn.ctx = NULL;
}

static void conn_key_init(void)
{
    if (pthread_key_create(&conn_key, conn_close) != 0)
        msg_warn("redis: no thread-exit hook: a thread's connection stays open until exit");
}

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
    pthread_once(&conn_once, conn_key_init);
    pthread_setspecific(conn_key, &conn); /* any non-NULL value: run conn_close at exit */
    return conn.ctx;
}

/* One EVAL over every key: atomic across all clients sharing the Redis. */
static enum rl_result redis_take(struct rl_store *st, const struct rl_take *t, size_t n,
                                 size_t *failed)
{
    const struct redis_store *r = (const struct redis_store *)st;
    enum { KEY_CAP = RL_MAX_KEY + 128, NUM_CAP = 24 };
    struct arg {
        char key[KEY_CAP], num[4][NUM_CAP];
    } * a;
    const char *argv[3 + RL_MAX_TAKES * 5];
    char nkeys[NUM_CAP];
    size_t argc = 0;
    redisContext *ctx;
    redisReply *rep;
    enum rl_result res;

    for (size_t i = 0; i < n; i++)
        if (t[i].window == 0)
            return RL_UNAVAILABLE;
    if ((ctx = connection(r)) == NULL || (a = calloc(n, sizeof(*a))) == NULL)
        return RL_UNAVAILABLE;
    snprintf(nkeys, sizeof(nkeys), "%zu", n);
    argv[argc++] = "EVAL";
    argv[argc++] = script;
    argv[argc++] = nkeys;
    for (size_t i = 0; i < n; i++) {
        snprintf(a[i].key, KEY_CAP, "%s%s:%lld", r->prefix, t[i].key,
                 (long long)(t[i].now / (time_t)t[i].window));
        argv[argc++] = a[i].key;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(a[i].num[0], NUM_CAP, "%u", t[i].n);
        snprintf(a[i].num[1], NUM_CAP, "%u", t[i].limit);
        snprintf(a[i].num[2], NUM_CAP, "%d", t[i].commit ? 1 : 0);
        /* Keep a window's key one window longer than it matters: clocks differ a little. */
        snprintf(a[i].num[3], NUM_CAP, "%u",
                 t[i].window * 2 > t[i].window ? t[i].window * 2 : t[i].window);
        for (int j = 0; j < 4; j++)
            argv[argc++] = a[i].num[j];
    }
    rep = redisCommandArgv(ctx, (int)argc, argv, NULL);
    free(a);
    if (rep == NULL) {
        drop(r, "command");
        return RL_UNAVAILABLE;
    }
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 0 && (size_t)rep->integer <= n) {
        res = rep->integer == 0 ? RL_OK : RL_EXCEEDED;
        if (rep->integer > 0)
            *failed = (size_t)rep->integer - 1;
    } else if (rep->type == REDIS_REPLY_ERROR && rep->str && strncmp(rep->str, "OOM", 3) == 0) {
        /* maxmemory reached with noeviction: full, as a full in-process table
         * is: deferred whatever the fail mode, or a flood would switch limits off */
        msg_warn("redis %s: %.120s; new counters are deferred", r->label, rep->str);
        res = RL_FULL;
    } else {
        msg_warn("redis: unexpected reply type %d%s%.120s", rep->type,
                 rep->type == REDIS_REPLY_ERROR ? ": " : "",
                 rep->type == REDIS_REPLY_ERROR && rep->str ? rep->str : "");
        res = RL_UNAVAILABLE;
    }
    freeReplyObject(rep);
    return res;
}

/* PREFIX KEY:SLOT, as redis_take names a counter. */
static void redis_key(const struct redis_store *r, const struct rl_take *t, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s:%lld", r->prefix, t->key, (long long)(t->now / (time_t)t->window));
}

/* One command on this thread's connection; NULL (connection dropped) on trouble. */
static redisReply *command(const struct redis_store *r, int argc, const char **argv)
{
    redisContext *ctx = connection(r);
    redisReply *rep;

    if (ctx == NULL)
        return NULL;
    if ((rep = redisCommandArgv(ctx, argc, argv, NULL)) == NULL)
        drop(r, "command");
    else if (rep->type == REDIS_REPLY_ERROR) {
        msg_warn("redis %s: %.120s", r->label, rep->str ? rep->str : "error");
        freeReplyObject(rep);
        rep = NULL;
    }
    return rep;
}

/* EACH of N keys as one MGET or DEL; VERB's reply into *REP. */
static enum rl_result keys_command(const struct redis_store *r, const char *verb,
                                   const struct rl_take *t, size_t n, redisReply **rep)
{
    char(*keys)[RL_MAX_KEY + 128] = calloc(n ? n : 1, sizeof(*keys));
    const char **argv = calloc(n + 1, sizeof(*argv));
    enum rl_result res = RL_UNAVAILABLE;

    if (keys && argv) {
        argv[0] = verb;
        for (size_t i = 0; i < n; i++) {
            if (t[i].window == 0)
                goto out;
            redis_key(r, &t[i], keys[i], sizeof(keys[i]));
            argv[i + 1] = keys[i];
        }
        if ((*rep = command(r, (int)n + 1, argv)) != NULL)
            res = RL_OK;
    }
out:
    free(keys);
    free(argv);
    return res;
}

static enum rl_result redis_peek(struct rl_store *st, const struct rl_take *t, size_t n,
                                 unsigned long *count)
{
    redisReply *rep = NULL;
    enum rl_result res = keys_command((const struct redis_store *)st, "MGET", t, n, &rep);

    if (res != RL_OK)
        return res;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n)
        res = RL_UNAVAILABLE;
    for (size_t i = 0; res == RL_OK && i < n; i++) {
        const redisReply *e = rep->element[i];
        count[i] = e->type == REDIS_REPLY_STRING && e->str ? strtoul(e->str, NULL, 10) : 0;
    }
    freeReplyObject(rep);
    return res;
}

static enum rl_result redis_reset(struct rl_store *st, const struct rl_take *t, size_t n)
{
    redisReply *rep = NULL;
    enum rl_result res = keys_command((const struct redis_store *)st, "DEL", t, n, &rep);

    if (res == RL_OK)
        freeReplyObject(rep);
    return res;
}

#define LIST_SCANS 64 /* SCAN calls of one list: a bounded walk, also of a huge keyspace */

/* A counter's name back from Redis: PREFIX KEY:SLOT. */
static void list_one(const struct redis_store *r, const char *name, unsigned long count,
                     rl_each_fn *each, void *ctx)
{
    size_t pl = strlen(r->prefix);
    const char *colon = strrchr(name, ':');
    char key[RL_MAX_KEY];

    if (strncmp(name, r->prefix, pl) != 0 || colon == NULL || colon < name + pl ||
        (size_t)(colon - name - pl) >= sizeof(key))
        return;
    memcpy(key, name + pl, (size_t)(colon - name - pl));
    key[colon - name - pl] = 0;
    each(ctx, key, strtoll(colon + 1, NULL, 10), count);
}

static enum rl_result redis_list(struct rl_store *st, size_t max, rl_each_fn *each, void *ctx,
                                 size_t *more)
{
    const struct redis_store *r = (const struct redis_store *)st;
    char cursor[32] = "0", match[2 * sizeof(r->prefix) + 2];
    size_t w = 0, shown = 0;

    *more = 0;
    for (const char *p = r->prefix; *p; p++) { /* the prefix as a literal glob */
        if (strchr("*?[]\\", *p))
            match[w++] = '\\';
        match[w++] = *p;
    }
    strcpy(match + w, "*");
    for (int scans = 0; scans < LIST_SCANS; scans++) {
        const char *argv[] = {"SCAN", cursor, "MATCH", match, "COUNT", "500"};
        redisReply *rep = command(r, 6, argv), *keys;

        if (rep == NULL)
            return RL_UNAVAILABLE;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING ||
            rep->element[1]->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(rep);
            return RL_UNAVAILABLE;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            const char *get[] = {"GET", keys->element[i]->str};
            redisReply *v;
            if (keys->element[i]->type != REDIS_REPLY_STRING)
                continue;
            if (shown == max) {
                (*more)++;
                continue;
            }
            if ((v = command(r, 2, get)) == NULL) {
                freeReplyObject(rep);
                return RL_UNAVAILABLE;
            }
            if (v->type == REDIS_REPLY_STRING && v->str) {
                list_one(r, keys->element[i]->str, strtoul(v->str, NULL, 10), each, ctx);
                shown++;
            }
            freeReplyObject(v);
        }
        freeReplyObject(rep);
        if (strcmp(cursor, "0") == 0)
            return RL_OK;
    }
    (*more)++; /* the walk stopped before the end: at least one more */
    return RL_OK;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void redis_status(struct rl_store *st, char *buf, size_t cap)
{
    const struct redis_store *r = (const struct redis_store *)st;
    struct timeval tv = {.tv_sec = r->timeout_ms / 1000,
                         .tv_usec = (suseconds_t)(r->timeout_ms % 1000) * 1000};
    redisContext *ctx = r->port ? redisConnectWithTimeout(r->host, r->port, tv)
                                : redisConnectUnixWithTimeout(r->host, tv);
    redisReply *rep = NULL;
    struct timespec t0;
    double ms = 0;

    if (ctx && !ctx->err && redisSetTimeout(ctx, tv) == REDIS_OK) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rep = redisCommand(ctx, "PING");
        ms = ms_since(&t0);
    }
    if (rep && rep->type == REDIS_REPLY_STATUS && rep->str && strcmp(rep->str, "PONG") == 0)
        snprintf(buf, cap, "redis %s reachable ping_ms=%.3f timeout_ms=%u", r->label, ms,
                 r->timeout_ms);
    else
        snprintf(buf, cap, "redis %s unreachable (%s) timeout_ms=%u", r->label,
                 ctx == NULL                                         ? "out of memory"
                 : ctx->err                                          ? ctx->errstr
                 : rep && rep->type == REDIS_REPLY_ERROR && rep->str ? rep->str
                                                                     : "no PONG",
                 r->timeout_ms);
    if (rep)
        freeReplyObject(rep);
    if (ctx)
        redisFree(ctx);
}

static void redis_free(struct rl_store *st)
{
    if (conn.id == ((struct redis_store *)st)->id)
        conn_close(NULL); /* the calling thread's; others drop theirs on the next id or exit */
    free(st);
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
    r->base.peek = redis_peek;
    r->base.reset = redis_reset;
    r->base.list = redis_list;
    r->base.status = redis_status;
    return &r->base;
}
