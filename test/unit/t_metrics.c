/* t_metrics.c - the daemons' named counters: policy verdicts per rule and the report --follow
 * feed keep their label sets bounded, whatever the config or the feeder sends. */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "tap.h"

static char *text;
static size_t len;

static const char *prometheus(void)
{
    FILE *f;

    free(text);
    text = NULL;
    f = open_memstream(&text, &len);
    sh_metrics_prometheus(f, "smarthostd_", NULL);
    fclose(f);
    return text;
}

static int lines_with(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

int main(void)
{
    struct policy_verdict v = {0};
    char rules[300][32];
    const char *as;

    sh_metrics_init();
    for (int i = 0; i < 300; i++) {
        snprintf(rules[i], sizeof(rules[i]), "@d%d.example", i);
        v.reason = PR_AUTH_REQUIRED;
        v.rule = rules[i];
        sh_metrics_policy_verdict(&v);
    }
    v.rule = rules[0];
    sh_metrics_policy_verdict(&v); /* an existing pair keeps its row, cap reached or not */
    v.reason = PR_NONE;
    v.rule = NULL;
    sh_metrics_policy_verdict(&v);
    prometheus();
    ok(strstr(text, "smarthostd_policy_verdicts_total{reason=\"require_auth\"} 301\n") != NULL,
       "every verdict counted by reason");
    ok(strstr(text, "smarthostd_policy_verdicts_total{reason=\"none\"} 1\n") != NULL,
       "DUNNO counted by reason");
    ok(strstr(text, "{reason=\"require_auth\",rule=\"@d0.example\"} 2\n") != NULL,
       "a rule with a row keeps counting in it");
    ok(lines_with(text, "smarthostd_policy_rule_verdicts_total{") == SH_METRIC_POLICY_RULES + 1,
       "at most %d rule rows, then one (other)", SH_METRIC_POLICY_RULES);
    ok(strstr(text, "{reason=\"require_auth\",rule=\"(other)\"} 44\n") != NULL,
       "the rules past the cap are summed in (other)");
    ok(strstr(text, "reason=\"none\",rule=") == NULL, "DUNNO has no rule row");

    ok(sh_metrics_delivery(NULL, "direct", "sent", 3, &as) && strcmp(as, "direct") == 0,
       "direct is its own row");
    ok(sh_metrics_delivery(NULL, "mailgun", "deferrals", 2, &as) && strcmp(as, "(other)") == 0,
       "a name the config does not have is (other)");
    ok(!sh_metrics_delivery(NULL, "direct", "delivered", 1, &as), "an unknown status is refused");
    prometheus();
    ok(strstr(text, "smarthostd_report_messages_total{relay=\"direct\",status=\"sent\"} 3\n") !=
           NULL,
       "report_messages_total{direct,sent}");
    ok(strstr(text, "smarthostd_report_deferrals_total{relay=\"(other)\"} 2\n") != NULL,
       "report_deferrals_total{(other)}");
    free(text);
    return done_testing();
}
