/* ratelimit.c - the in-process fixed-window store. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "msg.h"
#include "ratelimit.h"

#define FULL_LOG_SECONDS 10 /* at most one "table full" line per this many seconds */

const char *rl_result_name(enum rl_result r)
{
    switch (r) {
    case RL_OK:
        return "ok";
    case RL_EXCEEDED:
        return "exceeded";
    case RL_UNAVAILABLE:
        return "unavailable";
    case RL_FULL:
        return "full";
    }
    return "?";
}

struct counter {
    struct counter *next;
    time_t slot;    /* now / window of the count */
    time_t expires; /* end of that window: may be swept after */
    unsigned long count;
    char key[];
};

struct mem_store {
    struct rl_store base; /* first */
    pthread_mutex_t lock;
    struct counter **buckets;
    size_t nbuckets, nkeys, max_keys;
    size_t bytes, max_bytes; /* what the counters take */
    time_t last_sweep;       /* the clock second of the last full sweep */
    time_t last_warn;        /* ... and of the last "full" log line */
    unsigned long refused;   /* new keys refused since that line */
};

static size_t counter_size(size_t klen)
{
    return sizeof(struct counter) + klen + 1;
}

/* Keys are chosen by SMTP clients (a sender, a client address): the hash is
 * seeded per process, so nobody can precompute keys that share one bucket. */
static size_t hash(const char *s)
{
    return (size_t)sh_hash(s, strlen(s));
}

/* Drop the expired counters of one bucket. */
static void sweep_bucket(struct mem_store *m, struct counter **pp, time_t now)
{
    while (*pp) {
        struct counter *c = *pp;
        if (c->expires <= now) {
            *pp = c->next;
            m->bytes -= counter_size(strlen(c->key));
            free(c);
            m->nkeys--;
        } else {
            pp = &c->next;
        }
    }
}

static bool full(const struct mem_store *m, size_t klen)
{
    return m->nkeys >= m->max_keys || m->bytes + counter_size(klen) > m->max_bytes;
}

/* Room for a new key of KLEN bytes: when full, drop every expired counter, but
 * walk the whole table at most once per clock second (a flood of new keys must
 * not cost a full walk each). Still full: refuse, and say so now and then. */
static bool make_room(struct mem_store *m, size_t klen, time_t now)
{
    if (!full(m, klen))
        return true;
    if (now != m->last_sweep) {
        m->last_sweep = now;
        for (size_t i = 0; i < m->nbuckets; i++)
            sweep_bucket(m, &m->buckets[i], now);
        if (!full(m, klen))
            return true;
    }
    m->refused++;
    if (m->last_warn == 0 || now - m->last_warn >= FULL_LOG_SECONDS || now < m->last_warn) {
        msg_warn("rate limits: counter table full (%zu keys, %zu bytes): %lu new key(s) "
                 "deferred until their windows expire",
                 m->nkeys, m->bytes, m->refused);
        m->last_warn = now;
        m->refused = 0;
    }
    return false;
}

/* The counter for T in its current window, created at zero; NULL with *R set
 * when there is no room (RL_FULL) or no memory (RL_UNAVAILABLE). */
static struct counter *counter(struct mem_store *m, const struct rl_take *t, enum rl_result *r)
{
    time_t slot = t->now / (time_t)t->window;
    size_t klen = strlen(t->key);
    struct counter *c, **head = &m->buckets[hash(t->key) & (m->nbuckets - 1)];

    for (c = *head; c && strcmp(c->key, t->key) != 0; c = c->next)
        ;
    if (c == NULL) {
        sweep_bucket(m, head, t->now); /* cheap: reclaim on the way */
        if (!make_room(m, klen, t->now)) {
            *r = RL_FULL;
            return NULL;
        }
        if ((c = calloc(1, counter_size(klen))) == NULL) {
            *r = RL_UNAVAILABLE;
            return NULL;
        }
        memcpy(c->key, t->key, klen + 1);
        c->slot = slot;
        c->next = *head;
        *head = c;
        m->nkeys++;
        m->bytes += counter_size(klen);
    }
    if (c->slot != slot) { /* a new window starts from zero */
        c->slot = slot;
        c->count = 0;
    }
    c->expires = (slot + 1) * (time_t)t->window;
    return c;
}

/* Check all under one lock, then add: all or nothing. */
static enum rl_result mem_take(struct rl_store *st, const struct rl_take *t, size_t n,
                               size_t *failed)
{
    struct mem_store *m = (struct mem_store *)st;
    struct counter *c[RL_MAX_TAKES];
    enum rl_result r = RL_OK;

    for (size_t i = 0; i < n; i++)
        if (t[i].window == 0 || strlen(t[i].key) >= RL_MAX_KEY)
            return RL_UNAVAILABLE;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < n && r == RL_OK; i++) {
        if ((c[i] = counter(m, &t[i], &r)) == NULL)
            *failed = i;
        else if (c[i]->count + t[i].n > t[i].limit) {
            *failed = i;
            r = RL_EXCEEDED;
        }
    }
    for (size_t i = 0; i < n && r == RL_OK; i++)
        if (t[i].commit)
            c[i]->count += t[i].n;
    pthread_mutex_unlock(&m->lock);
    return r;
}

static struct counter *find(struct mem_store *m, const char *key)
{
    struct counter *c = m->buckets[hash(key) & (m->nbuckets - 1)];

    while (c && strcmp(c->key, key) != 0)
        c = c->next;
    return c;
}

static enum rl_result mem_peek(struct rl_store *st, const struct rl_take *t, size_t n,
                               unsigned long *count)
{
    struct mem_store *m = (struct mem_store *)st;

    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < n; i++) {
        const struct counter *c = t[i].window ? find(m, t[i].key) : NULL;
        count[i] = c && c->slot == t[i].now / (time_t)t[i].window ? c->count : 0;
    }
    pthread_mutex_unlock(&m->lock);
    return RL_OK;
}

static enum rl_result mem_reset(struct rl_store *st, const struct rl_take *t, size_t n)
{
    struct mem_store *m = (struct mem_store *)st;

    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < n; i++) {
        struct counter **pp = &m->buckets[hash(t[i].key) & (m->nbuckets - 1)];
        while (*pp && strcmp((*pp)->key, t[i].key) != 0)
            pp = &(*pp)->next;
        if (*pp) {
            struct counter *c = *pp;
            *pp = c->next;
            m->bytes -= counter_size(strlen(c->key));
            m->nkeys--;
            free(c);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return RL_OK;
}

static enum rl_result mem_list(struct rl_store *st, size_t max, rl_each_fn *each, void *ctx,
                               size_t *more)
{
    struct mem_store *m = (struct mem_store *)st;
    size_t shown = 0;

    *more = 0;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nbuckets; i++)
        for (const struct counter *c = m->buckets[i]; c; c = c->next)
            if (shown < max) {
                each(ctx, c->key, (long long)c->slot, c->count);
                shown++;
            } else {
                (*more)++;
            }
    pthread_mutex_unlock(&m->lock);
    return RL_OK;
}

static void mem_status(struct rl_store *st, char *buf, size_t cap)
{
    struct mem_store *m = (struct mem_store *)st;

    pthread_mutex_lock(&m->lock);
    snprintf(buf, cap, "memory keys=%zu/%zu bytes=%zu/%zu", m->nkeys, m->max_keys, m->bytes,
             m->max_bytes);
    pthread_mutex_unlock(&m->lock);
}

static void mem_free(struct rl_store *st)
{
    struct mem_store *m = (struct mem_store *)st;

    for (size_t i = 0; i < m->nbuckets; i++)
        for (struct counter *c = m->buckets[i], *next; c; c = next) {
            next = c->next;
            free(c);
        }
    free(m->buckets);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

struct rl_store *rl_memory_new(size_t max_keys)
{
    struct mem_store *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return NULL;
    m->max_keys = max_keys ? max_keys : 1;
    m->max_bytes = RL_MEMORY_MAX_BYTES;
    for (m->nbuckets = 64; m->nbuckets < m->max_keys && m->nbuckets < (1u << 20); m->nbuckets *= 2)
        ;
    if ((m->buckets = calloc(m->nbuckets, sizeof(*m->buckets))) == NULL) {
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->base.take = mem_take;
    m->base.free = mem_free;
    m->base.peek = mem_peek;
    m->base.reset = mem_reset;
    m->base.list = mem_list;
    m->base.status = mem_status;
    return &m->base;
}
