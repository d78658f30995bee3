/* fuzz_maillog.c - the Postfix log line parser (libFuzzer target): any bytes give a record or
 * false; every string in the record is NUL-terminated, within its buffer and printable; the
 * relay and reason helpers and the reason normalizer stay within their buffers, and
 * normalizing a normalized reason changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maillog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n == cap)
        abort();
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] >= 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct maillog_rec r;
    char host[MAILLOG_MAX_RELAY + 1], addr[MAILLOG_MAX_RELAY + 1], peer[MAILLOG_MAX_RELAY + 1];
    char norm[MAILLOG_MAX_REASON + 1], again[MAILLOG_MAX_REASON + 1], tiny[8];
    unsigned port;
    time_t t;

    if (size > MAILLOG_MAX_LINE)
        size = MAILLOG_MAX_LINE;
    if (!maillog_parse((const char *)data, size, &r))
        return 0;
    printable(r.host, sizeof(r.host));
    printable(r.program, sizeof(r.program));
    printable(r.queue_id, sizeof(r.queue_id));
    printable(r.from, sizeof(r.from));
    printable(r.to, sizeof(r.to));
    printable(r.relay, sizeof(r.relay));
    printable(r.dsn, sizeof(r.dsn));
    printable(r.status, sizeof(r.status));
    printable(r.reason, sizeof(r.reason));
    if (r.stamp.mon < 1 || r.stamp.mon > 12 || r.stamp.mday < 1 || r.stamp.mday > 31)
        abort();
    maillog_time(&r.stamp, 1767225600, &t);
    if (maillog_relay_split(r.relay, host, addr, &port) && (port > 65535 || host[0] == 0))
        abort();
    if (maillog_reason_peer(r.reason, peer))
        printable(peer, sizeof(peer));
    maillog_reason_normalize(r.reason, norm, sizeof(norm));
    printable(norm, sizeof(norm));
    maillog_reason_normalize(norm, again, sizeof(again));
    if (strcmp(norm, again) != 0)
        abort();
    maillog_reason_normalize(r.reason, tiny, sizeof(tiny));
    printable(tiny, sizeof(tiny));
    return 0;
}
