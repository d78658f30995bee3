/* vault.h - encrypted credentials at rest: "enc:v1:<base64(nonce|ct|tag)>",
 * AES-256-GCM (12-byte random nonce, 16-byte tag) with the credential's name as
 * associated data, so a value copied to another credential fails to decrypt.
 *
 * Key file: one line, the base64 of 32 random bytes (44 characters), a regular
 * file owned by root or by the reading user, not group-writable and without any
 * access for others (0600, or 0640 with the daemon's group). */
#ifndef SH_VAULT_H
#define SH_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"

#define SH_VAULT_PREFIX      "enc:v1:"
#define SH_DEFAULT_VAULT_KEY SH_SYSCONFDIR "/smarthostd/vault.key"
#define SH_VAULT_KEY_LEN     32
#define SH_VAULT_MAX_SECRET  1024   /* plaintext bytes; longer values are refused */
#define SH_VAULT_OLD_SUFFIX  ".old" /* kept by `key rotate` until its switch completes */

/* Decrypt VALUE (starting with SH_VAULT_PREFIX) of credential NAME with the key
 * in KEY_PATH; while a rotation is switching (KEY_PATH.old exists) a value the
 * key cannot open is tried with the old key too. On success *out is a malloc'ed
 * NUL-terminated secret the caller wipes (explicit_bzero) and frees. false with
 * err->text set (no secret in it). */
bool sh_vault_decrypt(const char *key_path, const char *name, const char *value, char **out,
                      struct sh_error *err);

/* Read and check a key file (ownership, mode, format). The caller wipes KEY. */
bool sh_vault_key_read(const char *path, unsigned char key[SH_VAULT_KEY_LEN], struct sh_error *err);
/* Fresh random key and its file text (base64 + "\n", NUL-terminated). */
bool sh_vault_key_new(unsigned char key[SH_VAULT_KEY_LEN], char text[64]);

/* The same with a key in memory (rotate, tests, fuzzing). */
bool sh_vault_decrypt_key(const unsigned char key[SH_VAULT_KEY_LEN], const char *name,
                          const char *value, char **out, struct sh_error *err);
/* "enc:v1:..." for SECRET (1..SH_VAULT_MAX_SECRET bytes) bound to NAME; malloc'ed,
 * NULL on a crypto failure. */
char *sh_vault_encrypt(const unsigned char key[SH_VAULT_KEY_LEN], const char *name,
                       const char *secret);

#endif
