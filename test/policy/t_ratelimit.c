/* t_ratelimit.c - the in-process store: window edges, check vs commit,
 * capacity, and threads racing on one key. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "rl_all_or_nothing.h"
#include "tap.h"

static enum rl_result take(struct rl_store *st, const char *key, time_t now, unsigned window,
                           unsigned limit, bool commit)
{
    struct rl_take t = {
        .key = key, .now = now, .window = window, .n = 1, .limit = limit, .commit = commit};
    return rl_take(st, &t);
}

static void test_windows(void)
{
    struct rl_store *st = rl_memory_new(100);

    ok(take(st, "k", 100, 10, 2, true) == RL_OK, "1st in window [100,110)");
    ok(take(st, "k", 109, 10, 2, false) == RL_OK, "check-only does not count");
    ok(take(st, "k", 109, 10, 2, true) == RL_OK, "2nd at the window's last second");
    ok(take(st, "k", 109, 10, 2, false) == RL_EXCEEDED, "3rd would exceed (check)");
    ok(take(st, "k", 109, 10, 2, true) == RL_EXCEEDED, "3rd exceeds (commit)");
    ok(take(st, "other", 109, 10, 2, true) == RL_OK, "keys are independent");
    ok(take(st, "k", 110, 10, 2, true) == RL_OK, "new window at its first second");
    ok(take(st, "k", 111, 10, 2, true) == RL_OK, "2nd in the new window");
    ok(take(st, "k", 119, 10, 2, true) == RL_EXCEEDED, "exceeded again");
    ok(take(st, "k", 200, 10, 0, true) == RL_EXCEEDED, "limit 0 refuses everything");
    rl_store_free(st);
}

static void test_capacity(void)
{
    struct rl_store *st = rl_memory_new(3);

    ok(take(st, "a", 100, 10, 5, true) == RL_OK && take(st, "b", 100, 10, 5, true) == RL_OK &&
           take(st, "c", 100, 10, 5, true) == RL_OK,
       "three keys fit");
    ok(take(st, "d", 105, 10, 5, true) == RL_FULL, "a fourth live key: full, never unavailable");
    ok(take(st, "d", 105, 10, 5, false) == RL_FULL, "... also when only asked");
    ok(take(st, "a", 105, 10, 5, true) == RL_OK, "existing keys still count");
    ok(take(st, "d", 110, 10, 5, true) == RL_OK, "expired keys are swept when full");
    rl_store_free(st);
}

/* A flood of distinct keys fills the table within one window: every new key
 * after that is refused (RL_FULL) until the windows end, and then the whole
 * table is reclaimed and new keys are admitted again. */
static void test_flood(void)
{
    enum { CAP = 1000, FLOOD = 20000 };
    struct rl_store *st = rl_memory_new(CAP);
    char key[32];
    size_t okn = 0, full = 0, other = 0;

    for (int i = 0; i < FLOOD; i++) {
        snprintf(key, sizeof(key), "s|m|flood%d@x", i);
        switch (take(st, key, 1020 + i / 5000, 60, 5, true)) {
        case RL_OK:
            okn++;
            break;
        case RL_FULL:
            full++;
            break;
        default:
            other++;
            break;
        }
    }
    ok(okn == CAP && full == FLOOD - CAP && other == 0,
       "flood: %zu admitted (the table), %zu refused as full, %zu otherwise", okn, full, other);
    ok(take(st, "s|m|fresh@x", 1079, 60, 5, true) == RL_FULL,
       "a fresh key at the window's end: full");
    ok(take(st, "s|m|flood7@x", 1079, 60, 5, true) == RL_OK, "a counted key still counts");
    ok(take(st, "s|m|fresh@x", 1080, 60, 5, true) == RL_OK, "the next window: reclaimed, admitted");
    okn = 0;
    for (int i = 0; i < CAP - 1; i++) {
        snprintf(key, sizeof(key), "s|m|later%d@x", i);
        okn += take(st, key, 1081, 60, 5, true) == RL_OK;
    }
    ok(okn == CAP - 1, "the whole table is free again (%zu of %d)", okn, CAP - 1);
    rl_store_free(st);
}

#define THREADS 8
#define TRIES   2000
#define LIMIT   5000

struct racer {
    struct rl_store *st;
    int ok;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < TRIES; i++)
        if (take(r->st, "hot", 1000, 60, LIMIT, true) == RL_OK)
            r->ok++;
    return NULL;
}

static void test_race(void)
{
    struct rl_store *st = rl_memory_new(10);
    struct racer r[THREADS];
    pthread_t th[THREADS];
    int total = 0;

    for (int i = 0; i < THREADS; i++) {
        r[i] = (struct racer){.st = st};
        pthread_create(&th[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        total += r[i].ok;
    }
    ok(total == LIMIT, "%d threads x %d takes on one key: exactly %d admitted (got %d)", THREADS,
       TRIES, LIMIT, total);
    rl_store_free(st);
}

int main(void)
{
    test_windows();
    test_capacity();
    test_flood();
    test_race();
    {
        struct rl_store *st = rl_memory_new(100);
        test_all_or_nothing(st, 5000, "memory");
        rl_store_free(st);
    }
    return done_testing();
}
