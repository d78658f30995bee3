/* fuzz_header_checks.c - fuzz the header_checks parser.
 *
 * With clang: clang -fsanitize=fuzzer,address -DSH_LIBFUZZER ... (libFuzzer
 * supplies main). Without: main() replays the committed seeds (files or
 * directories on the command line), so gcc builds run it under meson test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sh_hc_rule *rules = NULL;
    size_t n = 0;
    struct sh_hc_error err = {0};

    (void)sh_header_checks_parse((const char *)data, size, &rules, &n, &err);
    if (strnlen(err.text, sizeof(err.text)) == sizeof(err.text))
        abort(); /* the error text must stay terminated */
    sh_hc_rules_free(rules, n);
    return 0;
}

#ifndef SH_LIBFUZZER
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 20];
    size_t len;

    if (f == NULL)
        return -1;
    len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    return 0;
}

int main(int argc, char **argv)
{
    int count = 0;

    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        if (d == NULL) {
            if (replay_file(argv[i]) < 0) {
                printf("not ok %d - %s unreadable\n", ++count, argv[i]);
                return 1;
            }
            printf("ok %d - %s\n", ++count, argv[i]);
            continue;
        }
        while ((e = readdir(d)) != NULL) {
            char path[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            replay_file(path);
            printf("ok %d - %s\n", ++count, e->d_name);
        }
        closedir(d);
    }
    printf("1..%d\n", count);
    return count ? 0 : 1;
}
#endif
