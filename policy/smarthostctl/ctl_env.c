/* ctl_env.c - the daemon's environment file (EnvironmentFile= of both units), read as
 * systemd reads it, so route and check see the relay the running daemon has from its
 * environment, and can say where each variable came from. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_env.h"

/* The variables the loader reads (config_env.c). */
static const char *const vars[] = {"RELAY_HOST", "RELAY_PORT", "RELAY_USER", "RELAY_PASSWORD",
                                   "DEFAULT_RELAY_HOST"};
#define NVARS (sizeof(vars) / sizeof(vars[0]))
static char origins[NVARS][4200];

static int var_index(const char *name)
{
    for (size_t i = 0; i < NVARS; i++)
        if (strcmp(vars[i], name) == 0)
            return (int)i;
    return -1;
}

const char *ctl_env_origin(const char *name)
{
    int i = var_index(name);
    return i >= 0 && origins[i][0] ? origins[i] : NULL;
}

/* One KEY=VALUE line as systemd.exec(5) takes it: white space around both trimmed, a
 * value in matching single or double quotes unquoted; '#' and ';' lines are comments. */
static bool parse_line(char *line, char **key, char **value)
{
    char *eq, *end;

    while (isspace((unsigned char)*line))
        line++;
    if (*line == 0 || *line == '#' || *line == ';')
        return false;
    if ((eq = strchr(line, '=')) == NULL)
        return false;
    *eq = 0;
    for (end = eq; end > line && isspace((unsigned char)end[-1]); end--)
        end[-1] = 0;
    *key = line;
    *value = eq + 1;
    while (isspace((unsigned char)**value))
        (*value)++;
    end = *value + strlen(*value);
    while (end > *value && isspace((unsigned char)end[-1]))
        *--end = 0;
    if (end - *value >= 2 && (**value == '"' || **value == '\'') && end[-1] == **value) {
        end[-1] = 0;
        (*value)++;
    }
    return true;
}

void ctl_env_apply(const char *path)
{
    char line[4096], *key, *value;
    int lineno = 0;
    FILE *fp;

    for (size_t i = 0; i < NVARS; i++)
        if (getenv(vars[i]) && *getenv(vars[i]))
            snprintf(origins[i], sizeof(origins[i]), "process environment");
    if (path == NULL || *path == 0)
        return;
    if ((fp = fopen(path, "re")) == NULL) {
        if (errno != ENOENT) /* the units' "-" prefix: a missing file is fine */
            ctl_warn("%s: %s: the daemon's environment may differ from what is shown", path,
                     strerror(errno));
        return;
    }
    while (fgets(line, sizeof(line), fp)) {
        int i;

        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!parse_line(line, &key, &value))
            continue;
        if (strncmp(key, "export ", 7) == 0) {
            ctl_warn("%s:%d: systemd takes KEY=VALUE lines without export: it ignores this one",
                     path, lineno);
            continue;
        }
        if ((i = var_index(key)) < 0)
            continue;
        setenv(key, value, 1); /* the file beats Environment= and the shell, as in systemd */
        snprintf(origins[i], sizeof(origins[i]), "%s:%d", path, lineno);
    }
    explicit_bzero(line, sizeof(line)); /* RELAY_PASSWORD */
    fclose(fp);
}
