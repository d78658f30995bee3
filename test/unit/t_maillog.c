/* t_maillog.c - the Postfix log line parser: stamps, queue ids, fields, reasons, time. */
#include <stdlib.h>
#include <string.h>

#include "maillog.h"
#include "tap.h"

static struct maillog_rec r;

static bool parse(const char *line)
{
    return maillog_parse(line, strlen(line), &r);
}

static const char *norm(const char *reason)
{
    static char out[MAILLOG_MAX_REASON + 1];
    maillog_reason_normalize(reason, out, sizeof(out));
    return out;
}

int main(void)
{
    char host[MAILLOG_MAX_RELAY + 1], addr[MAILLOG_MAX_RELAY + 1], peer[MAILLOG_MAX_RELAY + 1];
    unsigned port;
    time_t t;

    ok(parse("Nov 30 19:37:17 lab postfix/smtp[7814]: 112AAA72689: to=<rcpt@[127.0.0.2]>, "
             "relay=127.0.0.1[127.0.0.1]:19003, delay=0.01, delays=0/0/0.01/0, dsn=2.0.0, "
             "status=sent (250 2.0.0 Ok: recorded)"),
       "a maillog_file delivery line parses");
    ok(r.stamp.year == 0 && r.stamp.mon == 11 && r.stamp.mday == 30 && r.stamp.hour == 19 &&
           !r.stamp.has_offset,
       "traditional stamp: no year, no offset");
    is_str(r.host, "lab", "host");
    is_str(r.program, "postfix/smtp", "program without [pid]");
    is_str(r.queue_id, "112AAA72689", "short queue id");
    is_str(r.to, "rcpt@[127.0.0.2]", "to= without <>, address literal intact");
    is_str(r.relay, "127.0.0.1[127.0.0.1]:19003", "relay");
    is_str(r.dsn, "2.0.0", "dsn");
    is_str(r.status, "sent", "status");
    is_str(r.reason, "250 2.0.0 Ok: recorded", "reason without the parentheses");

    ok(parse("2026-11-30T19:20:10.123456+01:00 mx postfix/qmgr[1]: 4ZVd1T2Xqbz9sqJ: from=<>, "
             "size=1, nrcpt=1 (queue active)"),
       "an RFC 3339 qmgr line parses");
    ok(r.stamp.year == 2026 && r.stamp.has_offset && r.stamp.offset == 3600, "offset +01:00");
    is_str(r.queue_id, "4ZVd1T2Xqbz9sqJ", "long queue id");
    ok((r.fields & MAILLOG_FROM) && r.from[0] == 0, "from=<> is the null sender, present");
    ok(maillog_time(&r.stamp, 0, &t) && t == 1796062810, "RFC 3339 time with offset (18:20:10Z)");

    ok(parse("2026-11-30T19:20:10+0000 mx postfix/qmgr[1]: ABCDEF: from=<a@b>, size=1"),
       "journalctl short-iso (+0000) parses");
    ok(parse("Nov  3 01:02:03 h postfix/smtp[1]: warning: no queue id here"), "space-padded day");
    is_str(r.queue_id, "", "\"warning\" is not a queue id");
    ok(parse("Nov  3 01:02:03 h postfix/smtpd[1]: NOQUEUE: reject: RCPT from x"), "NOQUEUE");
    is_str(r.queue_id, "", "\"NOQUEUE\" is not a queue id");
    ok(parse("Nov  3 01:02:03 h postfix/postsuper[9]: 4F1B2C0A12: removed") &&
           r.fields == MAILLOG_REMOVED && strcmp(r.queue_id, "4F1B2C0A12") == 0,
       "QID: removed (postsuper -d logs it as qmgr does)");
    ok(parse("Nov  3 01:02:03 h postfix/postsuper[9]: 4F1B2C0A12: removed twice") &&
           !(r.fields & MAILLOG_REMOVED),
       "only the bare word is a removal");
    ok(parse("Nov  3 01:02:03 h postfix/postsuper[9]: 4F1B2C0A12: requeued") &&
           !(r.fields & MAILLOG_REMOVED),
       "requeued is no removal");
    ok(!parse("Nov 32 01:02:03 h p: x"), "day 32 is refused");
    ok(!parse("Foo  3 01:02:03 h p: x"), "unknown month is refused");
    ok(!parse("Nov  3 01:02:03 h"), "no program is refused");
    ok(!parse("Nov  3 25:02:03 h p: x"), "hour 25 is refused");

    ok(parse("Nov  3 01:02:03 h postfix/smtp[1]: ABCDEF: to=<\"a, b\"@x>, relay=none, "
             "status=deferred (a (nested) reason)"),
       "quoted comma in an address, nested parentheses in the reason");
    is_str(r.to, "\"a, b\"@x", "address with a quoted comma kept whole");
    is_str(r.reason, "a (nested) reason", "reason up to the last parenthesis");
    ok(parse("Nov  3 01:02:03 h p[1]: ABCDEF: to=<x\x1b[31m@y>, relay=none, status=sent"),
       "escape bytes parse");
    is_str(r.to, "x?[31m@y", "control bytes become ?");

    ok(maillog_relay_split("mx.b.c[1.2.3.4]:25", host, addr, &port) && port == 25 &&
           strcmp(host, "mx.b.c") == 0 && strcmp(addr, "1.2.3.4") == 0,
       "relay split");
    ok(maillog_relay_split("h[2001:db8::1]:587", host, addr, &port) && port == 587 &&
           strcmp(addr, "2001:db8::1") == 0,
       "relay split, IPv6");
    ok(!maillog_relay_split("none", host, addr, &port), "none is no host");
    ok(!maillog_relay_split("h[1.2.3.4]:65536", host, addr, &port), "port out of range");
    ok(!maillog_relay_split("h[1.2.3.4]x", host, addr, &port), "junk after ]");
    ok(maillog_reason_peer("delivery temporarily suspended: connect to a[1.2.3.4]:25: "
                           "Connection timed out",
                           peer),
       "peer of a connect failure");
    is_str(peer, "a[1.2.3.4]:25", "peer text");
    ok(!maillog_reason_peer("host a[1.2.3.4] said: 450 try later", peer), "said: is no peer");

    is_str(norm("host mx.b.c[1.2.3.4] said: 450 4.7.1 <x@y.com>: try again in 300 seconds "
                "(in reply to RCPT TO command)"),
           "host HOST said: 450 4.7.1 <ADDR>: try again in N seconds (in reply to RCPT TO command)",
           "reply codes stay, host, address and number go");
    is_str(norm("connect to 127.0.0.1[127.0.0.1]:2604: Connection refused"),
           "connect to HOST: Connection refused", "host and port go");
    is_str(norm("queued as 4ZVd1T2Xqbz9sqJ, id mx7"), "queued as ID, id mxN", "ids and digits");
    is_str(norm(norm("host a[1] said: 451 4.3.0 <a@b> x12 99")),
           norm("host a[1] said: 451 4.3.0 <a@b> x12 99"), "normalizing twice changes nothing");

    /* Year inference, in UTC so the figures are fixed. */
    setenv("TZ", "UTC", 1);
    tzset();
    ok(parse("Dec 31 23:59:00 h p[1]: x") &&
           maillog_time(&r.stamp, 1767225600 /* 2026-01-01 */, &t) && t == 1767225540,
       "Dec 31 read on Jan 1 is last year's");
    ok(parse("Jan  1 00:01:00 h p[1]: x") && maillog_time(&r.stamp, 1767225600, &t) &&
           t == 1767225660,
       "Jan 1 read on Jan 1 is this year's");
    ok(parse("Feb 29 00:00:00 h p[1]: x") && !maillog_time(&r.stamp, 1767225600, &t),
       "Feb 29 in a year with none (2026, 2025) is refused");
    return done_testing();
}
