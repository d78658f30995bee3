/* t_prometheus.c - the Prometheus text format writer: names, escaping, HELP/TYPE lines. */
#include <math.h>
#include <stdlib.h>

#include "prometheus.h"
#include "tap.h"

static char *buf;
static size_t len;

static FILE *open_buf(void)
{
    free(buf);
    buf = NULL;
    return open_memstream(&buf, &len);
}

int main(void)
{
    struct prom_label l[3];
    FILE *f;

    ok(prom_metric_name_valid("smarthostd_lookups_total"), "plain metric name");
    ok(prom_metric_name_valid("ns:sub_metric"), "colons are allowed in metric names");
    ok(!prom_metric_name_valid("1abc"), "a metric name cannot start with a digit");
    ok(!prom_metric_name_valid("a-b"), "no dash in a metric name");
    ok(!prom_metric_name_valid(""), "the empty metric name is refused");
    ok(prom_label_name_valid("relay"), "plain label name");
    ok(!prom_label_name_valid("a:b"), "no colon in a label name");
    ok(!prom_label_name_valid("__name__"), "label names starting with __ are reserved");
    ok(!prom_label_name_valid("9x"), "a label name cannot start with a digit");

    f = open_buf();
    ok(prom_family(f, "x_total", PROM_COUNTER, "Help with \\ and\nnewline and \"quotes\"."),
       "family accepted");
    fclose(f);
    is_str(buf,
           "# HELP x_total Help with \\\\ and\\nnewline and \"quotes\".\n"
           "# TYPE x_total counter\n",
           "HELP escapes backslash and newline (not quotes), TYPE follows");

    f = open_buf();
    prom_family(f, "g", PROM_GAUGE, "");
    prom_family(f, "u", PROM_UNTYPED, "h");
    fclose(f);
    is_str(buf, "# HELP g \n# TYPE g gauge\n# HELP u h\n# TYPE u untyped\n", "gauge and untyped");

    f = open_buf();
    l[0] = (struct prom_label){"relay", "a\\b\"c\nd"};
    l[1] = (struct prom_label){"status", "sent"};
    ok(prom_sample_u64(f, "x_total", l, 2, 18446744073709551615ull), "sample accepted");
    ok(prom_sample_u64(f, "x_total", NULL, 0, 0), "sample without labels");
    fclose(f);
    is_str(buf,
           "x_total{relay=\"a\\\\b\\\"c\\nd\",status=\"sent\"} 18446744073709551615\nx_total 0\n",
           "label values escape backslash, quote and newline; u64 max is exact");

    f = open_buf();
    l[0] = (struct prom_label){"le", "x"};
    prom_sample_double(f, "d", l, 1, 0.5);
    prom_sample_double(f, "d", NULL, 0, NAN);
    prom_sample_double(f, "d", NULL, 0, INFINITY);
    prom_sample_double(f, "d", NULL, 0, -INFINITY);
    fclose(f);
    is_str(buf, "d{le=\"x\"} 0.5\nd NaN\nd +Inf\nd -Inf\n", "doubles, NaN and infinities");

    f = open_buf();
    l[0] = (struct prom_label){"relay", "a"};
    l[1] = (struct prom_label){"relay", "b"};
    l[2] = (struct prom_label){"bad-name", "c"};
    ok(!prom_sample_u64(f, "x", l, 2, 1), "duplicate label names are refused");
    ok(!prom_sample_u64(f, "x", l + 2, 1, 1), "an invalid label name is refused");
    ok(!prom_sample_u64(f, "x y", NULL, 0, 1), "an invalid metric name is refused");
    ok(!prom_family(f, "bad name", PROM_GAUGE, "h"), "a family with an invalid name is refused");
    ok(!prom_sample_u64(f, "x", l, PROM_MAX_LABELS + 1, 1), "too many labels are refused");
    fclose(f);
    is_str(buf, "", "nothing at all is written for what is refused");
    free(buf);
    return done_testing();
}
