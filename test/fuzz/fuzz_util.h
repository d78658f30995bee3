/* fuzz_util.h - what the fuzz targets share: a private temp directory, writing an
 * input into a file there, splitting an input into sections, and silencing the
 * code under test's own stdout/stderr (sanitizer reports still reach stderr). */
#ifndef SH_FUZZ_UTIL_H
#define SH_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
void __sanitizer_set_report_fd(void *fd);
#define FUZZ_REPORT_FD(fd) __sanitizer_set_report_fd((void *)(intptr_t)(fd))
#else
#define FUZZ_REPORT_FD(fd) ((void)(fd))
#endif

static char fuzz_dir[64];
static int fuzz_out = -1, fuzz_err = -1, fuzz_null = -1;

static void fuzz_rmdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
    if (fuzz_dir[0] && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", fuzz_dir);
}

/* A private directory, removed at exit; aborts when none can be made. */
static inline const char *fuzz_tmpdir(void)
{
    if (fuzz_dir[0] == 0) {
        snprintf(fuzz_dir, sizeof(fuzz_dir), "%s", "/tmp/sh-fuzz-XXXXXX");
        if (mkdtemp(fuzz_dir) == NULL)
            abort();
        atexit(fuzz_rmdir);
    }
    return fuzz_dir;
}

/* Write LEN bytes to DIR/NAME (replaced); the path in a static buffer. */
static inline const char *fuzz_write(const char *name, const void *data, size_t len)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", fuzz_tmpdir(), name);
    if ((f = fopen(path, "w")) == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
    return path;
}

/* The next section of *DATA up to a line "%%" (or the end): its length; *DATA and
 * *SIZE move past it. Lets one input carry several files. */
static inline size_t fuzz_section(const uint8_t **data, size_t *size, const uint8_t **start)
{
    const uint8_t *p = *data, *end = *data + *size;
    size_t len;

    *start = p;
    for (const uint8_t *q = p; q + 2 <= end; q++) {
        if ((q == p || q[-1] == '\n') && q[0] == '%' && q[1] == '%' &&
            (q + 2 == end || q[2] == '\n')) {
            len = (size_t)(q - p);
            q += q + 2 == end ? 2 : 3;
            *size -= (size_t)(q - p);
            *data = q;
            return len;
        }
    }
    len = *size;
    *data = end;
    *size = 0;
    return len;
}

/* Route stdout and stderr to /dev/null until fuzz_loud(); sanitizer reports keep
 * going to the real stderr. FUZZ_VERBOSE=1 in the environment keeps them (debugging). */
static inline void fuzz_quiet(void)
{
    if (getenv("FUZZ_VERBOSE"))
        return;
    fflush(stdout);
    fflush(stderr);
    if (fuzz_null < 0) {
        fuzz_out = dup(STDOUT_FILENO);
        fuzz_err = dup(STDERR_FILENO);
        fuzz_null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fuzz_out < 0 || fuzz_err < 0 || fuzz_null < 0)
            abort();
        FUZZ_REPORT_FD(fuzz_err);
    }
    dup2(fuzz_null, STDOUT_FILENO);
    dup2(fuzz_null, STDERR_FILENO);
}

static inline void fuzz_loud(void)
{
    if (fuzz_null < 0)
        return;
    fflush(stdout);
    fflush(stderr);
    dup2(fuzz_out, STDOUT_FILENO);
    dup2(fuzz_err, STDERR_FILENO);
}

#endif
