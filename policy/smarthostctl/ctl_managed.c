/* ctl_managed.c - read, edit, validate and atomically replace managed.conf. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "config.h"
#include "config_read.h"
#include "ctl.h"
#include "ctl_managed.h"
#include "snapshot.h"
#include "vault.h"

void ctl_crash_point(int step)
{
#ifdef SH_TEST_HOOKS
    const char *at = getenv("SMARTHOSTCTL_CRASH_AT");
    if (at && atoi(at) == step)
        raise(SIGKILL);
#else
    (void)step;
#endif
}

char *ctl_managed_text(struct ctl_managed *m, size_t *len)
{
    char *text = NULL;
    FILE *fp = open_memstream(&text, len);

    if (fp == NULL)
        return NULL;
    fputs("# managed.conf - written by smarthostctl (relay, import, key rotate).\n"
          "# Do not edit: the main configuration @includes it; put your own settings there.\n",
          fp);
    config_write(&m->cf, fp);
    if (fclose(fp) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* The main config must @include this file, or writing it would change nothing. */
static bool check_included(struct ctl_managed *m)
{
    char dir[PATH_MAX], a[PATH_MAX], b[PATH_MAX], rel[PATH_MAX + 2], why[1024];
    const config_setting_t *g;
    const char *src, *idir, *key = NULL;
    config_t cf;
    bool ok = false;

    config_init(&cf);
    snprintf(dir, sizeof(dir), "%s", m->config);
    idir = dirname(dir);
    if (!sh_conf_read_file(&cf, m->config, why, sizeof(why))) {
        fprintf(stderr, "%s\n", why);
        config_destroy(&cf);
        return false;
    }
    if (config_lookup_string(&cf, "vault_key", &key) == CONFIG_TRUE)
        snprintf(m->vault_key, sizeof(m->vault_key), "%s", key);
    g = config_lookup(&cf, "managed");
    src = g ? config_setting_source_file(g) : NULL;
    /* An included file is named as written, relative to the main file's directory,
     * not to our working directory (config_read.h). */
    if (src && src[0] != '/' && snprintf(rel, sizeof(rel), "%s/%s", idir, src) < (int)sizeof(rel))
        src = rel;
    if (src && realpath(src, a) && realpath(m->path, b) && strcmp(a, b) == 0)
        ok = true;
    else
        ctl_err("%s does not include %s: add the line\n    @include \"%s\"\n"
                "to it (smarthostctl writes only that file, never yours)",
                m->config, m->path, CTL_MANAGED_NAME);
    config_destroy(&cf);
    return ok;
}

/* A daemon that dropped root reads the main file through its group: the managed
 * file PATH gets the same group and group read (never more). */
static void follow_config_group(const char *path, const char *config)
{
    struct stat st;

    if (stat(config, &st) == 0 && (st.st_mode & S_IRGRP) &&
        (chown(path, (uid_t)-1, st.st_gid) != 0 || chmod(path, 0640) != 0))
        ctl_warn("%s: cannot give it %s's group: %s", path, config, strerror(errno));
}

/* flock the lock file LOCK for M. The file is removed when the lock is released
 * (ctl_managed_close), so a lock taken on a file already unlinked by the previous
 * holder does not count: the path must still name the locked inode. */
static bool take_lock(struct ctl_managed *m, const char *lock)
{
    struct stat held, named;

    if ((m->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return false;
    if (flock(m->lock_fd, LOCK_EX | LOCK_NB) == 0 && fstat(m->lock_fd, &held) == 0 &&
        lstat(lock, &named) == 0 && held.st_ino == named.st_ino && held.st_dev == named.st_dev)
        return true;
    close(m->lock_fd);
    m->lock_fd = -1;
    errno = EWOULDBLOCK;
    return false;
}

bool ctl_managed_open(struct ctl_managed *m, const struct ctl_ctx *ctx)
{
    char dir[PATH_MAX], lock[PATH_MAX + 8], why[1024];
    struct stat st;
    bool made = false;

    memset(m, 0, sizeof(*m));
    m->lock_fd = -1;
    config_init(&m->cf);
    snprintf(m->config, sizeof(m->config), "%s", ctx->config_path);
    snprintf(dir, sizeof(dir), "%s", ctx->config_path);
    snprintf(m->path, sizeof(m->path), "%s/%s", dirname(dir), CTL_MANAGED_NAME);
    snprintf(m->vault_key, sizeof(m->vault_key), "%s", SH_DEFAULT_VAULT_KEY);
    snprintf(lock, sizeof(lock), "%s.lock", m->path);
    if (!take_lock(m, lock)) {
        ctl_err("%s: %s", lock,
                errno == EWOULDBLOCK ? "another smarthostctl is writing" : strerror(errno));
        return false;
    }
    if (lstat(m->path, &st) != 0) {
        static const char empty[] = "managed = { };\n";
        if (errno != ENOENT) {
            ctl_err("%s: %s", m->path, strerror(errno));
            return false;
        }
        if (!sh_file_replace(m->path, empty, sizeof(empty) - 1, 0600, why)) {
            ctl_err("%s", why);
            return false;
        }
        follow_config_group(m->path, m->config); /* a reload may read it before any write */
        made = true;
    }
    if (!check_included(m)) {
        if (made) /* useless without the @include: leave nothing behind */
            unlink(m->path);
        return false;
    }
    if (!sh_conf_read_file(&m->cf, m->path, why, sizeof(why))) {
        fprintf(stderr, "%s\n", why);
        return false;
    }
    if ((m->root = config_lookup(&m->cf, "managed")) == NULL)
        m->root = config_setting_add(config_root_setting(&m->cf), "managed", CONFIG_TYPE_GROUP);
    return m->root != NULL && config_setting_is_group(m->root);
}

void ctl_managed_close(struct ctl_managed *m)
{
    char lock[PATH_MAX + 8];

    config_destroy(&m->cf);
    if (m->lock_fd >= 0) { /* held: removed while still locked (see take_lock) */
        snprintf(lock, sizeof(lock), "%s.lock", m->path);
        unlink(lock);
        close(m->lock_fd); /* drops the flock */
    }
}

config_setting_t *ctl_managed_section(struct ctl_managed *m, const char *name, int type)
{
    config_setting_t *s = config_setting_get_member(m->root, name);

    if (s == NULL)
        s = config_setting_add(m->root, name, type);
    return s;
}

int ctl_managed_commit(struct ctl_managed *m)
{
    return ctl_managed_commit_checked(m, NULL, NULL);
}

int ctl_managed_commit_checked(struct ctl_managed *m,
                               bool (*check)(const struct sh_snapshot *, void *), void *ctx)
{
    char tmp[PATH_MAX + 8], why[SH_ATOMIC_ERR_MAX];
    struct sh_snapshot *s;
    struct sh_error err;
    size_t len;
    char *text = ctl_managed_text(m, &len);
    bool written;

    snprintf(tmp, sizeof(tmp), "%s.tmp", m->path);
    if (text == NULL)
        return ctl_err("%s: out of memory", m->path);
    /* The new file keeps the owner, group and mode of the one it replaces. */
    written = sh_file_write_temp(tmp, text, len, m->path, 0600, why);
    explicit_bzero(text, len); /* holds only enc: values, but still */
    free(text);
    if (!written)
        return ctl_err("%s", why);
    /* The daemon's own loader, on the main file with the new managed group. */
    if ((s = sh_config_load_managed(m->config, tmp, &err)) == NULL) {
        ctl_err("not saved, the result would not load:\n  %s", err.text);
        unlink(tmp);
        return CTL_FAIL;
    }
    for (size_t i = 0; i < s->nwarnings; i++)
        ctl_warn("%s", s->warnings[i]);
    if (check && !check(s, ctx)) {
        ctl_err("not saved: the probe failed");
        sh_snapshot_free(s);
        unlink(tmp);
        return CTL_FAIL;
    }
    sh_snapshot_free(s);
    if (!sh_file_rename(tmp, m->path, why)) {
        unlink(tmp);
        return ctl_err("%s", why);
    }
    printf("saved %s (validated with %s)\n", m->path, m->config);
    return ctl_reload_daemon() ? CTL_OK : CTL_FAIL;
}
