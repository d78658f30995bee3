/* hash.c - seeded FNV-1a with a final avalanche, see hash.h. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "msg.h"

#define FNV64_BASIS 1469598103934665603ull
#define FNV64_PRIME 1099511628211ull

static uint64_t seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

/* The MurmurHash3 64-bit finaliser: every input bit reaches every output bit. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static void seed_init(void)
{
    uint64_t r;
    ssize_t n;

    while ((n = getrandom(&r, sizeof(r), 0)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof(r)) {
        struct timespec a, b;
        clock_gettime(CLOCK_REALTIME, &a);
        clock_gettime(CLOCK_MONOTONIC, &b);
        r = mix((uint64_t)a.tv_sec ^ ((uint64_t)a.tv_nsec << 32) ^ (uint64_t)b.tv_nsec ^
                ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&r);
        msg_warn("getrandom: %s; hash tables seeded from the clocks and the pid", strerror(errno));
    }
    seed = r;
}

uint64_t sh_hash_seed(void)
{
    pthread_once(&seed_once, seed_init);
    return seed;
}

uint64_t sh_hash(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = FNV64_BASIS ^ sh_hash_seed();

    for (size_t i = 0; i < len; i++)
        h = (h ^ s[i]) * FNV64_PRIME;
    return mix(h ^ len);
}
