/* ctl_report.c - `smarthostctl report [--since DURATION] [--prometheus] [FILE|-]`: Postfix's
 * deliveries from its log, per relay of the loaded config, deferral reason and sender domain
 * (--follow: ctl_report_follow.c).
 *
 * Input: FILE, "-" for stdin, or /var/log/mail.log; when that cannot be read and no FILE
 * was named, `journalctl -o short-iso -u postfix*` if journalctl is on the PATH. The log is
 * streamed line by line (lines over MAILLOG_MAX_LINE are skipped and counted); memory is
 * bounded by the tables in ctl_report.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "ctl_report.h"
#include "ctl_snapshot.h"
#include "ctl_status.h"
#include "ctl_usage.h"
#include "maillog.h"
#include "prometheus.h"
#include "snapshot.h"

#define TOP_REASONS     10
#define MAX_SINCE       (10L * 366 * 86400) /* ten years */
#define NAME_COLUMN_MAX 40

struct lines {
    unsigned long long read, unparsed, too_long, before_since, deliveries;
};

/* "90s", "30m", "1h", "2d", "1w", or several: "1h30m". */
static bool parse_duration(const char *s, long *out)
{
    long total = 0;

    if (*s == 0)
        return false;
    while (*s) {
        long v = 0, unit;
        const char *start = s;
        for (; *s >= '0' && *s <= '9'; s++)
            if ((v = v * 10 + (*s - '0')) > MAX_SINCE)
                return false;
        if (s == start)
            return false;
        switch (*s++) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        case 'w':
            unit = 7 * 86400;
            break;
        default:
            return false;
        }
        if (v > MAX_SINCE / unit || (total += v * unit) > MAX_SINCE)
            return false;
    }
    *out = total;
    return true;
}

bool ctl_journalctl_found(void)
{
    const char *path = getenv("PATH");
    char buf[4096];

    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && n < sizeof(buf) - 16) {
            snprintf(buf, sizeof(buf), "%.*s/journalctl", (int)n, p);
            if (access(buf, X_OK) == 0)
                return true;
        }
        p += n + (p[n] == ':');
    }
    return false;
}

FILE *ctl_open_journal(time_t since, bool follow, pid_t *pid)
{
    char since_arg[32];
    int fds[2];

    snprintf(since_arg, sizeof(since_arg), "@%lld", (long long)since);
    if (pipe(fds) < 0)
        return NULL;
    if ((*pid = fork()) < 0) {
        close(fds[0]), close(fds[1]);
        return NULL;
    }
    if (*pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]), close(fds[1]);
        if (follow) /* from now on: what came before is `report`'s */
            execlp("journalctl", "journalctl", "-q", "--no-pager", "-o", "short-iso", "-u",
                   "postfix*", "-f", "-n", "0", (char *)NULL);
        else if (since > 0)
            execlp("journalctl", "journalctl", "-q", "--no-pager", "-o", "short-iso", "-u",
                   "postfix*", "--since", since_arg, (char *)NULL);
        else
            execlp("journalctl", "journalctl", "-q", "--no-pager", "-o", "short-iso", "-u",
                   "postfix*", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    return fdopen(fds[0], "r");
}

/* One line into BUF (NUL-terminated, length in *LEN); false at EOF. A line longer than the
 * buffer is read to its end and reported as *LONG. */
static bool read_line(FILE *in, char *buf, size_t cap, size_t *len, bool *too_long)
{
    size_t n = 0;
    int c;

    *too_long = false;
    while ((c = getc_unlocked(in)) != EOF && c != '\n') {
        if (n + 1 < cap)
            buf[n++] = (char)c;
        else
            *too_long = true;
    }
    if (c == EOF && n == 0 && !*too_long)
        return false;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = 0;
    *len = n;
    return true;
}

static void tally(FILE *in, struct report *rp, time_t now, time_t since, struct lines *ln)
{
    static char buf[MAILLOG_MAX_LINE + 1];
    struct maillog_rec r;
    size_t len;
    bool too_long;

    while (read_line(in, buf, sizeof(buf), &len, &too_long)) {
        time_t t;
        ln->read++;
        if (too_long) {
            ln->too_long++;
            continue;
        }
        if (!maillog_parse(buf, len, &r)) {
            ln->unparsed++;
            continue;
        }
        /* Senders are learnt from every line; only deliveries are filtered by time, so a
         * delivery just after the cut still finds its from= line. */
        if (since > 0 && (r.fields & MAILLOG_STATUS) && (r.fields & MAILLOG_TO) &&
            (!maillog_time(&r.stamp, now, &t) || t < since)) {
            ln->before_since++;
            continue;
        }
        if (report_add(rp, &r))
            ln->deliveries++;
    }
}

static int width(const char *first, size_t n, const char *(*name)(const void *, size_t),
                 const void *arr)
{
    size_t w = strlen(first);

    for (size_t i = 0; i < n; i++)
        if (strlen(name(arr, i)) > w)
            w = strlen(name(arr, i));
    return (int)(w > NAME_COLUMN_MAX ? NAME_COLUMN_MAX : w);
}

static const char *row_name(const void *a, size_t i)
{
    return ((const struct report_row *)a)[i].name;
}

static const char *reason_relay(const void *a, size_t i)
{
    return ((const struct report_reason *)a)[i].relay;
}

static const char *domain_name(const void *a, size_t i)
{
    return ((const struct report_domain *)a)[i].name;
}

static const char *domain_relay(const void *a, size_t i)
{
    return ((const struct report_domain *)a)[i].relay;
}

static void print_text(struct report *rp, const char *source, const char *since_arg,
                       const struct lines *ln)
{
    const struct report_row *rows;
    const struct report_reason *reasons;
    const struct report_domain *doms;
    const struct report_dropped *dr = report_dropped(rp);
    size_t nrows = report_rows(rp, &rows), nreasons = report_reasons(rp, &reasons),
           ndoms = report_domains(rp, &doms);
    int w = width("relay", nrows, row_name, rows), wr, wd;

    printf("source: %s%s%s\n", source, since_arg ? ", since " : "", since_arg ? since_arg : "");
    printf("lines: %llu read, %llu deliveries counted, %llu not log lines, %llu too long", ln->read,
           ln->deliveries, ln->unparsed, ln->too_long);
    if (since_arg)
        printf(", %llu deliveries before the cut", ln->before_since);
    printf("\n\n%-*s %8s %8s %8s %9s\n", w, "relay", "sent", "deferred", "bounced", "deferrals");
    for (size_t i = 0; i < nrows; i++)
        printf("%-*.*s %8llu %8llu %8llu %9llu\n", w, NAME_COLUMN_MAX, rows[i].name,
               (unsigned long long)rows[i].sent, (unsigned long long)rows[i].deferred,
               (unsigned long long)rows[i].bounced, (unsigned long long)rows[i].deferrals);

    printf("\ntop deferral reasons:\n");
    if (nreasons == 0)
        printf("  none\n");
    if (nreasons > TOP_REASONS)
        nreasons = TOP_REASONS;
    wr = width("relay", nreasons, reason_relay, reasons);
    for (size_t i = 0; i < nreasons; i++)
        printf("  %6llu  %-*.*s  %.200s\n", (unsigned long long)reasons[i].count, wr,
               NAME_COLUMN_MAX, reasons[i].relay, reasons[i].text);

    printf("\nsender domains:\n");
    wd = width("domain", ndoms, domain_name, doms);
    w = width("relay", ndoms, domain_relay, doms);
    printf("  %-*s %-*s %8s %8s %8s\n", wd, "domain", w, "relay", "sent", "deferred", "bounced");
    for (size_t i = 0; i < ndoms; i++)
        printf("  %-*.*s %-*.*s %8llu %8llu %8llu\n", wd, NAME_COLUMN_MAX, doms[i].name, w,
               NAME_COLUMN_MAX, doms[i].relay, (unsigned long long)doms[i].sent,
               (unsigned long long)doms[i].deferred, (unsigned long long)doms[i].bounced);

    if (dr->qids)
        printf("\nnote: %llu deliveries had no from= line in the input or the queue id table "
               "(%d messages at once) was full: no sender domain, and \"direct\" cannot be "
               "told from an unknown relay for them\n",
               (unsigned long long)dr->qids, REPORT_MAX_QIDS);
    if (dr->rows)
        printf("\nnote: relay table full (%d rows): %llu deliveries counted as \"(other)\"\n",
               REPORT_MAX_ROWS, (unsigned long long)dr->rows);
    if (dr->reasons)
        printf("\nnote: reason table full (%d): %llu deferrals with a new reason not listed\n",
               REPORT_MAX_REASONS, (unsigned long long)dr->reasons);
    if (dr->domains)
        printf("\nnote: sender domain table full (%d): %llu deliveries not listed by domain\n",
               REPORT_MAX_DOMAINS, (unsigned long long)dr->domains);
}

static void print_prometheus(struct report *rp, const struct lines *ln)
{
    static const char *const status[] = {"sent", "deferred", "bounced"};
    const struct report_row *rows;
    const struct report_dropped *dr = report_dropped(rp);
    size_t nrows = report_rows(rp, &rows);
    struct prom_label l[2];

    prom_family(stdout, "smarthostd_report_messages_total", PROM_COUNTER,
                "Deliveries found in the Postfix log per relay and final status (deferred: "
                "messages deferred at least once).");
    for (size_t i = 0; i < nrows; i++) {
        const uint64_t v[] = {rows[i].sent, rows[i].deferred, rows[i].bounced};
        for (size_t s = 0; s < 3; s++) {
            l[0] = (struct prom_label){"relay", rows[i].name};
            l[1] = (struct prom_label){"status", status[s]};
            prom_sample_u64(stdout, "smarthostd_report_messages_total", l, 2, v[s]);
        }
    }
    prom_family(stdout, "smarthostd_report_deferrals_total", PROM_COUNTER,
                "Deferred delivery attempts found in the Postfix log per relay.");
    for (size_t i = 0; i < nrows; i++) {
        l[0] = (struct prom_label){"relay", rows[i].name};
        prom_sample_u64(stdout, "smarthostd_report_deferrals_total", l, 1, rows[i].deferrals);
    }
    prom_family(stdout, "smarthostd_report_lines_total", PROM_COUNTER,
                "Log lines read, by what became of them.");
    const struct {
        const char *kind;
        unsigned long long n;
    } kinds[] = {{"read", ln->read},
                 {"delivery", ln->deliveries},
                 {"unparsed", ln->unparsed},
                 {"too_long", ln->too_long},
                 {"before_since", ln->before_since}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        l[0] = (struct prom_label){"kind", kinds[i].kind};
        prom_sample_u64(stdout, "smarthostd_report_lines_total", l, 1, kinds[i].n);
    }
    prom_family(stdout, "smarthostd_report_dropped_total", PROM_COUNTER,
                "Deliveries or deferrals left out of a table that was full (or, for "
                "queue_ids, whose message was never seen).");
    const struct {
        const char *table;
        uint64_t n;
    } tables[] = {{"queue_ids", dr->qids},
                  {"relays", dr->rows},
                  {"reasons", dr->reasons},
                  {"domains", dr->domains}};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        l[0] = (struct prom_label){"table", tables[i].table};
        prom_sample_u64(stdout, "smarthostd_report_dropped_total", l, 1, tables[i].n);
    }
}

void ctl_report_usage(FILE *out)
{
    fprintf(out,
            "usage: smarthostctl [-c FILE] report [--since DURATION] [--prometheus] "
            "[LOGFILE|-]\n"
            "       smarthostctl [-c FILE] report --follow [--control PATH] [LOGFILE|-]\n"
            "  LOGFILE: default " CTL_REPORT_DEFAULT_LOG
            ", or the journal (journalctl) when that cannot\n"
            "  be read; - is stdin. DURATION: 90s, 30m, 1h, 2d, 1w or sums like 1h30m\n"
            "  prints per configured relay (and direct) the deliveries sent, deferred and\n"
            "  bounced, the top deferral reasons, and the relay per sender domain;\n"
            "  --prometheus prints the per-relay counts in the Prometheus text format\n"
            "  --follow reads the log as it grows (from its end; rotation followed) and feeds\n"
            "  the same counts into the running smarthostd's metrics over its control socket\n"
            "  (default " CTL_CONTROL_DEFAULT "; root's): report_messages_total and\n"
            "  report_deferrals_total in `smarthostctl stats`\n");
}

static int usage_err(void)
{
    ctl_report_usage(stderr);
    return CTL_USAGE;
}

int ctl_report(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *file = NULL, *since_arg = NULL, *source, *control = NULL;
    bool prometheus = false, follow = false;
    long since_secs = 0;
    time_t now = time(NULL), since = 0;
    struct sh_snapshot *s;
    struct report *rp;
    struct lines ln = {0};
    pid_t journal = -1;
    FILE *in;
    int rc = CTL_OK;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
            since_arg = argv[++i];
            if (!parse_duration(since_arg, &since_secs)) {
                ctl_usage_err("--since \"%.40s\": not a duration", since_arg);
                return usage_err();
            }
            since = now - since_secs;
        } else if (strcmp(argv[i], "--prometheus") == 0) {
            prometheus = true;
        } else if (strcmp(argv[i], "--follow") == 0) {
            follow = true;
        } else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) {
            control = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            ctl_usage_err("report: option \"%.40s\" is not known", argv[i]);
            return usage_err();
        } else if (file == NULL) {
            file = argv[i];
        } else {
            ctl_usage_err("report: one LOGFILE at most");
            return usage_err();
        }
    }
    if (follow && (since_arg || prometheus)) {
        ctl_usage_err("report --follow counts from now on: no --since or --prometheus with it");
        return usage_err();
    }
    if (control && !follow) {
        ctl_usage_err("report: --control goes with --follow");
        return usage_err();
    }
    if ((s = ctl_load(ctx->config_path)) == NULL)
        return CTL_FAIL;
    if (follow)
        return ctl_report_follow(ctx->config_path, s, file,
                                 control ? control : CTL_CONTROL_DEFAULT);
    source = file ? file : CTL_REPORT_DEFAULT_LOG;
    if (file && strcmp(file, "-") == 0) {
        in = stdin, source = "stdin";
    } else if ((in = fopen(source, "r")) == NULL) {
        int e = errno;
        if (file == NULL && ctl_journalctl_found() &&
            (in = ctl_open_journal(since, false, &journal))) {
            source = "journalctl -u postfix*";
        } else {
            ctl_err("%s: %s%s", source, strerror(e),
                    file ? "" : " (and no journalctl to read instead)");
            sh_snapshot_free(s);
            return CTL_FAIL;
        }
    }
    int c = getc(in); /* rotated logs are often gzip'ed: say so instead of counting noise */
    if (c == 0x1f) {
        rc = ctl_err("%s is compressed: zcat it into `report -`", source);
    } else if (c != EOF) {
        ungetc(c, in);
    }
    rp = report_new(s);
    if (rc == CTL_OK) {
        tally(in, rp, now, since, &ln);
        if (ferror(in)) {
            rc = ctl_err("reading %s: %s", source, strerror(errno));
        }
    }
    if (in != stdin)
        fclose(in);
    if (journal > 0) {
        int st;
        while (waitpid(journal, &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            rc = ctl_err("journalctl failed");
        }
    }
    if (rc == CTL_OK) {
        if (prometheus)
            print_prometheus(rp, &ln);
        else
            print_text(rp, source, since_arg, &ln);
    }
    report_free(rp);
    sh_snapshot_free(s);
    return rc;
}
