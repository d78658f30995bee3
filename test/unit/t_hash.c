/* t_hash.c - the table hash is seeded: processes differ, and keys chosen to share a
 * bucket under plain FNV-1a spread out under it. */
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hash.h"
#include "tap.h"

#define KEY     "alice@example.com"
#define BUCKETS 1024 /* a table's mask: the low 10 bits */
#define NKEYS   64

/* The hash of KEY in a fresh process (its own seed), or 0 on failure. */
static uint64_t child_hash(void)
{
    uint64_t h = 0;
    int fd[2];
    pid_t pid;

    if (pipe(fd) != 0 || (pid = fork()) < 0)
        return 0;
    if (pid == 0) {
        h = sh_hash(KEY, sizeof(KEY) - 1);
        _exit(write(fd[1], &h, sizeof(h)) == (ssize_t)sizeof(h) ? 0 : 1);
    }
    close(fd[1]);
    if (read(fd[0], &h, sizeof(h)) != (ssize_t)sizeof(h))
        h = 0;
    close(fd[0]);
    waitpid(pid, NULL, 0);
    return h;
}

static uint64_t plain_fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

int main(void)
{
    /* Children first: the parent has not drawn its seed yet, so each draws its own. */
    uint64_t a = child_hash(), b = child_hash(), mine;
    char keys[NKEYS][40];
    unsigned char used[BUCKETS] = {0};
    int n = 0, spread = 0;

    ok(a != 0 && b != 0, "two processes hashed the key");
    ok(a != b, "two processes hash the same key differently (%016llx, %016llx)",
       (unsigned long long)a, (unsigned long long)b);
    mine = sh_hash(KEY, sizeof(KEY) - 1);
    ok(mine != a && mine != b, "... and so does a third");
    ok(sh_hash(KEY, sizeof(KEY) - 1) == mine, "within a process the hash is stable");
    ok(mine != plain_fnv1a(KEY, sizeof(KEY) - 1), "it is not the unseeded FNV-1a");

    /* What a flood would send against an unseeded table: senders that all land in
     * bucket 0 of 1024 under plain FNV-1a. */
    for (unsigned i = 0; n < NKEYS && i < 10000000; i++) {
        int len = snprintf(keys[n], sizeof(keys[n]), "f%u@flood.test", i);
        if ((plain_fnv1a(keys[n], (size_t)len) & (BUCKETS - 1)) == 0)
            n++;
    }
    ok(n == NKEYS, "found %d keys sharing one bucket under plain FNV-1a", n);
    for (int i = 0; i < n; i++) {
        size_t bkt = sh_hash(keys[i], strlen(keys[i])) & (BUCKETS - 1);
        spread += !used[bkt];
        used[bkt] = 1;
    }
    /* 64 keys thrown at random into 1024 buckets fill about 62: 40 is far below. */
    ok(spread >= 40, "under the seeded hash they take %d buckets of %d", spread, BUCKETS);
    return done_testing();
}
