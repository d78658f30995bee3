/* t_netstring.c - netstring codec edge cases (TAP). */
#include <stdio.h>
#include <string.h>

#include "netstring.h"
#include "tap.h"

static enum netstring_status dec(const char *s, size_t max, struct netstring_frame *f)
{
    return netstring_decode(s, strlen(s), max, f);
}

static void test_complete(void)
{
    struct netstring_frame f;

    ok(dec("12:hello world!,", 2048, &f) == NETSTRING_COMPLETE && f.len == 12 &&
           memcmp(f.data, "hello world!", 12) == 0 && f.consumed == 16,
       "simple frame");
    ok(dec("0:,", 2048, &f) == NETSTRING_COMPLETE && f.len == 0 && f.consumed == 3,
       "empty payload");
    ok(netstring_decode("3:a\0b,", 6, 2048, &f) == NETSTRING_COMPLETE && f.len == 3 &&
           f.data[1] == 0,
       "payload with NUL byte");
    ok(dec("3:a,b,", 2048, &f) == NETSTRING_COMPLETE && memcmp(f.data, "a,b", 3) == 0,
       "comma inside payload");
}

static void test_split(void)
{
    const char *frame = "11:relay a@b.c,";
    size_t n = strlen(frame);
    struct netstring_frame f;
    int all_need_more = 1;

    for (size_t i = 0; i < n; i++)
        if (netstring_decode(frame, i, 2048, &f) != NETSTRING_NEED_MORE)
            all_need_more = 0;
    ok(all_need_more, "every strict prefix needs more");
    ok(netstring_decode(frame, n, 2048, &f) == NETSTRING_COMPLETE && f.consumed == n,
       "complete once the comma arrives");
    ok(netstring_decode("", 0, 2048, &f) == NETSTRING_NEED_MORE, "empty buffer needs more");
}

static void test_pipelined(void)
{
    const char *buf = "7:relay a,6:sasl b,5:tls c,4:tr";
    size_t len = strlen(buf), off = 0;
    const char *want[] = {"relay a", "sasl b", "tls c"};
    struct netstring_frame f;
    int i = 0, good = 1;

    while (netstring_decode(buf + off, len - off, 2048, &f) == NETSTRING_COMPLETE) {
        if (i >= 3 || f.len != strlen(want[i]) || memcmp(f.data, want[i], f.len) != 0)
            good = 0;
        off += f.consumed;
        i++;
    }
    ok(good && i == 3, "three pipelined frames in one buffer");
    ok(netstring_decode(buf + off, len - off, 2048, &f) == NETSTRING_NEED_MORE,
       "partial fourth frame needs more");
}

static void test_malformed(void)
{
    struct netstring_frame f;

    ok(dec("abc", 2048, &f) == NETSTRING_MALFORMED && f.why, "non-numeric length");
    ok(dec("1a:", 2048, &f) == NETSTRING_MALFORMED, "digit then letter");
    ok(dec(":,", 2048, &f) == NETSTRING_MALFORMED, "empty length");
    ok(dec("-1:", 2048, &f) == NETSTRING_MALFORMED, "negative length");
    ok(dec(" 1:a,", 2048, &f) == NETSTRING_MALFORMED, "leading space");
    ok(dec("00:,", 2048, &f) == NETSTRING_MALFORMED, "leading zero (00)");
    ok(dec("01:a,", 2048, &f) == NETSTRING_MALFORMED, "leading zero (01)");
    ok(dec("0", 2048, &f) == NETSTRING_NEED_MORE, "lone zero is a valid prefix");
    ok(dec("3:abc;", 2048, &f) == NETSTRING_MALFORMED, "missing comma");
    ok(dec("3:abcd,", 2048, &f) == NETSTRING_MALFORMED, "payload longer than length");
    ok(dec("2049:", 2048, &f) == NETSTRING_MALFORMED, "length over limit");
    ok(dec("2048:", 2048, &f) == NETSTRING_NEED_MORE, "length at limit is fine");
    ok(dec("3000", 2048, &f) == NETSTRING_MALFORMED, "over limit before the colon");
    ok(dec("99999999999999999999999999:", 2048, &f) == NETSTRING_MALFORMED, "huge length");
    ok(dec("18446744073709551616:", (size_t)-1, &f) == NETSTRING_MALFORMED,
       "2^64 overflows size_t: refused");
    ok(dec("184467440737095516:", (size_t)-1, &f) == NETSTRING_MALFORMED,
       "too many digits even with no limit");
    ok(dec("5:", 0, &f) == NETSTRING_MALFORMED, "max 0 refuses non-empty");
    ok(dec("0:,", 0, &f) == NETSTRING_COMPLETE, "max 0 accepts empty");
}

static void test_encode(void)
{
    char out[64], hdr[NETSTRING_HDR_MAX];
    struct netstring_frame f;
    size_t n = netstring_encode(out, sizeof(out), "OK [a]:25", 9);

    ok(n == 12 && memcmp(out, "9:OK [a]:25,", 12) == 0, "encode");
    ok(netstring_decode(out, n, 2048, &f) == NETSTRING_COMPLETE && f.len == 9, "round trip");
    ok(netstring_encode(out, 5, "hello", 5) == 0, "encode refuses a short buffer");
    ok(netstring_encode(out, 8, "hello", 5) == 8, "encode fits exactly");
    ok(netstring_encode(out, sizeof(out), "", 0) == 3 && memcmp(out, "0:,", 3) == 0,
       "encode empty");
    ok(netstring_header(hdr, 100000) == 7 && strcmp(hdr, "100000:") == 0, "header of max reply");
}

int main(void)
{
    test_complete();
    test_split();
    test_pipelined();
    test_malformed();
    test_encode();
    return done_testing();
}
