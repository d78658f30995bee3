/* config.h - libconfig file (+ docker-mailserver environment) -> snapshot. */
#ifndef SH_CONFIG_H
#define SH_CONFIG_H

#include "snapshot.h"

#ifndef SH_SYSCONFDIR
#define SH_SYSCONFDIR "/etc"
#endif
#define SH_DEFAULT_CONFIG SH_SYSCONFDIR "/smarthostd/smarthostd.conf"

struct sh_error {
    char text[1024]; /* "FILE:LINE: setting: message", never a secret */
};

/* Build a complete snapshot from PATH and the RELAY_* / DEFAULT_RELAY_HOST
 * environment. NULL on any error, with err->text set; nothing half-built escapes. */
struct sh_snapshot *sh_config_load(const char *path, struct sh_error *err);
/* The same, but the `managed` group comes from MANAGED_PATH instead of the copy
 * PATH @includes: smarthostctl validates a new managed file before renaming it in. */
struct sh_snapshot *sh_config_load_managed(const char *path, const char *managed_path,
                                           struct sh_error *err);

#endif
