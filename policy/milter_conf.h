/* milter_conf.h - the `milter` group: header rules for smarthostd-milter (issue 4). */
#ifndef SH_MILTER_CONF_H
#define SH_MILTER_CONF_H

#include <stdbool.h>
#include <libconfig.h>
#include "config.h"

/* Parse GROUP (the top-level `policy` setting) into s->milter; relays are
 * already loaded (sh_snapshot_relay()). false with err->text = "FILE:LINE: ..." */
bool sh_milter_conf_load(struct sh_snapshot *s, const config_setting_t *group, struct sh_error *err);
void sh_milter_conf_free(struct sh_milter_conf *p);

#endif
