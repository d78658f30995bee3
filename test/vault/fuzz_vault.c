/* fuzz_vault.c - fuzz the enc:v1: decoder. Built with clang -fsanitize=fuzzer it is a
 * libFuzzer target; otherwise main() replays the committed seeds (meson test). */
#include <dirent.h>
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

#ifndef SH_LIBFUZZER
int main(int argc, char **argv)
{
    int n = 0;

    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        struct dirent *e;
        if (d == NULL) {
            printf("Bail out! %s: cannot open\n", argv[a]);
            return 1;
        }
        while ((e = readdir(d)) != NULL) {
            char path[4096], buf[8192];
            size_t len;
            FILE *f;
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[a], e->d_name);
            if ((f = fopen(path, "rb")) == NULL)
                continue;
            len = fread(buf, 1, sizeof(buf), f);
            fclose(f);
            LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
            printf("ok %d - seed %s\n", ++n, e->d_name);
        }
        closedir(d);
    }
    printf("1..%d\n", n);
    return 0;
}
#endif
