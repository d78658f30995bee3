/* ctl_setup_files.c - main.cf and master.cf as text: read whole, the marker block, atomic writes.
 */
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

static void cf_path(const struct setup *s, const char *file, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", s->dir, file);
}

bool setup_read_cf(const struct setup *s, const char *file, char **text, size_t *len)
{
    char path[1200], *buf = xmalloc(MAX_CF_TEXT + 1);
    size_t n = 0;
    ssize_t r;
    int fd;

    cf_path(s, file, path, sizeof(path));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        free(buf);
        return ctl_err("%s: %s", path, strerror(errno)), false;
    }
    while (n <= MAX_CF_TEXT && (r = read(fd, buf + n, MAX_CF_TEXT + 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            ctl_err("%s: %s", path, strerror(errno));
            close(fd);
            free(buf);
            return false;
        }
        n += (size_t)r;
    }
    close(fd);
    if (n > MAX_CF_TEXT) {
        free(buf);
        return ctl_err("%s: larger than %d bytes", path, MAX_CF_TEXT), false;
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return true;
}

bool setup_write_cf(const struct setup *s, const char *file, const char *text, size_t len)
{
    char path[1200], why[SH_ATOMIC_ERR_MAX];

    cf_path(s, file, path, sizeof(path));
    if (!sh_file_replace(path, text, len, 0644, why))
        return ctl_err("%s", why), false;
    return true;
}

/* The line starting at P (up to END) equals LINE. */
static bool line_is(const char *p, const char *end, const char *line)
{
    size_t n = strlen(line);
    return (size_t)(end - p) >= n && memcmp(p, line, n) == 0 && (p + n == end || p[n] == '\n');
}

void setup_strip_block(const char *text, size_t len, char **out, size_t *outlen)
{
    const char *p = text, *end = text + len;
    char *o = xmalloc(len + 1);
    size_t n = 0;
    bool inside = false;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        if (!inside && line_is(p, end, SETUP_MARK_BEGIN)) {
            inside = true;
        } else if (inside && line_is(p, end, SETUP_MARK_END)) {
            inside = false;
        } else if (!inside) {
            memcpy(o + n, p, (size_t)(next - p));
            n += (size_t)(next - p);
        }
        p = next;
    }
    o[n] = 0;
    *out = o;
    *outlen = n;
}

bool setup_append_block(const struct setup *s, const char *file, const char *lines)
{
    static const char begin[] = SETUP_MARK_BEGIN "\n", end[] = SETUP_MARK_END "\n";
    char *old, *text;
    size_t len, n, nl;
    bool ok;

    if (!setup_read_cf(s, file, &old, &len))
        return false;
    nl = len && old[len - 1] != '\n';
    text = xmalloc(len + nl + sizeof(begin) + strlen(lines) + sizeof(end));
    memcpy(text, old, len);
    n = len;
    if (nl)
        text[n++] = '\n';
    memcpy(text + n, begin, sizeof(begin) - 1);
    n += sizeof(begin) - 1;
    memcpy(text + n, lines, strlen(lines));
    n += strlen(lines);
    memcpy(text + n, end, sizeof(end) - 1);
    n += sizeof(end) - 1;
    ok = setup_write_cf(s, file, text, n);
    free(old);
    free(text);
    return ok;
}
