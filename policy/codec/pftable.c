/* pftable.c - Postfix table source text, as postmap(1) reads it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pftable.h"

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
    char line[PFTABLE_MAX_LINE + 2], logical[PFTABLE_MAX_LINE + 2];
    int lineno = 0, start = 0;
    bool ok = true;
    FILE *fp;

    if ((fp = fopen(path, "re")) == NULL) {
        if (missing_ok && errno == ENOENT)
            return true;
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return false;
    }
    logical[0] = 0;
    while (ok && fgets(line, sizeof(line), fp)) {
        char *p = line;

        lineno++;
        if (strlen(line) > PFTABLE_MAX_LINE) {
            fprintf(stderr, "%s:%d: line too long\n", path, lineno);
            ok = false;
            break;
        }
        while (isspace((unsigned char)*p))
            p++;
        if (*p == 0 || *p == '#')
            continue;
        if (p != line && logical[0]) { /* leading white space continues the entry */
            if (strlen(logical) + 1 + strlen(p) > PFTABLE_MAX_LINE) {
                fprintf(stderr, "%s:%d: line too long\n", path, lineno);
                ok = false;
                break;
            }
            strcat(strcat(logical, " "), p);
            continue;
        }
        if (logical[0])
            ok = entry(logical, path, start, fn, ctx);
        snprintf(logical, sizeof(logical), "%s", p);
        start = lineno;
    }
    if (ok && logical[0])
        ok = entry(logical, path, start, fn, ctx);
    OPENSSL_cleanse(line, sizeof(line));
    OPENSSL_cleanse(logical, sizeof(logical));
    fclose(fp);
    return ok;
}
