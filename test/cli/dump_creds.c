/* dump_creds.c - test tool: load a config like the daemon and print every
 * credential as "name user password" (plaintext: tests only, never installed). */
#include <stdio.h>

#include "config.h"
#include "snapshot.h"

int main(int argc, char **argv)
{
    struct sh_error err;
    struct sh_snapshot *s;

    if (argc != 2 || (s = sh_config_load(argv[1], &err)) == NULL) {
        fprintf(stderr, "%s\n", argc == 2 ? err.text : "usage: dump_creds CONFIG");
        return 1;
    }
    for (size_t i = 0; i < s->ncreds; i++)
        printf("%s %s %s\n", s->creds[i]->name, s->creds[i]->user, s->creds[i]->password);
    sh_snapshot_free(s);
    return 0;
}
