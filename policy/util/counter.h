/* counter.h - always-on event counters: one block per thread, summed when read.
 *
 * Knows no mail. A counter is a slot id with a family name and up to two label
 * pairs, registered once (sh_ctr_register, under a lock) and then incremented
 * on the hot path without any lock: each thread owns a block of slots, only
 * that thread writes it (a relaxed load and store, no locked instruction), and
 * a reader sums every block with relaxed loads. A thread's block is folded into
 * a retired total when the thread exits (libmilter starts one per connection).
 *
 * Registration is keyed by (family, label values): registering the same key
 * again returns the same slot, so a name that survives a reload keeps counting.
 * Slots are never freed; when they run out, new keys share the overflow slot 0
 * (family "counters_overflow_total"), which is counted and shown, never lost silently.
 *
 * Built with -DSH_NO_COUNTERS, sh_ctr_add compiles to nothing (for measuring
 * what counting costs).
 */
#ifndef SH_COUNTER_H
#define SH_COUNTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SH_CTR_MAX       2048 /* slots per process, the overflow slot included */
#define SH_CTR_OVERFLOW  0
#define SH_CTR_LABEL_MAX 128 /* bytes of one label value, longer ones are cut */

struct sh_ctr_block {
    _Atomic uint64_t v[SH_CTR_MAX];
    struct sh_ctr_block *next;
};

extern _Thread_local struct sh_ctr_block *sh_ctr_mine;
struct sh_ctr_block *sh_ctr_attach(void); /* this thread's block, made on first use */

static inline void sh_ctr_add(unsigned id, uint64_t n)
{
#ifndef SH_NO_COUNTERS
    struct sh_ctr_block *b = sh_ctr_mine;

    if (b == NULL && (b = sh_ctr_attach()) == NULL)
        return;
    if (id >= SH_CTR_MAX)
        id = SH_CTR_OVERFLOW;
    atomic_store_explicit(&b->v[id], atomic_load_explicit(&b->v[id], memory_order_relaxed) + n,
                          memory_order_relaxed);
#else
    (void)id, (void)n;
#endif
}

static inline void sh_ctr_inc(unsigned id)
{
    sh_ctr_add(id, 1);
}

/* The slot of FAMILY (a static string) with labels LNAME[i]=LVALUE[i] (NLABELS <= 2;
 * names static, values copied). Thread-safe; meant for startup and reload, not
 * for every event. SH_CTR_OVERFLOW when full. */
unsigned sh_ctr_register(const char *family, size_t nlabels, const char *const *lname,
                         const char *const *lvalue);

struct sh_ctr_info {
    const char *family;
    size_t nlabels;
    const char *lname[2];
    const char *lvalue[2];
};

/* Slots registered so far (slot 0 included); their ids are 0 .. count-1. */
unsigned sh_ctr_count(void);
/* The key of slot ID; false when ID is not registered. Strings live as long as
 * the process. */
bool sh_ctr_info(unsigned id, struct sh_ctr_info *info);
/* Sum every thread's block into OUT[0 .. N-1] (N <= SH_CTR_MAX); returns how many
 * slots are registered (the caller reads min(N, count)). */
unsigned sh_ctr_read(uint64_t *out, size_t n);
/* Whether this build counts (false when built with SH_NO_COUNTERS). */
bool sh_ctr_enabled(void);

#endif
