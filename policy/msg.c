/* msg.c - logging facade: syslog(LOG_MAIL) or stderr, fixed severities. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "msg.h"

int msg_verbose;
static const char *msg_ident = "smarthostd";
static bool msg_stderr = true; /* until msg_open(): a CLI or an early failure prints to stderr */

void msg_open(const char *ident, bool to_stderr)
{
    msg_ident = ident;
    msg_stderr = to_stderr;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void msg_set_verbose(int level)
{
    msg_verbose = level;
}

static void msg_vlog(int prio, const char *tag, const char *fmt, va_list ap)
{
    int saved = errno; /* keep %m meaningful */
    char line[2048];

    errno = saved;
    vsnprintf(line, sizeof(line), fmt, ap);
    if (msg_stderr) {
        /* One write per line so concurrent threads do not interleave. */
        char out[2200];
        int n = snprintf(out, sizeof(out), "%s: %s%s\n", msg_ident, tag, line);
        if (n > (int)sizeof(out) - 1)
            n = sizeof(out) - 1, out[n - 1] = '\n';
        if (write(STDERR_FILENO, out, (size_t)n) < 0) {
            /* nowhere left to report it */
        }
    } else {
        syslog(prio, "%s%s", tag, line);
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
