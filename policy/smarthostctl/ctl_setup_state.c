/* ctl_setup_state.c - the state file of `postfix-setup`: the values it replaced, for --undo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "ctl.h"
#include "ctl_setup.h"
#include "xalloc.h"

#define MAX_STATE   (256 * 1024)
#define STATE_MAGIC "# smarthostctl postfix-setup state v1"


bool setup_write_state(const struct setup *s)
{
    char why[SH_ATOMIC_ERR_MAX], *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    bool ok;

    if (fp == NULL)
        return ctl_err("%s: %s", s->state, strerror(errno)), false;
    fprintf(fp, STATE_MAGIC "\ndir %s\n", s->dir);
    for (size_t i = 0; i < s->np; i++) {
        if (s->p[i].old)
            fprintf(fp, "main %s set %s\n", s->p[i].name, s->p[i].old);
        else
            fprintf(fp, "main %s unset\n", s->p[i].name);
    }
    if (s->master_old)
        fprintf(fp, "master %s set %s\n", s->service, s->master_old);
    else
        fprintf(fp, "master %s unset\n", s->service);
    if (fclose(fp) != 0) {
        free(text);
        return ctl_err("%s: %s", s->state, strerror(errno)), false;
    }
    if (!(ok = sh_file_replace(s->state, text, len, 0600, why)))
        ctl_err("%s", why);
    free(text);
    return ok;
}

/* Read the state file into S (p[].old, service, master_old). */
bool setup_read_state(struct setup *s)
{
    FILE *fp = fopen(s->state, "re");
    char line[MAX_VALUE + 256], dir[1024] = "";
    size_t total = 0;
    bool magic = false;

    if (fp == NULL) {
        ctl_err("%s: %s (nothing to undo)", s->state, strerror(errno));
        return false;
    }
    while (fgets(line, sizeof(line), fp)) {
        size_t n = strlen(line);
        char name[160], how[8];
        int off = 0;
        if ((total += n) > MAX_STATE || n == 0 || line[n - 1] != '\n')
            goto bad;
        line[n - 1] = 0;
        if (!magic) {
            if (strcmp(line, STATE_MAGIC) != 0)
                goto bad;
            magic = true;
        } else if (strncmp(line, "dir ", 4) == 0) {
            if (strlen(line + 4) >= sizeof(dir))
                goto bad;
            memcpy(dir, line + 4, strlen(line + 4) + 1);
        } else if (sscanf(line, "main %159s %7s %n", name, how, &off) >= 2 && s->np < MAX_PARAMS) {
            s->p[s->np].name = xstrdup(name);
            s->p[s->np].old = strcmp(how, "set") == 0 ? xstrdup(off ? line + off : "") : NULL;
            if (strcmp(how, "set") != 0 && strcmp(how, "unset") != 0)
                goto bad;
            s->np++;
        } else if (sscanf(line, "master %159s %7s %n", name, how, &off) >= 2) {
            snprintf(s->service, sizeof(s->service), "%s", name);
            s->master_old = strcmp(how, "set") == 0 ? xstrdup(off ? line + off : "") : NULL;
        } else {
            goto bad;
        }
    }
    fclose(fp);
    if (!magic || !*s->service) {
        ctl_err("%s: incomplete state file", s->state);
        return false;
    }
    if (strcmp(dir, s->dir) != 0) {
        ctl_err("%s was made for %s, not %s", s->state, dir, s->dir);
        return false;
    }
    return true;
bad:
    fclose(fp);
    ctl_err("%s: malformed state file", s->state);
    return false;
}

