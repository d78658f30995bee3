/* lifecycle.c - the daemon lifecycle (check, load, reload with status), see lifecycle.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "lifecycle.h"
#include "msg.h"
#include "pidfile.h"
#include "privs.h"
#include "reload_status.h"
#include "xalloc.h"

#define COMMON_SHORTOPTS "c:fnvu:hV"
#define MAX_LONGOPTS     32
enum { OPT_PIDFILE = 1, OPT_VERSION = 'V' };

static const struct sh_service *svc;
static struct {
    char *config, *pidfile;
    const char *user;
    bool foreground, check;
} opt;

static int pid_fd = -1, status_fd = -1; /* the locked pidfile; PIDFILE.status */
static unsigned long generation;        /* loads judged so far, for PIDFILE.status */
/* Set by the handlers (and by sh_daemon_service_ended), read by the main loop, which
 * the self-pipe wakes: a flag set just after the loop looked is never slept through. */
static volatile sig_atomic_t stop_signal, reload_wanted, summary_wanted, service_ended;
static int wake_pipe[2] = {-1, -1};
static pthread_mutex_t serving_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t serving_cond = PTHREAD_COND_INITIALIZER;
static bool serving; /* the main thread takes the signals from here on */

static _Noreturn void usage(const char *prog, int code)
{
    fprintf(code ? stderr : stdout,
            "usage: %s [-c FILE] [-f] [-v] [-u USER] [--pidfile FILE] %s\n"
            "       %s [-c FILE] -n\n"
            "       %s --help | --version\n"
            "  -c FILE         configuration (default " SH_DEFAULT_CONFIG ")\n"
            "  -f              stay in the foreground (default: detach once ready); log to\n"
            "                  syslog (facility mail) and a copy to stderr\n"
            "  -n              check the configuration, print \"configuration OK\", exit\n"
            "  -u USER         as root: run as USER once bound (the units say -u " SH_DEFAULT_USER
            ")\n"
            "  -v              more logging\n"
            "  --pidfile FILE  lock FILE and write the pid there (one instance per pidfile),\n"
            "                  and each load's verdict to FILE.status for smarthostctl\n"
            "%s",
            prog, svc->synopsis, prog, prog, svc->help);
    exit(code);
}

static void parse_args(int argc, char **argv)
{
    static const struct option common[] = {
        {"config", required_argument, NULL, 'c'},
        {"foreground", no_argument, NULL, 'f'},
        {"check", no_argument, NULL, 'n'},
        {"verbose", no_argument, NULL, 'v'},
        {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"pidfile", required_argument, NULL, OPT_PIDFILE},
    };
    struct option all[MAX_LONGOPTS + 1] = {{0}};
    char shortopts[64];
    size_t n = 0;
    int ch;

    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        all[n++] = common[i];
    for (const struct option *o = svc->longopts; o && o->name; o++) {
        if (n == MAX_LONGOPTS)
            msg_panic("too many options");
        all[n++] = *o;
    }
    snprintf(shortopts, sizeof(shortopts), COMMON_SHORTOPTS "%s", svc->shortopts);
    opt.config = SH_DEFAULT_CONFIG;
    while ((ch = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
        switch (ch) {
        case 'c':
            opt.config = optarg;
            break;
        case 'f':
            opt.foreground = true;
            break;
        case 'n':
            opt.check = true;
            break;
        case 'v':
            msg_set_verbose(msg_verbose + 1);
            break;
        case 'u':
            opt.user = optarg;
            break;
        case 'h':
            usage(argv[0], 0);
        case OPT_VERSION:
            printf("%s %s\n", svc->name, SH_VERSION);
            exit(0);
        case OPT_PIDFILE:
            opt.pidfile = optarg;
            break;
        case '?':
            usage(argv[0], 2);
        default:
            if (!svc->option(ch, optarg))
                usage(argv[0], 2);
        }
    }
    if (optind != argc || (!opt.check && !svc->args_ok()))
        usage(argv[0], 2);
}

/* -n: the verdict on stdout/stderr, whatever the logging mode. */
static _Noreturn void check_config(void)
{
    struct sh_error err = {{0}};
    struct sh_snapshot *s = sh_config_load(opt.config, &err);

    if (s == NULL) {
        fprintf(stderr, "%s\n", err.text);
        exit(1);
    }
    for (size_t i = 0; i < s->nwarnings; i++)
        fprintf(stderr, "warning: %s\n", s->warnings[i]);
    if (svc->check)
        svc->check(s);
    sh_snapshot_free(s);
    printf("configuration OK\n");
    exit(0);
}

static void wake(void)
{
    int saved = errno;

    if (write(wake_pipe[1], "", 1) < 0) { /* full: a wake-up is already pending */
    }
    errno = saved;
}

/* Only flags and a pipe byte (Postfix master_sig.c): the main loop does the work. */
static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_wanted = 1;
    else if (sig == SIGUSR1)
        summary_wanted = 1;
    else
        stop_signal = sig;
    wake();
}

/* The handlers, installed once; the signals stay blocked until unblock_signals().
 * SA_NODEFER: a SIGHUP arriving while the handler runs must find the main thread
 * willing, not blocked, or the kernel hands it to a thread that is waiting for it
 * (libmilter's signal thread, which stops the milter on SIGHUP). SIGTERM and SIGINT
 * without SA_RESTART, so a stop interrupts a load stuck in a blocking call. */
static void install_handlers(void)
{
    static const int sigs[] = {SIGHUP, SIGUSR1, SIGTERM, SIGINT};

    if (pipe2(wake_pipe, O_CLOEXEC) < 0 || fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK) < 0)
        msg_fatal("signal pipe: %m");
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_NODEFER};

        if (sigs[i] == SIGHUP || sigs[i] == SIGUSR1)
            sa.sa_flags |= SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], &sa, NULL) < 0)
            msg_fatal("sigaction: %m");
    }
}

/* In the main thread only; every other thread keeps the mask it was created with. */
static void set_signals(const sigset_t *sigs, bool take)
{
    pthread_sigmask(take ? SIG_UNBLOCK : SIG_BLOCK, sigs, NULL);
}

void sh_daemon_wait_serving(void)
{
    pthread_mutex_lock(&serving_lock);
    while (!serving)
        pthread_cond_wait(&serving_cond, &serving_lock);
    pthread_mutex_unlock(&serving_lock);
}

static void now_serving(const sigset_t *sigs)
{
    set_signals(sigs, true);
    pthread_mutex_lock(&serving_lock);
    serving = true;
    pthread_cond_broadcast(&serving_cond);
    pthread_mutex_unlock(&serving_lock);
}

void sh_daemon_service_ended(void)
{
    service_ended = 1;
    wake();
}

/* One load, in the main thread with the signals taken: a stop makes a blocking call
 * return EINTR and the load fail instead of hanging. NULL when stopped. */
static struct sh_snapshot *load(struct sh_error *err)
{
    struct sh_snapshot *s = stop_signal ? NULL : sh_config_load(opt.config, err);

    if (stop_signal && s != NULL) {
        sh_snapshot_free(s);
        s = NULL;
    }
    if (stop_signal)
        snprintf(err->text, sizeof(err->text), "load interrupted by signal %d", (int)stop_signal);
    return s;
}

static void loaded(struct sh_snapshot *s, bool first)
{
    for (size_t i = 0; i < s->nwarnings; i++)
        msg_warn("%s", s->warnings[i]);
    sh_snapshot_publish(s);
    if (svc->loaded)
        svc->loaded(s, first);
}

/* Build a complete new snapshot; only a good one replaces the current one. */
static void reload(void)
{
    struct sh_error err = {{0}};
    struct sh_snapshot *s;

    reload_wanted = 0; /* a SIGHUP from here on asks for one more load, which sees it */
    sh_notify_reloading();
    s = load(&err);
    if (stop_signal)
        return;
    sh_reload_status_write(status_fd, ++generation, s != NULL, err.text);
    if (s == NULL)
        msg_warn("reload failed: %s; keeping previous configuration", err.text);
    else {
        loaded(s, false);
        msg_info("reloaded configuration %s", opt.config);
    }
    sh_notify_ready();
}

/* The pidfile's directory is made for the -u user when it is missing. */
static void lock_pidfile(void)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    struct passwd *pw;
    char err[600];
    long holder;

    if (opt.user != NULL && geteuid() == 0 && (pw = getpwnam(opt.user)) != NULL) {
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if ((pid_fd = sh_pidfile_acquire(opt.pidfile, uid, gid, &holder, err, sizeof(err))) < 0)
        msg_fatal("%s", err);
}

const char *sh_daemon_config(void)
{
    return opt.config;
}

/* The service's one-line summary to the log (postfwd's habit). */
static void summary(void)
{
    char line[512] = "stats: none";

    if (svc->summary)
        svc->summary(line, sizeof(line));
    msg_info("%s", line);
}

int sh_daemon_main(int argc, char **argv, const struct sh_service *service)
{
    struct sh_error err = {{0}};
    struct sh_snapshot *s;
    sigset_t sigs;
    int status = 0;

    svc = service;
    sh_privs_no_core_dumps(); /* passwords and the vault key live in this process */
    /* Before anything else: every thread inherits the mask, and a signal during startup
     * waits for the main loop (or stops a load) instead of killing us half-bound. */
    sh_daemon_block_signals(&sigs);
    parse_args(argc, argv);
    if (opt.check)
        check_config();
    msg_open_daemon(svc->name, true); /* stderr too until detached: the operator sees a failure */
    opt.config = sh_daemon_abspath(opt.config);
    opt.pidfile = sh_daemon_abspath(opt.pidfile);
    if (!opt.foreground)
        sh_daemon_detach();
    install_handlers();
    if (opt.pidfile)
        lock_pidfile();

    set_signals(&sigs, true); /* no thread yet: a stop interrupts the first load */
    s = load(&err);
    set_signals(&sigs, false); /* the service's threads are born with them blocked */
    if (s == NULL) {
        if (stop_signal)
            goto out;
        msg_fatal("%s", err.text);
    }
    loaded(s, true);
    svc->listen();
    if (opt.pidfile) {
        if ((status_fd = sh_reload_status_open(opt.pidfile)) < 0)
            msg_warn("%s.status: %m; smarthostctl cannot confirm reloads", opt.pidfile);
        sh_reload_status_write(status_fd, ++generation, true, NULL);
    }
    sh_privs_drop(opt.user, NULL); /* bound and secrets read: give up root before serving */
    svc->start();
    msg_info("started with configuration %s", opt.config);
    sh_daemon_ready();
    msg_set_stderr(opt.foreground);
    sh_notify_ready();
    /* From here on the main thread takes every signal with a handler and never blocks
     * it, even while it reloads: the kernel gives a process signal to the main thread
     * whenever it does not block it, so none reaches a thread that sigwaits for it. */
    now_serving(&sigs);

    while (!stop_signal && !service_ended) {
        char buf[64];

        if (reload_wanted)
            reload();
        else if (summary_wanted) {
            summary_wanted = 0;
            summary();
        } else if (read(wake_pipe[0], buf, sizeof(buf)) < 0 && errno != EINTR)
            msg_fatal("signal pipe: %m");
    }
    sh_notify_stopping();
    if (stop_signal)
        msg_info("stopping on signal %d", (int)stop_signal);
    else {
        msg_warn("the service stopped by itself: exiting with status 1");
        status = 1; /* for Restart=on-failure */
    }
    svc->stop();
out:
    if (opt.pidfile) {
        sh_reload_status_unlink(opt.pidfile);
        sh_pidfile_release(opt.pidfile, pid_fd);
    }
    return status;
}
