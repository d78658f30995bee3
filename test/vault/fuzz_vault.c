/* fuzz_vault.c - fuzz target for the enc:v1: decoder; test/fuzz/driver.c replays
 * its seeds under meson test, or link it with clang -fsanitize=fuzzer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[SH_VAULT_KEY_LEN] = "0123456789abcdef0123456789abcdef";
    char value[4096];
    struct sh_error err;
    char *out = NULL;

    if (size > sizeof(value) - 8)
        size = sizeof(value) - 8;
    memcpy(value, "enc:v1:", 7);
    memcpy(value + 7, data, size);
    value[7 + size] = 0;
    if (sh_vault_decrypt_key(key, "fuzz", value, &out, &err)) {
        if (out == NULL || strlen(out) > SH_VAULT_MAX_SECRET)
            abort();
        free(out);
    } else if (out != NULL) {
        abort();
    }
    return 0;
}
