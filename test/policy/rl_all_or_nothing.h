/* rl_all_or_nothing.h - one check for every store: several limits on one
 * request are taken all or nothing (included by t_ratelimit*.c). */
#ifndef RL_ALL_OR_NOTHING_H
#define RL_ALL_OR_NOTHING_H

#include "ratelimit.h"
#include "tap.h"

/* Units K already holds in its window: the largest N that still fits, probed check-only. */
static inline unsigned rl_held(struct rl_store *st, const char *key, time_t now, unsigned window,
                               unsigned limit)
{
    for (unsigned n = limit; n > 0; n--) {
        struct rl_take t = {.key = key, .now = now, .window = window, .n = n, .limit = limit};
        if (rl_take(st, &t) == RL_OK)
            return limit - n;
    }
    return limit;
}

static inline void test_all_or_nothing(struct rl_store *st, time_t now, const char *label)
{
    struct rl_take t[3] = {
        {.key = "aon|first", .now = now, .window = 60, .n = 1, .limit = 10, .commit = true},
        {.key = "aon|second", .now = now, .window = 60, .n = 1, .limit = 2, .commit = true},
        {.key = "aon|check", .now = now, .window = 60, .n = 1, .limit = 5, .commit = false},
    };
    size_t failed = 99;

    ok(rl_take_all(st, t, 3, &failed) == RL_OK && rl_take_all(st, t, 3, &failed) == RL_OK,
       "%s: two requests fit every limit", label);
    ok(rl_held(st, "aon|first", now, 60, 10) == 2 && rl_held(st, "aon|second", now, 60, 2) == 2 &&
           rl_held(st, "aon|check", now, 60, 5) == 0,
       "%s: both committing counters at 2, the check-only one untouched", label);
    ok(rl_take_all(st, t, 3, &failed) == RL_EXCEEDED && failed == 1,
       "%s: 3rd request: the second limit is exhausted and named (failed=%zu)", label, failed);
    ok(rl_held(st, "aon|first", now, 60, 10) == 2,
       "%s: the first limit's counter is unchanged after the deferral (%u)", label,
       rl_held(st, "aon|first", now, 60, 10));
    t[1].n = 5; /* several recipients at once, over the limit */
    t[1].key = "aon|rcpts";
    t[1].limit = 4;
    ok(rl_take_all(st, t, 2, &failed) == RL_EXCEEDED && failed == 1 &&
           rl_held(st, "aon|first", now, 60, 10) == 2 && rl_held(st, "aon|rcpts", now, 60, 4) == 0,
       "%s: 5 recipients over a limit of 4: nothing counted anywhere", label);
}

#endif
