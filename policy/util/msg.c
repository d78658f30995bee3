/* msg.c - logging facade: syslog(LOG_MAIL) and/or stderr, fixed severities. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"

int msg_verbose;
static const char *msg_ident = "smarthostd";
static bool msg_stderr = true; /* until msg_open(): a CLI or an early failure prints to stderr */
static bool msg_syslog;

void msg_open(const char *ident, bool to_stderr)
{
    msg_ident = ident;
    msg_stderr = to_stderr;
    msg_syslog = !to_stderr;
    if (msg_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* systemd sets JOURNAL_STREAM=DEV:INODE when stderr is the journal (systemd.exec(5)). */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
           fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

void msg_open_daemon(const char *ident, bool copy_to_stderr)
{
    msg_ident = ident;
    msg_syslog = true;
    openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    msg_set_stderr(copy_to_stderr);
}

void msg_set_stderr(bool on)
{
    /* The journal already has every syslog line: a copy there would double it. */
    msg_stderr = on && !(msg_syslog && stderr_is_journal());
}

void msg_set_verbose(int level)
{
    msg_verbose = level;
}

static void msg_vlog(int prio, const char *tag, const char *fmt, va_list ap) SH_PRINTF(3, 0);
static void msg_vlog(int prio, const char *tag, const char *fmt, va_list ap)
{
    int saved = errno; /* keep %m meaningful */
    char line[2048];
    size_t ident, head;
    int n;

    /* Format once as "ident: tag message\n". Syslog gets it from the tag on (syslog adds
     * its own "ident[pid]: "); stderr gets all of it in one write() so concurrent
     * threads do not interleave. */
    n = snprintf(line, sizeof(line), "%s: ", msg_ident);
    ident = n > 0 && (size_t)n < sizeof(line) / 2 ? (size_t)n : 0;
    head = ident + (size_t)snprintf(line + ident, sizeof(line) - ident, "%s", tag);
    errno = saved;
    n = vsnprintf(line + head, sizeof(line) - head - 1, fmt, ap);
    if (n < 0)
        n = 0;
    head = head + (size_t)n < sizeof(line) - 1 ? head + (size_t)n : sizeof(line) - 2;
    if (msg_syslog) {
        line[head] = 0;
        syslog(prio, "%s", line + ident);
    }
    if (msg_stderr) {
        line[head++] = '\n';
        if (write(STDERR_FILENO, line, head) < 0) {
            /* nowhere left to report it */
        }
    }
    errno = saved;
}

void msg_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    msg_vlog(LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    msg_vlog(LOG_WARNING, "warning: ", fmt, ap);
    va_end(ap);
}

void msg_warn_rate(struct msg_rate *r, const char *fmt, ...)
{
    long now = (long)time(NULL);
    int dropped;
    va_list ap;

    if (__atomic_exchange_n(&r->second, now, __ATOMIC_RELAXED) != now)
        __atomic_store_n(&r->count, 0, __ATOMIC_RELAXED);
    if (__atomic_add_fetch(&r->count, 1, __ATOMIC_RELAXED) > MSG_RATE_BURST) {
        __atomic_add_fetch(&r->suppressed, 1, __ATOMIC_RELAXED);
        return;
    }
    if ((dropped = __atomic_exchange_n(&r->suppressed, 0, __ATOMIC_RELAXED)) > 0)
        msg_warn("%d similar warnings suppressed (more than %d a second)", dropped, MSG_RATE_BURST);
    va_start(ap, fmt);
    msg_vlog(LOG_WARNING, "warning: ", fmt, ap);
    va_end(ap);
}

void msg_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    msg_vlog(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    exit(1);
}

void msg_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    msg_vlog(LOG_CRIT, "panic: ", fmt, ap);
    va_end(ap);
    abort();
}

const char *msg_printable(char *buf, size_t cap, const char *s, size_t len)
{
    static const char more[] = "...";
    size_t n = 0;

    if (cap == 0)
        return "";
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n < len && cap > sizeof(more)) {
        if (n > cap - sizeof(more))
            n = cap - sizeof(more);
        memcpy(buf + n, more, sizeof(more) - 1);
        n += sizeof(more) - 1;
    }
    buf[n] = 0;
    return buf;
}
