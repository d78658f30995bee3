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

#include "config.h"
#include "ctl_managed.h"
#include "reload_status.h"
#include "snapshot.h"
#include "vault.h"

#define DEFAULT_PIDFILE        "/run/smarthostd/smarthostd.pid"
#define DEFAULT_MILTER_PIDFILE "/run/smarthostd-milter/smarthostd-milter.pid"

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

bool ctl_fsync_dir(const char *path)
{
    char dir[PATH_MAX];
    int fd;
    bool ok;

    snprintf(dir, sizeof(dir), "%s", path);
    if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return false;
    ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* PATH.tmp written and fsynced, not renamed. */
bool ctl_write_temp(const char *path, const char *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX + 8];
    int fd;
    bool ok;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp); /* a leftover of a killed run */
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0) {
        fprintf(stderr, "smarthostctl: %s: %s\n", tmp, strerror(errno));
        return false;
    }
    ok = fchmod(fd, mode) == 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    if (close(fd) != 0 || !ok) {
        fprintf(stderr, "smarthostctl: write %s: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

bool ctl_write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX + 8];

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (!ctl_write_temp(path, data, len, mode))
        return false;
    if (rename(tmp, path) != 0 || !ctl_fsync_dir(path)) {
        fprintf(stderr, "smarthostctl: rename %s: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
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
    char dir[PATH_MAX], a[PATH_MAX], b[PATH_MAX], rel[PATH_MAX + 2];
    const config_setting_t *g;
    const char *src, *idir, *key = NULL;
    config_t cf;
    bool ok = false;

    config_init(&cf);
    snprintf(dir, sizeof(dir), "%s", m->config);
    idir = dirname(dir);
    config_set_include_dir(&cf, idir);
    if (config_read_file(&cf, m->config) != CONFIG_TRUE) {
        fprintf(stderr, "%s:%d: %s\n", config_error_file(&cf) ? config_error_file(&cf) : m->config,
                config_error_line(&cf), config_error_text(&cf));
        config_destroy(&cf);
        return false;
    }
    if (config_lookup_string(&cf, "vault_key", &key) == CONFIG_TRUE)
        snprintf(m->vault_key, sizeof(m->vault_key), "%s", key);
    g = config_lookup(&cf, "managed");
    src = g ? config_setting_source_file(g) : NULL;
    /* libconfig names an included file as written, relative to the include dir
     * (set above), not to our working directory. */
    if (src && src[0] != '/' && snprintf(rel, sizeof(rel), "%s/%s", idir, src) < (int)sizeof(rel))
        src = rel;
    if (src && realpath(src, a) && realpath(m->path, b) && strcmp(a, b) == 0)
        ok = true;
    else
        fprintf(stderr,
                "smarthostctl: %s does not include %s: add the line\n    @include \"%s\"\n"
                "to it (smarthostctl writes only that file, never yours)\n",
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
        fprintf(stderr, "warning: %s: cannot give it %s's group: %s\n", path, config,
                strerror(errno));
}

bool ctl_managed_open(struct ctl_managed *m, const struct ctl_ctx *ctx)
{
    char dir[PATH_MAX], lock[PATH_MAX + 8];
    struct stat st;

    memset(m, 0, sizeof(*m));
    m->lock_fd = -1;
    config_init(&m->cf);
    snprintf(m->config, sizeof(m->config), "%s", ctx->config_path);
    snprintf(dir, sizeof(dir), "%s", ctx->config_path);
    snprintf(m->path, sizeof(m->path), "%s/%s", dirname(dir), CTL_MANAGED_NAME);
    snprintf(m->vault_key, sizeof(m->vault_key), "%s", SH_DEFAULT_VAULT_KEY);
    snprintf(lock, sizeof(lock), "%s.lock", m->path);
    if ((m->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
        flock(m->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "smarthostctl: %s: %s\n", lock,
                errno == EWOULDBLOCK ? "another smarthostctl is writing" : strerror(errno));
        return false;
    }
    if (lstat(m->path, &st) != 0) {
        static const char empty[] = "managed = { };\n";
        if (errno != ENOENT || !ctl_write_atomic(m->path, empty, sizeof(empty) - 1, 0600)) {
            fprintf(stderr, "smarthostctl: %s: %s\n", m->path, strerror(errno));
            return false;
        }
        follow_config_group(m->path, m->config); /* a reload may read it before any write */
    }
    if (!check_included(m))
        return false;
    if (config_read_file(&m->cf, m->path) != CONFIG_TRUE) {
        fprintf(stderr, "%s:%d: %s\n", m->path, config_error_line(&m->cf),
                config_error_text(&m->cf));
        return false;
    }
    if ((m->root = config_lookup(&m->cf, "managed")) == NULL)
        m->root = config_setting_add(config_root_setting(&m->cf), "managed", CONFIG_TYPE_GROUP);
    return m->root != NULL && config_setting_is_group(m->root);
}

void ctl_managed_close(struct ctl_managed *m)
{
    config_destroy(&m->cf);
    if (m->lock_fd >= 0)
        close(m->lock_fd); /* drops the flock */
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
    char tmp[PATH_MAX + 8];
    struct sh_snapshot *s;
    struct sh_error err;
    size_t len;
    char *text = ctl_managed_text(m, &len);

    snprintf(tmp, sizeof(tmp), "%s.tmp", m->path);
    if (text == NULL || !ctl_write_temp(m->path, text, len, 0600)) {
        free(text);
        return CTL_FAIL;
    }
    follow_config_group(tmp, m->config);
    explicit_bzero(text, len); /* holds only enc: values, but still */
    free(text);
    /* The daemon's own loader, on the main file with the new managed group. */
    if ((s = sh_config_load_managed(m->config, tmp, &err)) == NULL) {
        fprintf(stderr, "smarthostctl: not saved, the result would not load:\n  %s\n", err.text);
        unlink(tmp);
        return CTL_FAIL;
    }
    for (size_t i = 0; i < s->nwarnings; i++)
        fprintf(stderr, "warning: %s\n", s->warnings[i]);
    if (check && !check(s, ctx)) {
        fprintf(stderr, "smarthostctl: not saved: the probe failed\n");
        sh_snapshot_free(s);
        unlink(tmp);
        return CTL_FAIL;
    }
    sh_snapshot_free(s);
    if (rename(tmp, m->path) != 0 || !ctl_fsync_dir(m->path)) {
        fprintf(stderr, "smarthostctl: rename %s: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return CTL_FAIL;
    }
    printf("saved %s (validated with %s)\n", m->path, m->config);
    return ctl_reload_daemon() ? CTL_OK : CTL_FAIL;
}

/* The daemons that read the managed file, each found through its pidfile. */
static const struct daemon {
    const char *name, *env, *pidfile;
} daemons[] = {
    {"smarthostd", "SMARTHOSTD_PIDFILE", DEFAULT_PIDFILE},
    {"smarthostd-milter", "SMARTHOSTD_MILTER_PIDFILE", DEFAULT_MILTER_PIDFILE},
};

/* SIGHUP one daemon and report its verdict; false only when it rejected the change. */
static bool reload_one(const struct daemon *d)
{
    const char *pidfile = getenv(d->env);
    struct sh_reload_status before, now;
    bool had;
    char buf[32];
    FILE *fp;
    long pid;

    if (pidfile == NULL || *pidfile == 0)
        pidfile = d->pidfile;
    if ((fp = fopen(pidfile, "r")) == NULL) {
        printf("no running %s (%s): the change applies when it starts\n", d->name, pidfile);
        return true;
    }
    pid = fgets(buf, sizeof(buf), fp) ? strtol(buf, NULL, 10) : 0;
    fclose(fp);
    had = sh_reload_status_read(pidfile, &before) && before.pid == pid;
    if (pid <= 1 || kill((pid_t)pid, SIGHUP) != 0) {
        printf("%s (%s, pid %ld) not signalled: %s; reload it by hand\n", d->name, pidfile, pid,
               pid <= 1 ? "bad pid file" : strerror(errno));
        return true;
    }
    /* Its verdict: a status of this pid with a newer generation (bounded wait). */
    for (int i = 0; i < 200; i++) {
        if (sh_reload_status_read(pidfile, &now) && now.pid == pid &&
            (!had || now.generation > before.generation)) {
            if (now.ok) {
                printf("reload: %s pid %ld accepted the new configuration (load #%lu)\n",
                       d->name, pid, now.generation);
                return true;
            }
            fprintf(stderr, "smarthostctl: reload: %s pid %ld REJECTED the new "
                            "configuration and keeps serving the previous one:\n  %s\n"
                            "(saved, but not in effect: fix that, then reload again)\n",
                    d->name, pid, now.error);
            return false;
        }
        usleep(50 * 1000);
    }
    printf("reload: sent SIGHUP to %s pid %ld, but it reported no verdict within 10 s "
           "(%s.status; started without --pidfile, or older than this smarthostctl?)\n",
           d->name, pid, pidfile);
    return true;
}

bool ctl_reload_daemon(void)
{
    bool ok = true;

    for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
        ok = reload_one(&daemons[i]) && ok;
    return ok;
}
