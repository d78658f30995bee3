/* vault.c - encrypted credentials (issue 5). Not implemented yet: an enc: value
 * is a load error, never silently an empty password. */
#include <stdio.h>
#include "vault.h"

bool sh_vault_decrypt(const char *key_path, const char *name, const char *value, char **out,
                      struct sh_error *err)
{
    (void)key_path;
    (void)value;
    *out = NULL;
    snprintf(err->text, sizeof(err->text),
             "credentials %s: encrypted passwords (enc:v1:) are not supported by this version",
             name);
    return false;
}
