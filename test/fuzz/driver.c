/* driver.c - replay a libFuzzer corpus without libFuzzer (gcc, meson test).
 *
 * Usage: fuzz_X DIR_OR_FILE...  Each seed is run as is, then as a bounded
 * number of deterministic mutations (FUZZ_MUTATIONS, default 300), so a plain
 * `meson test` exercises more than the committed bytes. TAP: one line per seed.
 * With clang, link the same target with -fsanitize=fuzzer instead of this file.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define MAX_SEED (64 * 1024)

static int ntests;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Flip, insert, delete or duplicate a few bytes; splice digits and commas,
 * the bytes netstring parsing cares about. */
static size_t mutate(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    static const char interesting[] = "0123456789:, @<>[]\0\xff";
    size_t n = len < cap ? len : cap;
    int edits = 1 + (int)(next() % 4);

    memcpy(out, in, n);
    while (edits-- > 0) {
        size_t pos = n ? next() % n : 0;
        switch (next() % 5) {
        case 0: /* replace */
            if (n)
                out[pos] = (uint8_t)next();
            break;
        case 1: /* interesting byte */
            if (n)
                out[pos] = (uint8_t)interesting[next() % (sizeof(interesting) - 1)];
            break;
        case 2: /* insert */
            if (n < cap) {
                memmove(out + pos + 1, out + pos, n - pos);
                out[pos] = (uint8_t)interesting[next() % (sizeof(interesting) - 1)];
                n++;
            }
            break;
        case 3: /* delete */
            if (n) {
                memmove(out + pos, out + pos + 1, n - pos - 1);
                n--;
            }
            break;
        default: /* duplicate the tail: pipelining */
            if (n && n * 2 <= cap) {
                memcpy(out + n, out + pos, n - pos);
                n += n - pos;
            }
        }
    }
    return n;
}

static int run_file(const char *path, long mutations)
{
    static uint8_t buf[MAX_SEED], mut[MAX_SEED * 2];
    FILE *fp = fopen(path, "rb");
    size_t len;

    if (fp == NULL) {
        printf("not ok %d - %s: cannot open\n", ++ntests, path);
        return 1;
    }
    len = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, len);
    for (long i = 0; i < mutations; i++) {
        size_t n = mutate(buf, len, mut, sizeof(mut));
        LLVMFuzzerTestOneInput(mut, n);
    }
    printf("ok %d - %s (+%ld mutations)\n", ++ntests, path, mutations);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, long mutations)
{
    struct stat st;
    struct dirent *de;
    DIR *dir;
    char **names = NULL;
    size_t n = 0;
    int bad = 0;

    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return run_file(path, mutations);
    if ((dir = opendir(path)) == NULL)
        return run_file(path, mutations);
    while ((de = readdir(dir)) != NULL) { /* sorted, so runs are reproducible */
        char **p;
        if (de->d_name[0] == '.' || (p = realloc(names, (n + 1) * sizeof(*names))) == NULL)
            continue;
        names = p;
        if (asprintf(&names[n], "%s/%s", path, de->d_name) >= 0)
            n++;
    }
    closedir(dir);
    qsort(names, n, sizeof(*names), cmp);
    for (size_t i = 0; i < n; i++) {
        bad |= run_file(names[i], mutations);
        free(names[i]);
    }
    free(names);
    return bad;
}

int main(int argc, char **argv)
{
    const char *env = getenv("FUZZ_MUTATIONS");
    long mutations = env ? strtol(env, NULL, 10) : 300;
    int bad = 0;

    if (mutations < 0 || mutations > 1000000)
        mutations = 300;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++)
        bad |= run_path(argv[i], mutations);
    printf("1..%d\n", ntests);
    return bad;
}
