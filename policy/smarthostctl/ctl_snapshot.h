/* ctl_snapshot.h - the configuration as the CLI reads it: loaded like the daemons
 * load it, relays found by name or by domain, secrets described without a character. */
#ifndef SH_CTL_SNAPSHOT_H
#define SH_CTL_SNAPSHOT_H

#include "snapshot.h"

/* sh_config_load, its error printed as the daemons log it; NULL on error. */
struct sh_snapshot *ctl_load(const char *config_path);

/* The relay WORD names: a relay name, or a domain (with or without '@') whose
 * sender rule routes through a relay, or whose relay `relay add-domain` made.
 * NULL with an error listing the known relay names. */
const struct sh_relay *ctl_find_relay(const struct sh_snapshot *s, const char *word);

/* Where a password lives and its fingerprint, never a character of it:
 * "enc sha256:1a2b3c4d" (enc, file:, cred:, literal or env; the first 8 hex
 * digits of the SHA-256 of the password), into OUT (CTL_SECRET_MAX bytes). */
#define CTL_SECRET_MAX 64
const char *ctl_secret_describe(const struct sh_cred *c, char *out);

#endif
