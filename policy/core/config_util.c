/* config_util.c - libconfig helpers: typed getters, FILE:LINE errors, warnings, origins. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* "relays.mailgun.port", "senders.[3].match" */
static void conf_path(const config_setting_t *st, char *buf, size_t cap)
{
    const config_setting_t *chain[16];
    size_t n = 0, len = 0;

    for (; st && config_setting_parent(st) && n < 16; st = config_setting_parent(st))
        chain[n++] = st;
    buf[0] = 0;
    while (n-- > 0 && len < cap) {
        const char *name = config_setting_name(chain[n]);
        int w = name ? snprintf(buf + len, cap - len, "%s%s", len ? "." : "", name)
                     : snprintf(buf + len, cap - len, "[%d]", config_setting_index(chain[n]));
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

static int conf_vformat(char *buf, size_t cap, const config_setting_t *st, const char *fmt,
                        va_list ap) SH_PRINTF(4, 0);
static int conf_vformat(char *buf, size_t cap, const config_setting_t *st, const char *fmt,
                        va_list ap)
{
    char path[256];
    const char *file = st ? config_setting_source_file(st) : NULL;
    int n;

    if (st == NULL)
        n = snprintf(buf, cap, "environment: ");
    else {
        conf_path(st, path, sizeof(path));
        n = snprintf(buf, cap, "%s:%d: %s%s", file ? file : "(config)",
                     config_setting_source_line(st), path, path[0] ? ": " : "");
    }
    if (n >= 0 && (size_t)n < cap)
        vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    return n;
}

bool conf_fail(struct sh_error *err, const config_setting_t *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conf_vformat(err->text, sizeof(err->text), st, fmt, ap);
    va_end(ap);
    return false;
}

static void snapshot_add_warning(struct sh_snapshot *s, const char *text)
{
    s->warnings = xreallocarray(s->warnings, s->nwarnings + 1, sizeof(*s->warnings));
    s->warnings[s->nwarnings++] = xstrdup(text);
}

void conf_warn(struct sh_snapshot *s, const config_setting_t *st, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    conf_vformat(text, sizeof(text), st, fmt, ap);
    va_end(ap);
    snapshot_add_warning(s, text);
}

void snapshot_warn(struct sh_snapshot *s, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    snapshot_add_warning(s, text);
}

struct sh_origin conf_origin(struct sh_snapshot *s, const config_setting_t *st)
{
    const char *file = config_setting_source_file(st);
    struct sh_origin o = {.file = "(config)", .line = config_setting_source_line(st)};

    if (file == NULL)
        return o;
    for (size_t i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i], file) == 0) {
            o.file = s->files[i];
            return o;
        }
    s->files = xreallocarray(s->files, s->nfiles + 1, sizeof(*s->files));
    o.file = s->files[s->nfiles++] = xstrdup(file);
    return o;
}

bool conf_only(const config_setting_t *group, const char *const *allowed, struct sh_error *err)
{
    int n = config_setting_length(group);

    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(m);
        const char *const *a;

        for (a = allowed; *a && strcmp(*a, name) != 0; a++)
            ;
        if (*a == NULL)
            return conf_fail(err, m, "unknown setting");
    }
    return true;
}

bool conf_string(const config_setting_t *group, const char *name, bool required, const char **out,
                 struct sh_error *err)
{
    const config_setting_t *st = config_setting_get_member(group, name);

    if (st == NULL) {
        if (required)
            return conf_fail(err, group, "missing required setting '%s'", name);
        return true;
    }
    if (config_setting_type(st) != CONFIG_TYPE_STRING)
        return conf_fail(err, st, "must be a string in double quotes");
    *out = config_setting_get_string(st);
    return true;
}

bool conf_int(const config_setting_t *group, const char *name, long lo, long hi, int *out,
              struct sh_error *err)
{
    const config_setting_t *st = config_setting_get_member(group, name);
    long long v;

    if (st == NULL)
        return true;
    if (config_setting_type(st) == CONFIG_TYPE_INT)
        v = config_setting_get_int(st);
    else if (config_setting_type(st) == CONFIG_TYPE_INT64)
        v = config_setting_get_int64(st);
    else
        return conf_fail(err, st, "must be a whole number");
    if (v < lo || v > hi)
        return conf_fail(err, st, "%lld is out of range %ld-%ld", v, lo, hi);
    *out = (int)v;
    return true;
}

bool conf_bool(const config_setting_t *group, const char *name, bool *out, struct sh_error *err)
{
    const config_setting_t *st = config_setting_get_member(group, name);

    if (st == NULL)
        return true;
    if (config_setting_type(st) != CONFIG_TYPE_BOOL)
        return conf_fail(err, st, "must be true or false");
    *out = config_setting_get_bool(st);
    return true;
}

struct strings_ctx {
    struct sh_error *err;
};

bool conf_strings(const config_setting_t *group, const char *name, bool required,
                  bool (*fn)(void *ctx, const config_setting_t *st, const char *value), void *ctx)
{
    struct strings_ctx *sc = ctx; /* every ctx starts with the error pointer */
    const config_setting_t *st = config_setting_get_member(group, name);
    int type;

    if (st == NULL) {
        if (required)
            return conf_fail(sc->err, group, "missing required setting '%s'", name);
        return true;
    }
    type = config_setting_type(st);
    if (type == CONFIG_TYPE_STRING)
        return fn(ctx, st, config_setting_get_string(st));
    if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
        return conf_fail(sc->err, st, "must be a string or a list of strings");
    if (config_setting_length(st) == 0 && required)
        return conf_fail(sc->err, st, "must not be empty");
    for (int i = 0; i < config_setting_length(st); i++) {
        const config_setting_t *e = config_setting_get_elem(st, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return conf_fail(sc->err, e, "must be a string");
        if (!fn(ctx, e, config_setting_get_string(e)))
            return false;
    }
    return true;
}
