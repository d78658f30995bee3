/* ctl_setup_state.c - the state file of `postfix-setup`: what it replaced, for --undo.
 *
 * Line records (the values main.cf and master.cf had, or "unset"), then the texts of
 * both files before --apply and as --apply left them, each as "text FILE WHICH LEN"
 * followed by exactly LEN bytes and a newline. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "ctl.h"
#include "ctl_setup.h"
#include "xalloc.h"

#define MAX_STATE   (4 * MAX_CF_TEXT + 256 * 1024)
#define STATE_MAGIC "# smarthostctl postfix-setup state v2"

static void put_text(FILE *fp, const char *file, const char *which, const char *t, size_t n)
{
    if (t == NULL)
        return;
    fprintf(fp, "text %s %s %zu\n", file, which, n);
    fwrite(t, 1, n, fp);
    fputc('\n', fp);
}

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
    for (size_t i = 0; i < s->nm; i++) {
        if (s->m[i].old)
            fprintf(fp, "master %s set %s\n", s->m[i].service, s->m[i].old);
        else
            fprintf(fp, "master %s unset\n", s->m[i].service);
    }
    put_text(fp, "main.cf", "before", s->main_cf.before, s->main_cf.before_len);
    put_text(fp, "main.cf", "after", s->main_cf.after, s->main_cf.after_len);
    put_text(fp, "master.cf", "before", s->master_cf.before, s->master_cf.before_len);
    put_text(fp, "master.cf", "after", s->master_cf.after, s->master_cf.after_len);
    if (fclose(fp) != 0) {
        free(text);
        return ctl_err("%s: %s", s->state, strerror(errno)), false;
    }
    if (!(ok = sh_file_replace(s->state, text, len, 0600, why)))
        ctl_err("%s", why);
    free(text);
    return ok;
}

/* The whole state file, bounded; NULL with the reason printed. */
static char *slurp(const char *path, size_t *len)
{
    char *buf = xmalloc(MAX_STATE + 1);
    size_t n = 0;
    ssize_t r;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0) {
        ctl_err("%s: %s (nothing to undo)", path, strerror(errno));
        free(buf);
        return NULL;
    }
    while (n <= MAX_STATE && (r = read(fd, buf + n, MAX_STATE + 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > MAX_STATE) {
        ctl_err("%s: larger than %d bytes", path, MAX_STATE);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* "text FILE WHICH LEN" at LINE: the LEN bytes after P into the matching slot. */
static bool take_text(struct setup *s, const char *line, const char **p, const char *end)
{
    char file[16], which[8];
    unsigned long long n;
    struct cf_text *t;
    char **slot;
    size_t *slen;

    if (sscanf(line, "text %15s %7s %llu", file, which, &n) != 3 || n > MAX_CF_TEXT ||
        (unsigned long long)(end - *p) < n + 1 || (*p)[n] != '\n')
        return false;
    if (strcmp(file, "main.cf") == 0)
        t = &s->main_cf;
    else if (strcmp(file, "master.cf") == 0)
        t = &s->master_cf;
    else
        return false;
    if (strcmp(which, "before") == 0)
        slot = &t->before, slen = &t->before_len;
    else if (strcmp(which, "after") == 0)
        slot = &t->after, slen = &t->after_len;
    else
        return false;
    if (*slot != NULL)
        return false;
    *slot = xmalloc(n + 1);
    memcpy(*slot, *p, n);
    (*slot)[n] = 0;
    *slen = n;
    *p += n + 1;
    return true;
}

/* Read the state file into S (p[].old, m[], the texts). */
bool setup_read_state(struct setup *s)
{
    size_t len;
    char *buf = slurp(s->state, &len), line[MAX_VALUE + 256], dir[1024] = "";
    const char *p, *end;
    bool magic = false;

    if (buf == NULL)
        return false;
    for (p = buf, end = buf + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        char name[160], how[8];
        int off = 0;
        if (nl == NULL || (size_t)(nl - p) >= sizeof(line))
            goto bad;
        memcpy(line, p, (size_t)(nl - p));
        line[nl - p] = 0;
        p = nl + 1;
        if (!magic) {
            if (strcmp(line, STATE_MAGIC) != 0)
                goto bad;
            magic = true;
        } else if (strncmp(line, "dir ", 4) == 0) {
            if (strlen(line + 4) >= sizeof(dir))
                goto bad;
            memcpy(dir, line + 4, strlen(line + 4) + 1);
        } else if (strncmp(line, "text ", 5) == 0) {
            if (!take_text(s, line, &p, end))
                goto bad;
        } else if (sscanf(line, "main %159s %7s %n", name, how, &off) >= 2 && s->np < MAX_PARAMS) {
            if (strcmp(how, "set") != 0 && strcmp(how, "unset") != 0)
                goto bad;
            s->p[s->np].name = xstrdup(name);
            s->p[s->np].old = strcmp(how, "set") == 0 ? xstrdup(off ? line + off : "") : NULL;
            s->np++;
        } else if (sscanf(line, "master %159s %7s %n", name, how, &off) >= 2 &&
                   s->nm < MAX_MASTER) {
            if (strcmp(how, "set") != 0 && strcmp(how, "unset") != 0)
                goto bad;
            snprintf(s->m[s->nm].service, sizeof(s->m[s->nm].service), "%s", name);
            s->m[s->nm].old = strcmp(how, "set") == 0 ? xstrdup(off ? line + off : "") : NULL;
            s->nm++;
        } else {
            goto bad;
        }
    }
    free(buf);
    /* Both files' texts from before --apply are written first, with the records:
     * without them the state was cut short. (A master.cf entry is no longer always
     * there: one master.cf had already is left alone.) */
    if (!magic || s->np + s->nm == 0 || s->main_cf.before == NULL || s->master_cf.before == NULL) {
        ctl_err("%s: incomplete state file", s->state);
        return false;
    }
    if (strcmp(dir, s->dir) != 0) {
        ctl_err("%s was made for %s, not %s", s->state, dir, s->dir);
        return false;
    }
    return true;
bad:
    free(buf);
    ctl_err("%s: malformed state file", s->state);
    return false;
}
