/* pftable.c - Postfix table source text, as postmap(1) reads it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lline.h"
#include "pftable.h"
#include "regfile.h"
#include "xalloc.h"

static bool entry(char *line, const char *path, int lineno,
                  bool (*fn)(void *, const char *, int, char *, char *), void *ctx)
{
    char *key = line, *value, *end;

    for (end = key; *end && !isspace((unsigned char)*end); end++)
        ;
    value = end;
    if (*value)
        *value++ = 0;
    while (isspace((unsigned char)*value))
        value++;
    for (end = value + strlen(value); end > value && isspace((unsigned char)end[-1]); end--)
        ;
    *end = 0;
    return fn(ctx, path, lineno, key, value);
}

bool pftable_each(const char *path, bool missing_ok,
                  bool (*fn)(void *ctx, const char *path, int lineno, char *key, char *value),
                  void *ctx)
{
    char logical[PFTABLE_MAX_LINE + 1], err[512];
    struct sh_lline r;
    enum sh_lline_status st;
    struct stat sb;
    unsigned lineno = 0;
    size_t len = 0;
    char *text;
    bool ok = true;
    int fd;

    /* An admin's table, not our secret store: a link to it is fine, a FIFO is not. */
    if ((fd = sh_regfile_open(path, SH_REGFILE_FOLLOW, &sb, err, sizeof(err))) < 0) {
        if (missing_ok && errno == ENOENT)
            return true;
        fprintf(stderr, "%s\n", err);
        return false;
    }
    if (sb.st_size > PFTABLE_MAX_FILE) {
        close(fd);
        fprintf(stderr, "%s: larger than %d bytes\n", path, PFTABLE_MAX_FILE);
        return false;
    }
    text = xmalloc((size_t)sb.st_size + 1);
    while (len < (size_t)sb.st_size) {
        ssize_t got = read(fd, text + len, (size_t)sb.st_size - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);

    sh_lline_init(&r, text, len);
    while (ok && (st = sh_lline_next(&r, logical, sizeof(logical), &lineno)) == SH_LLINE_OK)
        ok = entry(logical, path, (int)lineno, fn, ctx);
    if (ok && st != SH_LLINE_END) {
        static const char *const why[] = {
            [SH_LLINE_TOO_LONG] = "line too long",
            [SH_LLINE_NUL] = "NUL byte in the line",
            [SH_LLINE_ORPHAN] = "a line starting with white space continues nothing "
                                "(postmap would skip it with a warning)",
        };
        fprintf(stderr, "%s:%u: %s\n", path, lineno, why[st]);
        ok = false;
    }
    OPENSSL_cleanse(text, len); /* tables hold passwords */
    OPENSSL_cleanse(logical, sizeof(logical));
    free(text);
    return ok;
}
