/* t_ratelimit_redis.c - the Redis store against a real redis-server started
 * here on a unix socket in a temp dir: windows, racing connections on one key,
 * Redis killed or frozen -> RL_UNAVAILABLE within a bounded time, recovery.
 * Skipped (TAP SKIP) when redis-server is not installed. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>

#include "ratelimit.h"
#include "rl_all_or_nothing.h"
#include "tap.h"

#define REDIS_SERVER "/usr/bin/redis-server"

static char dir[] = "/tmp/sh-redis-XXXXXX";
static char sock[100], addr[120];
static pid_t redis_pid = -1;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static bool can_connect(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    bool ok_ = false;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    if (fd >= 0) {
        ok_ = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
    }
    return ok_;
}

static bool start_redis(void)
{
    if ((redis_pid = fork()) == 0) {
        execl(REDIS_SERVER, "redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
              "--appendonly", "no", "--dir", dir, "--logfile", "redis.log", "--loglevel", "warning",
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* bounded: 10 s */
        if (can_connect())
            return true;
        if (waitpid(redis_pid, NULL, WNOHANG) == redis_pid) {
            redis_pid = -1;
            return false;
        }
        usleep(20000);
    }
    return false;
}

static void stop_redis(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGCONT);
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
        redis_pid = -1;
    }
}

static enum rl_result take(struct rl_store *st, const char *key, time_t now, unsigned window,
                           unsigned limit, bool commit)
{
    struct rl_take t = {
        .key = key, .now = now, .window = window, .n = 1, .limit = limit, .commit = commit};
    return rl_take(st, &t);
}

#define THREADS 8
#define TRIES   300
#define LIMIT   1000

struct racer {
    struct rl_store *st;
    time_t now;
    int admitted;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < TRIES; i++)
        if (take(r->st, "hot", r->now, 60, LIMIT, true) == RL_OK)
            r->admitted++;
    return NULL;
}

int main(void)
{
    struct rl_store *st;
    const char *why;
    time_t base = time(NULL) / 10 * 10 + 1000000; /* a window no earlier run used */
    double t0, el;

    if (access(REDIS_SERVER, X_OK) != 0) {
        printf("1..0 # SKIP redis-server not installed\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    snprintf(addr, sizeof(addr), "unix:%s", sock);
    if (!start_redis()) {
        printf("Bail out! redis-server did not start\n");
        return 1;
    }
    st = rl_redis_new(addr, 200, 300, "t:", &why);
    ok(st != NULL, "store created");

    ok(take(st, "k", base, 10, 2, true) == RL_OK, "1st in the window");
    ok(take(st, "k", base + 8, 10, 2, false) == RL_OK, "check-only does not count");
    ok(take(st, "k", base + 9, 10, 2, true) == RL_OK, "2nd at the window's last second");
    ok(take(st, "k", base + 9, 10, 2, true) == RL_EXCEEDED, "3rd exceeds");
    ok(take(st, "k", base + 10, 10, 2, true) == RL_OK, "new window");
    ok(take(st, "key with spaces|&*", base, 10, 1, true) == RL_OK,
       "odd key bytes are one argument");

    struct racer r[THREADS];
    pthread_t th[THREADS];
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        r[i] = (struct racer){.st = st, .now = base};
        pthread_create(&th[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        total += r[i].admitted;
    }
    ok(total == LIMIT, "%d connections x %d takes racing on one key: exactly %d admitted (got %d)",
       THREADS, TRIES, LIMIT, total);

    test_all_or_nothing(st, base, "redis");

    struct rl_store *other = rl_redis_new(addr, 200, 300, "t:", &why);
    ok(take(other, "k", base + 10, 10, 2, true) == RL_OK &&
           take(other, "k", base + 10, 10, 2, true) == RL_EXCEEDED,
       "a second store (another smarthostd) shares the budget");
    rl_store_free(other);

    /* A Redis at maxmemory (noeviction) refuses writes with an OOM error: full, deferred. */
    redisContext *admin = redisConnectUnix(sock);
    redisReply *rep = admin ? redisCommand(admin, "CONFIG SET maxmemory 1") : NULL;
    ok(rep && rep->type == REDIS_REPLY_STATUS, "maxmemory set to 1 byte");
    freeReplyObject(rep);
    ok(take(st, "k-full", base, 10, 5, true) == RL_FULL,
       "redis at maxmemory: full, not unavailable");
    rep = admin ? redisCommand(admin, "CONFIG SET maxmemory 0") : NULL;
    freeReplyObject(rep);
    ok(take(st, "k-full", base, 10, 5, true) == RL_OK, "room again: counted");
    if (admin)
        redisFree(admin);

    kill(redis_pid, SIGSTOP);
    t0 = now_ms();
    ok(take(st, "k2", base, 10, 5, true) == RL_UNAVAILABLE, "frozen redis: unavailable");
    el = now_ms() - t0;
    ok(el < 1000, "... within the command timeout (%.0f ms, timeout 200 ms)", el);
    t0 = now_ms();
    ok(take(st, "k2", base, 10, 5, true) == RL_UNAVAILABLE && now_ms() - t0 < 50,
       "... and the next take fails fast during the retry pause (%.1f ms)", now_ms() - t0);
    kill(redis_pid, SIGCONT);

    bool back = false;
    for (int i = 0; i < 100 && !back; i++) { /* bounded: 5 s */
        back = take(st, "k3", base, 10, 5, true) == RL_OK;
        if (!back)
            usleep(50000);
    }
    ok(back, "recovers after the retry pause");

    stop_redis();
    t0 = now_ms();
    enum rl_result res = take(st, "k4", base, 10, 5, true);
    el = now_ms() - t0;
    ok(res == RL_UNAVAILABLE && el < 1000, "killed redis: unavailable in %.0f ms", el);
    usleep(350000);
    t0 = now_ms();
    res = take(st, "k4", base, 10, 5, true);
    el = now_ms() - t0;
    ok(res == RL_UNAVAILABLE && el < 1000, "reconnect to a missing socket fails fast (%.1f ms)",
       el);

    rl_store_free(st);
    unlink(sock);
    snprintf(sock, sizeof(sock), "%s/redis.log", dir);
    unlink(sock);
    rmdir(dir);
    return done_testing();
}
