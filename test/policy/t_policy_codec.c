/* t_policy_codec.c - SMTPD_POLICY_README framing: complete, partial, limits, malformed. */
#include <stdlib.h>
#include <string.h>

#include "policy_codec.h"
#include "tap.h"

static enum policy_parse parse(const char *s, struct policy_request *r, size_t *used)
{
    const char *why;
    return policy_parse(s, strlen(s), r, used, &why);
}

static int val_is(const struct policy_request *r, enum policy_attr a, const char *s)
{
    return policy_attr_is(r, a, s);
}

static void test_framing(void)
{
    struct policy_request r;
    const char *two = "request=smtpd_access_policy\nsender=a@b\n\nrequest=smtpd_access_policy\n\n";
    size_t used;

    ok(parse("request=smtpd_access_policy\nsender=a@b.c\n\n", &r, &used) == POLICY_OK &&
           used == 42 && val_is(&r, PA_SENDER, "a@b.c") && r.nattrs == 2,
       "a complete request");
    ok(parse(two, &r, &used) == POLICY_OK &&
           used == strlen("request=smtpd_access_policy\nsender=a@b\n\n"),
       "pipelined: the first request only is consumed");
    ok(parse(two + used, &r, &used) == POLICY_OK && r.attr[PA_SENDER].p == NULL,
       "pipelined: then the second one");
    ok(parse("request=smtpd_access_policy\nsender=a@b", &r, &used) == POLICY_NEED_MORE,
       "no newline yet: need more");
    ok(parse("request=smtpd_access_policy\n", &r, &used) == POLICY_NEED_MORE,
       "no empty line yet: need more");
    ok(parse("", &r, &used) == POLICY_NEED_MORE, "nothing: need more");
    ok(parse("request=smtpd_access_policy\r\nsender=x@y\r\n\r\n", &r, &used) == POLICY_OK &&
           val_is(&r, PA_SENDER, "x@y"),
       "CRLF tolerated");
    ok(parse("sender=\nrecipient=r@x\n\n", &r, &used) == POLICY_OK && r.attr[PA_SENDER].p != NULL &&
           r.attr[PA_SENDER].len == 0,
       "empty value is present, not absent");
    ok(parse("x=a=b\nsender=s=t@u\n\n", &r, &used) == POLICY_OK && val_is(&r, PA_SENDER, "s=t@u"),
       "value split at the first '='");
}

static void test_attributes(void)
{
    struct policy_request r;
    size_t used;

    ok(parse("foo=bar\nccert_subject=x\nrequest=smtpd_access_policy\n\n", &r, &used) == POLICY_OK &&
           val_is(&r, PA_REQUEST, "smtpd_access_policy") && r.nattrs == 3,
       "unknown attributes ignored but counted");
    ok(parse("sender=first@x\nsender=last@x\n\n", &r, &used) == POLICY_OK &&
           val_is(&r, PA_SENDER, "last@x"),
       "repeated attribute: the last one wins");
    ok(parse("SENDER=a@b\n\n", &r, &used) == POLICY_OK && r.attr[PA_SENDER].p == NULL,
       "names are case-sensitive, as Postfix sends them");
}

static void test_malformed(void)
{
    struct policy_request r;
    const char *why = NULL;
    size_t used;
    char *big = malloc(POLICY_MAX_REQUEST * 2);

    ok(parse("\n", &r, &used) == POLICY_MALFORMED, "empty request is malformed");
    ok(parse("garbage\n\n", &r, &used) == POLICY_MALFORMED, "line without '='");
    ok(parse("=value\n\n", &r, &used) == POLICY_MALFORMED, "empty name");
    ok(policy_parse("sender=a\0b\n\n", 11, &r, &used, &why) == POLICY_MALFORMED && why && why[0],
       "NUL byte refused, with a reason");

    memset(big, 'a', POLICY_MAX_LINE + 10);
    memcpy(big, "helo_name=", 10);
    ok(policy_parse(big, POLICY_MAX_LINE + 10, &r, &used, &why) == POLICY_MALFORMED,
       "overlong line refused before its newline arrives");
    big[POLICY_MAX_LINE] = '\n';
    big[POLICY_MAX_LINE + 1] = '\n';
    ok(policy_parse(big, POLICY_MAX_LINE + 2, &r, &used, &why) == POLICY_OK,
       "a line of exactly POLICY_MAX_LINE bytes is fine");
    big[POLICY_MAX_LINE] = 'a';
    big[POLICY_MAX_LINE + 1] = '\n';
    big[POLICY_MAX_LINE + 2] = '\n';
    ok(policy_parse(big, POLICY_MAX_LINE + 3, &r, &used, &why) == POLICY_MALFORMED,
       "one byte more is too long");

    size_t n = 0;
    for (int i = 0; i <= POLICY_MAX_ATTRS; i++)
        n += (size_t)sprintf(big + n, "x%d=1\n", i);
    big[n++] = '\n';
    ok(policy_parse(big, n, &r, &used, &why) == POLICY_MALFORMED, "too many attributes");

    n = 0;
    while (n < POLICY_MAX_REQUEST + 100)
        n += (size_t)sprintf(big + n, "helo_name=%0500d\n", 1);
    ok(policy_parse(big, n, &r, &used, &why) == POLICY_MALFORMED, "request longer than the limit");
    free(big);
}

int main(void)
{
    test_framing();
    test_attributes();
    test_malformed();
    return done_testing();
}
