/* ratelimit.c - the in-process fixed-window store. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

const char *rl_result_name(enum rl_result r)
{
    switch (r) {
    case RL_OK: return "ok";
    case RL_EXCEEDED: return "exceeded";
    case RL_UNAVAILABLE: return "unavailable";
    }
    return "?";
}

struct counter {
    struct counter *next;
    time_t slot;     /* now / window of the count */
    time_t expires;  /* end of that window: may be swept after */
    unsigned long count;
    char key[];
};

struct mem_store {
    struct rl_store base; /* first */
    pthread_mutex_t lock;
    struct counter **buckets;
    size_t nbuckets, nkeys, max_keys;
};

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

/* Drop every counter whose window has passed; called only when full. */
static void sweep(struct mem_store *m, time_t now)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct counter **pp = &m->buckets[i];
        while (*pp) {
            struct counter *c = *pp;
            if (c->expires <= now) {
                *pp = c->next;
                free(c);
                m->nkeys--;
            } else {
                pp = &c->next;
            }
        }
    }
}

/* The counter for T in its current window, created at zero; NULL when full. */
static struct counter *counter(struct mem_store *m, const struct rl_take *t)
{
    time_t slot = t->now / (time_t)t->window;
    size_t klen = strlen(t->key);
    struct counter *c, **head = &m->buckets[hash(t->key) & (m->nbuckets - 1)];

    for (c = *head; c && strcmp(c->key, t->key) != 0; c = c->next)
        ;
    if (c == NULL) {
        if (m->nkeys >= m->max_keys)
            sweep(m, t->now);
        if (m->nkeys >= m->max_keys || (c = calloc(1, sizeof(*c) + klen + 1)) == NULL)
            return NULL;
        memcpy(c->key, t->key, klen + 1);
        c->slot = slot;
        c->next = *head;
        *head = c;
        m->nkeys++;
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
        if ((c[i] = counter(m, &t[i])) == NULL)
            r = RL_UNAVAILABLE;
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
    for (m->nbuckets = 64; m->nbuckets < m->max_keys && m->nbuckets < (1u << 20); m->nbuckets *= 2)
        ;
    if ((m->buckets = calloc(m->nbuckets, sizeof(*m->buckets))) == NULL) {
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->base.take = mem_take;
    m->base.free = mem_free;
    return &m->base;
}
