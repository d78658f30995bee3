/* milter_conf.c - the `milter` group (issue 4). Not implemented yet: refuse it
 * loudly rather than accept rules that nothing would enforce. */
#include <stdio.h>
#include "milter_conf.h"

bool sh_milter_conf_load(struct sh_snapshot *s, const config_setting_t *group, struct sh_error *err)
{
    (void)s;
    snprintf(err->text, sizeof(err->text), "%s:%d: milter: not supported by this version",
             config_setting_source_file(group) ? config_setting_source_file(group) : "?",
             config_setting_source_line(group));
    return false;
}

void sh_milter_conf_free(struct sh_milter_conf *p)
{
    (void)p;
}
