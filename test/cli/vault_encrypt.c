/* vault_encrypt.c - test tool: vault_encrypt KEYFILE NAME SECRET -> enc:v1:... */
#include <stdio.h>
#include <stdlib.h>

#include "vault.h"

int main(int argc, char **argv)
{
    unsigned char key[SH_VAULT_KEY_LEN];
    struct sh_error err;
    char *v;

    if (argc != 4 || !sh_vault_key_read(argv[1], key, &err) ||
        (v = sh_vault_encrypt(key, argv[2], argv[3])) == NULL)
        return 1;
    puts(v);
    free(v);
    return 0;
}
