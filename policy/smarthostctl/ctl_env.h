/* ctl_env.h - the daemon's environment file, read as systemd's EnvironmentFile= does. */
#ifndef SH_CTL_ENV_H
#define SH_CTL_ENV_H

#define CTL_ENV_FILE "/etc/default/smarthostd"

/* Set the relay variables (RELAY_*, DEFAULT_RELAY_HOST) from PATH's KEY=VALUE lines
 * over the process environment; a missing file is fine (the units' "-" prefix). */
void ctl_env_apply(const char *path);
/* Where NAME came from: "FILE:LINE", "process environment", or NULL (unset). */
const char *ctl_env_origin(const char *name);

#endif
