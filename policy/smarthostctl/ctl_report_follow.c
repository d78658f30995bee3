/* ctl_report_follow.c - `smarthostctl report --follow`: Postfix's log as it grows, its delivery
 * counts fed into the running smarthostd's metrics over the control socket.
 *
 * The same tally as `report` (ctl_report_tally.c), so the daemon's report_messages_total and
 * report_deferrals_total say what `report` would say of the same lines. A file is read from
 * its end, polled, and reopened when it is rotated (a new inode) or cut short (copytruncate);
 * a pipe (stdin, journalctl -f) is read until it ends. Counts go out at most once a second, as
 * deltas per relay; what the daemon has not taken (not running, restarting) is kept and sent
 * when it answers again. The config is reloaded when one of its files changes, so a new relay
 * gets its own row. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control_codec.h"
#include "ctl.h"
#include "ctl_report.h"
#include "ctl_snapshot.h"
#include "ctl_status.h"
#include "maillog.h"
#include "snapshot.h"

#define IDLE_POLL_MS 250
#define MAX_PER_FEED 1000000000ULL /* the daemon's bound for one request */

enum { ST_SENT, ST_DEFERRED, ST_BOUNCED, ST_DEFERRALS, ST_COUNT };
static const char *const status_name[ST_COUNT] = {"sent", "deferred", "bounced", "deferrals"};

struct follow {
    const char *config_path, *control, *path; /* path NULL: a pipe (stdin, journalctl) */
    struct sh_snapshot *snap;
    struct timespec *mtimes; /* of snap->files, to notice a changed config */
    struct report *rp;
    uint64_t fed[REPORT_MAX_ROWS][ST_COUNT]; /* what the daemon has taken, per row */
    uint64_t sent_total;
    bool warned_absent, warned_row[REPORT_MAX_ROWS];
    int fd;
    dev_t dev;
    ino_t ino;
    off_t off;
    char buf[MAILLOG_MAX_LINE + 1];
    size_t have;
    bool skipping; /* inside a line too long to keep, or cut by where we started */
};

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static void record_mtimes(struct follow *f)
{
    struct stat st;

    free(f->mtimes);
    f->mtimes = calloc(f->snap->nfiles ? f->snap->nfiles : 1, sizeof(*f->mtimes));
    for (size_t i = 0; f->mtimes && i < f->snap->nfiles; i++)
        if (stat(f->snap->files[i], &st) == 0)
            f->mtimes[i] = st.st_mtim;
}

static bool config_changed(const struct follow *f)
{
    struct stat st;

    for (size_t i = 0; f->mtimes && i < f->snap->nfiles; i++) {
        if (stat(f->snap->files[i], &st) != 0)
            return true;
        if (st.st_mtim.tv_sec != f->mtimes[i].tv_sec || st.st_mtim.tv_nsec != f->mtimes[i].tv_nsec)
            return true;
    }
    return false;
}

/* The label a row is fed under: the daemon counts only its relays, "direct" and "(other)". */
static const char *feed_name(const struct report_row *row)
{
    if (row->relay)
        return row->name;
    return strcmp(row->name, "direct") == 0 ? "direct" : "(other)";
}

/* Send what the daemon has not taken yet. False when it refused (said on stderr): that does
 * not get better by asking again. */
static bool feed(struct follow *f)
{
    const struct report_row *rows;
    size_t nrows = report_rows_made(f->rp, &rows);

    for (size_t i = 0; i < nrows; i++) {
        const uint64_t have[ST_COUNT] = {rows[i].sent, rows[i].deferred, rows[i].bounced,
                                         rows[i].deferrals};
        for (int k = 0; k < ST_COUNT; k++) {
            while (have[k] > f->fed[i][k]) {
                uint64_t d = have[k] - f->fed[i][k];
                char req[CTL_MAX_LINE + 1], *answer = NULL;
                size_t alen = 0;
                FILE *out;
                enum ctl_ask a;

                if (d > MAX_PER_FEED)
                    d = MAX_PER_FEED;
                if (snprintf(req, sizeof(req), "deliveries %s %s %llu", feed_name(&rows[i]),
                             status_name[k], (unsigned long long)d) >= (int)sizeof(req))
                    snprintf(req, sizeof(req), "deliveries (other) %s %llu", status_name[k],
                             (unsigned long long)d); /* a name longer than a request */
                if ((out = open_memstream(&answer, &alen)) == NULL)
                    return ctl_err("out of memory") == CTL_OK;
                a = ctl_ask(f->control, req, out);
                fclose(out);
                if (a == CTL_ASK_OK && rows[i].relay && !f->warned_row[i] &&
                    strstr(answer, "relay=(other)") != NULL) {
                    ctl_warn("the running smarthostd has no relay \"%s\" (not reloaded since it "
                             "was added?): its deliveries count as \"(other)\" there",
                             rows[i].name);
                    f->warned_row[i] = true;
                }
                free(answer);
                if (a == CTL_ASK_ERROR)
                    return false;
                if (a == CTL_ASK_ABSENT) {
                    if (!f->warned_absent)
                        ctl_warn("no smarthostd answers on %s: counts are kept until one does",
                                 f->control);
                    f->warned_absent = true;
                    return true;
                }
                if (f->warned_absent)
                    ctl_warn("%s answers again: feeding the counts kept", f->control);
                f->warned_absent = false;
                f->fed[i][k] += d;
                if (k == ST_SENT)
                    f->sent_total += d;
            }
        }
    }
    return true;
}

static void consume_line(struct follow *f, const char *line, size_t len)
{
    struct maillog_rec r;

    if (maillog_parse(line, len > 0 && line[len - 1] == '\r' ? len - 1 : len, &r))
        report_add(f->rp, &r);
}

/* Lines out of the bytes read so far; a partial last line stays for the next read. */
static void consume(struct follow *f)
{
    size_t start = 0;

    for (size_t i = 0; i < f->have; i++) {
        if (f->buf[i] != '\n')
            continue;
        if (!f->skipping)
            consume_line(f, f->buf + start, i - start);
        f->skipping = false;
        start = i + 1;
    }
    memmove(f->buf, f->buf + start, f->have - start);
    f->have -= start;
    if (f->have == sizeof(f->buf)) { /* longer than any line we read: skip to its end */
        f->have = 0;
        f->skipping = true;
    }
}

/* Read what is there. >0: bytes read; 0: nothing now (a file at its end); -1: the pipe
 * ended or reading failed (said). */
static ssize_t fill(struct follow *f)
{
    ssize_t n;

    if (f->path == NULL) {
        struct pollfd p = {.fd = f->fd, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0)
            return 0;
    }
    n = read(f->fd, f->buf + f->have, sizeof(f->buf) - f->have);
    if (n > 0) {
        f->have += (size_t)n;
        f->off += n;
        consume(f);
        return n;
    }
    if (n < 0 && errno == EINTR)
        return 0;
    if (n < 0) {
        ctl_err("reading %s: %s", f->path ? f->path : "the log stream", strerror(errno));
        return -1;
    }
    return f->path ? 0 : -1;
}

static bool open_log(struct follow *f, bool at_end)
{
    struct stat st;
    char last;

    if ((f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 || fstat(f->fd, &st) < 0) {
        ctl_err("%s: %s", f->path, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        ctl_err("%s: not a regular file (for a pipe, use -)", f->path);
        return false;
    }
    f->dev = st.st_dev, f->ino = st.st_ino;
    f->off = at_end ? st.st_size : 0;
    f->have = 0;
    /* Started in the middle of a line being written: its rest is not a line. */
    f->skipping = f->off > 0 && (pread(f->fd, &last, 1, f->off - 1) != 1 || last != '\n');
    lseek(f->fd, f->off, SEEK_SET);
    return true;
}

/* A rotated log (another file at the path now) is read to its end, then the new one from its
 * start; a log cut short in place (copytruncate) is read again from its start. */
static bool check_rotation(struct follow *f)
{
    struct stat st;

    if (stat(f->path, &st) != 0)
        return true; /* moved away, not yet recreated: keep reading the old one */
    if (st.st_dev != f->dev || st.st_ino != f->ino) {
        while (fill(f) > 0) /* what was written before the writer switched */
            ;
        close(f->fd);
        return open_log(f, false);
    }
    if (st.st_size < f->off) {
        lseek(f->fd, 0, SEEK_SET);
        f->off = 0, f->have = 0, f->skipping = false;
    }
    return true;
}

/* Send what is counted, then start a new tally on the changed config: the rows are the new
 * config's relays. Messages in flight lose their sender's route (counted by relay host). */
static bool reload(struct follow *f)
{
    struct sh_snapshot *s = ctl_load(f->config_path);

    if (s == NULL) {
        ctl_warn("the changed config does not load; following with the one before");
        record_mtimes(f); /* say it once per change */
        return true;
    }
    if (!feed(f))
        return false;
    report_free(f->rp);
    sh_snapshot_free(f->snap);
    f->snap = s;
    f->rp = report_new(s);
    memset(f->fed, 0, sizeof(f->fed));
    memset(f->warned_row, 0, sizeof(f->warned_row));
    record_mtimes(f);
    return true;
}

int ctl_report_follow(const char *config_path, struct sh_snapshot *s, const char *file,
                      const char *control)
{
    struct follow *f = calloc(1, sizeof(*f));
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: poll and read return */
    pid_t journal = -1;
    time_t last_feed = 0;
    int rc = CTL_OK;

    if (f == NULL) {
        sh_snapshot_free(s);
        return ctl_err("out of memory");
    }
    f->config_path = config_path, f->control = control, f->snap = s;
    f->rp = report_new(s);
    record_mtimes(f);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a daemon going away mid-request is an answer, not a death */

    if (file && strcmp(file, "-") == 0) {
        f->fd = STDIN_FILENO;
    } else if (file == NULL && access(CTL_REPORT_DEFAULT_LOG, R_OK) != 0 &&
               ctl_journalctl_found()) {
        FILE *in = ctl_open_journal(0, true, &journal);
        if (in == NULL) {
            rc = ctl_err("cannot start journalctl");
            goto out;
        }
        f->fd = dup(fileno(in));
        fclose(in);
    } else {
        f->path = file ? file : CTL_REPORT_DEFAULT_LOG;
        if (!open_log(f, true)) {
            rc = CTL_FAIL;
            goto out;
        }
    }
    printf("following %s%s; feeding the delivery counts to %s (stop with Ctrl-C or SIGTERM)\n",
           f->path       ? f->path
           : journal > 0 ? "journalctl -f -u postfix*"
                         : "stdin",
           f->path ? " from its end" : "", control);
    fflush(stdout);

    while (!stop) {
        ssize_t n = fill(f);
        time_t now = time(NULL);

        if (n < 0) {
            rc = f->path ? CTL_FAIL : CTL_OK; /* the end of a pipe is the end of the input */
            break;
        }
        if (now != last_feed) {
            last_feed = now;
            if (!feed(f)) {
                rc = CTL_FAIL;
                break;
            }
            if (config_changed(f) && !reload(f)) {
                rc = CTL_FAIL;
                break;
            }
        }
        if (n == 0 && f->path) {
            if (!check_rotation(f)) {
                rc = CTL_FAIL;
                break;
            }
            poll(NULL, 0, IDLE_POLL_MS);
        }
    }
    if (f->have > 0 && !f->skipping) /* a last line without its newline, at the end of a pipe */
        consume_line(f, f->buf, f->have);
    if (!feed(f))
        rc = CTL_FAIL;
    if (f->warned_absent)
        rc = ctl_err("%s did not answer: the last counts were not fed", control);
    printf("fed %llu sent deliveries in all\n", (unsigned long long)f->sent_total);
out:
    if (journal > 0) {
        kill(journal, SIGTERM);
        while (waitpid(journal, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (f->fd > STDIN_FILENO)
        close(f->fd);
    report_free(f->rp);
    sh_snapshot_free(f->snap);
    free(f->mtimes);
    free(f);
    return rc;
}
