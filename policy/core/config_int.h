/* config_int.h - helpers shared by the config loader's files (not a public API). */
#ifndef SH_CONFIG_INT_H
#define SH_CONFIG_INT_H

#include <libconfig.h>
#include <stdbool.h>

#include "config.h"
#include "msg.h"
#include "xalloc.h"

/* Format "FILE:LINE: setting.path: message" into err; returns false so callers
 * can `return conf_fail(...)`. */
bool conf_fail(struct sh_error *err, const config_setting_t *st, const char *fmt, ...)
    SH_PRINTF(3, 4);
/* Same text, kept as a snapshot warning. */
void conf_warn(struct sh_snapshot *s, const config_setting_t *st, const char *fmt, ...)
    SH_PRINTF(3, 4);
void snapshot_warn(struct sh_snapshot *s, const char *fmt, ...) SH_PRINTF(2, 3);

/* The origin of ST, with a file name owned by the snapshot. */
struct sh_origin conf_origin(struct sh_snapshot *s, const config_setting_t *st);

/* Refuse members of GROUP not named in ALLOWED (NULL-terminated). */
bool conf_only(const config_setting_t *group, const char *const *allowed, struct sh_error *err);

/* Typed getters: absent is fine unless REQUIRED; a wrong type is always an error. */
bool conf_string(const config_setting_t *group, const char *name, bool required, const char **out,
                 struct sh_error *err);
bool conf_int(const config_setting_t *group, const char *name, long lo, long hi, int *out,
              struct sh_error *err);
bool conf_bool(const config_setting_t *group, const char *name, bool *out, struct sh_error *err);
/* A string or a list/array of strings: calls FN for each with its own setting. */
bool conf_strings(const config_setting_t *group, const char *name, bool required,
                  bool (*fn)(void *ctx, const config_setting_t *st, const char *value), void *ctx);

/* sender rules and recipient transports (config_rules.c). Room for both lists
 * (the file's and the managed one) is made once: the indexes point into it. */
void conf_alloc_rules(struct sh_snapshot *s, const config_setting_t *list,
                      const config_setting_t *managed);
bool conf_load_senders(struct sh_snapshot *s, const config_setting_t *list, struct sh_error *err);
/* Once every rule and relay is loaded: bind each rule's credentials to the one
 * relay they may go to, and refuse credentials that would cross in clear. */
bool conf_finish_rules(struct sh_snapshot *s, struct sh_error *err);
void conf_alloc_transports(struct sh_snapshot *s, const config_setting_t *list,
                           const config_setting_t *managed);
bool conf_load_transports(struct sh_snapshot *s, const config_setting_t *list,
                          struct sh_error *err);

/* relays and credentials (config_relay.c) */
bool conf_load_credentials(struct sh_snapshot *s, const config_setting_t *group,
                           const char *vault_key, struct sh_error *err);
bool conf_load_relays(struct sh_snapshot *s, const config_setting_t *group, struct sh_error *err);
struct sh_relay *relay_new(struct sh_snapshot *s, const char *name, struct sh_origin origin);
/* Fill the derived fields (nexthop, nexthops, tls_answer) and check the
 * cross-field rules; ST names where to point errors (NULL: the environment). */
bool relay_finish(struct sh_snapshot *s, struct sh_relay *r, const config_setting_t *st,
                  struct sh_error *err);
bool conf_build_relay_indexes(struct sh_snapshot *s, struct sh_error *err);
const struct sh_cred *conf_find_cred(const struct sh_snapshot *s, const char *name);

/* docker-mailserver environment (config_env.c) */
bool conf_load_env(struct sh_snapshot *s, struct sh_error *err);

/* credential values (cred.c) */
bool cred_password(const char *name, const char *spec, const char *vault_key, char **out,
                   const char **kind, struct sh_error *err);
extern const struct sh_cred sh_cred_no_auth; /* sasl_index: hosts that must not get AUTH */

#endif
