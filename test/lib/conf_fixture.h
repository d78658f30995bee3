/* conf_fixture.h - load a config given as text, for unit tests. */
#ifndef SH_CONF_FIXTURE_H
#define SH_CONF_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

static inline struct sh_snapshot *load_text(const char *text, struct sh_error *err)
{
    char path[] = "/tmp/sh-unit-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    struct sh_snapshot *s;

    fputs(text, f);
    fclose(f);
    s = sh_config_load(path, err);
    unlink(path);
    return s;
}

#endif
