/* policy_conf.h - the `policy` group: SMTP-time rules for the policy service (issue 3). */
#ifndef SH_POLICY_CONF_H
#define SH_POLICY_CONF_H

#include <stdbool.h>
#include <libconfig.h>
#include "config.h"

/* Parse GROUP (the top-level `policy` setting) into s->policy; relays are
 * already loaded (sh_snapshot_relay()). false with err->text = "FILE:LINE: ..." */
bool sh_policy_conf_load(struct sh_snapshot *s, const config_setting_t *group, struct sh_error *err);
void sh_policy_conf_free(struct sh_policy_conf *p);

#endif
