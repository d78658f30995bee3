/* counter.c - per-thread counter blocks, a registry of keys, sums on read. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"

_Thread_local struct sh_ctr_block *sh_ctr_mine;

struct slot {
    struct sh_ctr_info info;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SH_CTR_MAX] = {
    [SH_CTR_OVERFLOW] = {{"counters_overflow_total", 0, {0}, {0}}}};
static _Atomic unsigned nslots = 1;
static struct sh_ctr_block *blocks; /* live threads' blocks, under lock */
static struct sh_ctr_block retired; /* exited threads' sums, under lock */
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* Thread exit: add the block to the retired sums, unlink and free it. */
static void retire(void *arg)
{
    struct sh_ctr_block *b = arg, **pp;

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < SH_CTR_MAX; i++)
        atomic_store_explicit(&retired.v[i],
                              atomic_load_explicit(&retired.v[i], memory_order_relaxed) +
                                  atomic_load_explicit(&b->v[i], memory_order_relaxed),
                              memory_order_relaxed);
    for (pp = &blocks; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    pthread_mutex_unlock(&lock);
    free(b);
    sh_ctr_mine = NULL;
}

static void make_key(void)
{
    pthread_key_create(&exit_key, retire);
}

struct sh_ctr_block *sh_ctr_attach(void)
{
    struct sh_ctr_block *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL; /* not counted rather than not served */
    pthread_once(&key_once, make_key);
    pthread_mutex_lock(&lock);
    b->next = blocks;
    blocks = b;
    pthread_mutex_unlock(&lock);
    pthread_setspecific(exit_key, b);
    sh_ctr_mine = b;
    return b;
}

static bool same(const struct sh_ctr_info *a, const char *family, size_t n,
                 const char *const *lname, const char *const *lvalue)
{
    if (strcmp(a->family, family) != 0 || a->nlabels != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a->lname[i], lname[i]) != 0 ||
            strncmp(a->lvalue[i], lvalue[i], SH_CTR_LABEL_MAX - 1) != 0)
            return false;
    return true;
}

unsigned sh_ctr_register(const char *family, size_t nlabels, const char *const *lname,
                         const char *const *lvalue)
{
    unsigned id = SH_CTR_OVERFLOW, n;

    if (nlabels > 2)
        return SH_CTR_OVERFLOW;
    pthread_mutex_lock(&lock);
    n = atomic_load(&nslots);
    for (unsigned i = 1; i < n; i++)
        if (same(&slots[i].info, family, nlabels, lname, lvalue)) {
            id = i;
            goto out;
        }
    if (n == SH_CTR_MAX)
        goto out;
    struct sh_ctr_info *in = &slots[n].info;
    in->family = family;
    in->nlabels = nlabels;
    for (size_t i = 0; i < nlabels; i++) {
        in->lname[i] = lname[i];
        in->lvalue[i] = strndup(lvalue[i], SH_CTR_LABEL_MAX - 1);
        if (in->lvalue[i] == NULL) {
            while (i-- > 0)
                free((char *)in->lvalue[i]);
            goto out;
        }
    }
    id = n;
    atomic_store(&nslots, n + 1); /* published after the key is complete */
out:
    pthread_mutex_unlock(&lock);
    return id;
}

unsigned sh_ctr_count(void)
{
    return atomic_load(&nslots);
}

bool sh_ctr_info(unsigned id, struct sh_ctr_info *info)
{
    if (id >= atomic_load(&nslots))
        return false;
    *info = slots[id].info;
    return true;
}

unsigned sh_ctr_read(uint64_t *out, size_t n)
{
    unsigned count = atomic_load(&nslots);

    if (n > SH_CTR_MAX)
        n = SH_CTR_MAX;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n; i++)
        out[i] = atomic_load_explicit(&retired.v[i], memory_order_relaxed);
    for (const struct sh_ctr_block *b = blocks; b; b = b->next)
        for (size_t i = 0; i < n; i++)
            out[i] += atomic_load_explicit(&b->v[i], memory_order_relaxed);
    pthread_mutex_unlock(&lock);
    return count;
}

bool sh_ctr_enabled(void)
{
#ifdef SH_NO_COUNTERS
    return false;
#else
    return true;
#endif
}
