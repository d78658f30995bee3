/* fuzz_config.c - the config loader over hostile files (libFuzzer target).
 *
 * libconfig parses the syntax; everything behind it is ours: type checks,
 * host/port/TLS/match validation, rule keys, failover, the error text. The
 * input is written to a temp file and loaded; a load must either produce a
 * snapshot that answers lookups or an error with text, never crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"a@example.com",       "<>",
                                       "b+x@sub.example.com", "[smtp.example.com]:587",
                                       "smtp.example.com",    "x@gmail.com"};
    char path[] = "/tmp/fuzz-config-XXXXXX";
    struct sh_error err;
    struct sh_snapshot *s;
    struct sh_answer a;
    int fd = mkstemp(path);

    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    s = sh_config_load(path, &err);
    unlink(path);
    if (s == NULL) {
        if (err.text[0] == 0)
            abort(); /* an error must say what is wrong */
        return 0;
    }
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        for (int m = SH_MAP_RELAY; m <= SH_MAP_TRANSPORT; m++)
            if (sh_map_lookup(s, (enum sh_map)m, keys[k], strlen(keys[k]), &a) == SH_FOUND &&
                a.value == NULL)
                abort(); /* FOUND always carries a value */
    sh_snapshot_free(s);
    return 0;
}
