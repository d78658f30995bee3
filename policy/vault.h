/* vault.h - encrypted credentials at rest (issue 5): "enc:v1:<base64(nonce|ct|tag)>",
 * AES-256-GCM with the credential's name as associated data. */
#ifndef SH_VAULT_H
#define SH_VAULT_H

#include <stdbool.h>
#include "config.h"

#define SH_VAULT_PREFIX "enc:v1:"
#define SH_DEFAULT_VAULT_KEY SH_SYSCONFDIR "/smarthostd/vault.key"

/* Decrypt VALUE (starting with SH_VAULT_PREFIX) of credential NAME with the key
 * in KEY_PATH. On success *out is a malloc'ed NUL-terminated secret the caller
 * wipes (explicit_bzero) and frees. false with err->text set (no secret in it). */
bool sh_vault_decrypt(const char *key_path, const char *name, const char *value, char **out,
                      struct sh_error *err);

#endif
