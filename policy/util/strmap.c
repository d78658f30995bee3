/* strmap.c - open addressing with linear probing, load factor <= 1/2. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "strmap.h"
#include "xalloc.h"

struct slot {
    char *key; /* NULL: empty */
    uint32_t hash;
    uint32_t len;
    void *value;
};

struct strmap {
    struct slot *slots;
    size_t mask;
    size_t count;
};

/* Seeded: some maps are keyed by what a log or a peer chose (smarthostctl report). */
static uint32_t key_hash(const char *s, size_t len)
{
    return (uint32_t)sh_hash(s, len);
}

struct strmap *strmap_new(size_t expected)
{
    struct strmap *m = xcalloc(1, sizeof(*m));
    size_t cap = 16;

    while (cap < expected * 2)
        cap <<= 1;
    m->slots = xcalloc(cap, sizeof(*m->slots));
    m->mask = cap - 1;
    return m;
}

static void strmap_grow(struct strmap *m)
{
    size_t cap = (m->mask + 1) * 2;
    struct slot *old = m->slots, *slots = xcalloc(cap, sizeof(*slots));

    for (size_t i = 0; i <= m->mask; i++) {
        if (old[i].key == NULL)
            continue;
        size_t j = old[i].hash & (cap - 1);
        while (slots[j].key != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = old[i];
    }
    free(old);
    m->slots = slots;
    m->mask = cap - 1;
}

static struct slot *strmap_find(const struct strmap *m, const char *key, size_t len, uint32_t h)
{
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        struct slot *s = &m->slots[i];
        if (s->key == NULL || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
    size_t len = strlen(key);
    uint32_t h = key_hash(key, len);
    struct slot *s;

    if ((m->count + 1) * 2 > m->mask + 1)
        strmap_grow(m);
    s = strmap_find(m, key, len, h);
    if (s->key != NULL)
        return s->value;
    s->key = xstrdup(key);
    s->hash = h;
    s->len = (uint32_t)len;
    s->value = value;
    m->count++;
    return NULL;
}

bool strmap_update(struct strmap *m, const char *key, void *value)
{
    size_t len = strlen(key);
    struct slot *s = strmap_find(m, key, len, key_hash(key, len));

    if (s->key == NULL)
        return false;
    s->value = value;
    return true;
}

void *strmap_get(const struct strmap *m, const char *key, size_t len)
{
    struct slot *s;

    if (m == NULL)
        return NULL;
    s = strmap_find(m, key, len, key_hash(key, len));
    return s->key ? s->value : NULL;
}

size_t strmap_count(const struct strmap *m)
{
    return m ? m->count : 0;
}

void strmap_free(struct strmap *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i <= m->mask; i++)
        free(m->slots[i].key);
    free(m->slots);
    free(m);
}
