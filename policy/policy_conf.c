/* policy_conf.c - the `policy` group (issue 3). Not implemented yet: refuse it
 * loudly rather than accept rules that nothing would enforce. */
#include <stdio.h>
#include "policy_conf.h"

bool sh_policy_conf_load(struct sh_snapshot *s, const config_setting_t *group, struct sh_error *err)
{
    (void)s;
    snprintf(err->text, sizeof(err->text), "%s:%d: policy: not supported by this version",
             config_setting_source_file(group) ? config_setting_source_file(group) : "?",
             config_setting_source_line(group));
    return false;
}

void sh_policy_conf_free(struct sh_policy_conf *p)
{
    (void)p;
}
