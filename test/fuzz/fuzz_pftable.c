/* fuzz_pftable.c - the Postfix table source reader (libFuzzer target): any
 * bytes, as a file, must give entries or a clean error; every entry's key is
 * non-empty and has no white space, and no value has leading/trailing space. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pftable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool check(void *ctx, const char *path, int lineno, char *key, char *value)
{
    size_t vlen = strlen(value);

    (void)ctx, (void)path;
    if (lineno < 1 || *key == 0)
        abort();
    for (const char *k = key; *k; k++)
        if (isspace((unsigned char)*k))
            abort();
    if (vlen && (isspace((unsigned char)value[0]) || isspace((unsigned char)value[vlen - 1])))
        abort();
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz-pftable-XXXXXX";
    int fd = mkstemp(path);

    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        FILE *saved = stderr;
        stderr = fopen("/dev/null", "w"); /* "line too long" is expected, not news */
        pftable_each(path, false, check, NULL);
        fclose(stderr);
        stderr = saved;
    }
    close(fd);
    unlink(path);
    return 0;
}
