/* ctl_key.c - `key init` and `key rotate`.
 *
 * rotate switches two files (vault.key and managed.conf), which no single rename
 * can do, so it goes through states that a later run can always finish or undo:
 *   1. vault.key.new written        (undo: delete it)
 *   2. managed.conf.rotate written  (undo: delete it)  values under the new key
 *   3. vault.key.old = vault.key    <- the commit point: from here on, finish
 *   4. vault.key.new -> vault.key
 *   5. managed.conf.rotate -> managed.conf
 *   6. vault.key.old removed
 * Between 3 and 6 the loader opens a value the key cannot with vault.key.old
 * (vault.c), so a daemon reloading mid-way still gets the same passwords. Every
 * file is fsynced before its rename and the directory after it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"
#include "ctl.h"
#include "ctl_managed.h"
#include "privs.h" /* SH_DEFAULT_USER */
#include "vault.h"

struct rot_paths {
    char key[PATH_MAX], old[PATH_MAX + 8], fresh[PATH_MAX + 8];
    char managed[PATH_MAX], rotate[PATH_MAX + 8];
};

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* The vault_key setting of the main config (read through a managed-file open,
 * which also creates an empty managed.conf the main file may @include). */
static bool key_path(const struct ctl_ctx *ctx, char *out, size_t cap)
{
    struct ctl_managed m;
    bool ok = ctl_managed_open(&m, ctx);

    if (ok)
        snprintf(out, cap, "%s", m.vault_key);
    ctl_managed_close(&m);
    return ok;
}

static int key_init(const struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'}, {"group", required_argument, NULL, 'g'}, {0}};
    char path[PATH_MAX], tmp[PATH_MAX + 8], text[64];
    unsigned char key[SH_VAULT_KEY_LEN];
    const char *group = NULL;
    char gname[256];
    mode_t mode = 0600;
    gid_t gid = (gid_t)-1;
    int c, fd;
    bool ok;

    path[0] = 0;
    optind = 0; /* glibc: full re-initialisation after main()'s getopt */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            snprintf(path, sizeof(path), "%s", optarg);
        else if (c == 'g')
            group = optarg;
        else
            return CTL_USAGE;
    }
    if (path[0] == 0 && !key_path(ctx, path, sizeof(path)))
        return CTL_FAIL;
    if (group == NULL) { /* the daemon's default user (smarthostd -u) reads it by group */
        struct passwd *pw = getpwnam(SH_DEFAULT_USER);
        struct group *gr = pw ? getgrgid(pw->pw_gid) : NULL;
        if (gr) {
            snprintf(gname, sizeof(gname), "%s", gr->gr_name);
            group = gname;
            printf("user %s exists: the key is made readable to its group %s (0640)\n",
                   SH_DEFAULT_USER, group);
        }
    }
    if (group) { /* the daemon reads the key through its group after dropping root */
        struct group *gr = getgrnam(group);
        if (gr == NULL) {
            fprintf(stderr, "smarthostctl: key init: no group \"%.64s\"\n", group);
            return CTL_FAIL;
        }
        gid = gr->gr_gid;
        mode = 0640;
    }
    if (exists(path)) {
        fprintf(stderr, "smarthostctl: key init: %s exists; refusing to overwrite it "
                        "(use key rotate to replace a key)\n", path);
        return CTL_FAIL;
    }
    if (!sh_vault_key_new(key, text)) {
        fprintf(stderr, "smarthostctl: key init: no randomness\n");
        return CTL_FAIL;
    }
    OPENSSL_cleanse(key, sizeof(key));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        fprintf(stderr, "smarthostctl: key init: %s: %s\n", tmp, strerror(errno));
        OPENSSL_cleanse(text, sizeof(text));
        return CTL_FAIL;
    }
    ok = fchown(fd, geteuid(), gid) == 0 && fchmod(fd, mode) == 0 &&
         write(fd, text, strlen(text)) == (ssize_t)strlen(text) && fsync(fd) == 0;
    OPENSSL_cleanse(text, sizeof(text));
    ok = close(fd) == 0 && ok;
    /* link() never replaces: two racing inits cannot both win. */
    if (!ok || link(tmp, path) != 0) {
        fprintf(stderr, "smarthostctl: key init: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return CTL_FAIL;
    }
    unlink(tmp);
    ctl_fsync_dir(path);
    printf("created %s (mode %04o%s%s)\n", path, (unsigned)mode, group ? ", group " : "",
           group ? group : "");
    if (geteuid() != 0)
        fprintf(stderr, "warning: not run as root: %s is owned by uid %ld; smarthostd accepts "
                        "a key owned by root or by the user it runs as\n", path, (long)geteuid());
    return CTL_OK;
}

static bool step(int n, bool ok, const char *what, const char *path)
{
    if (!ok)
        fprintf(stderr, "smarthostctl: key rotate: %s %s: %s\n", what, path, strerror(errno));
    else
        ctl_crash_point(n);
    return ok;
}

/* Finish a rotation that passed its commit point, undo one that did not. */
static bool recover(const struct rot_paths *p)
{
    if (exists(p->old)) {
        if ((exists(p->fresh) && rename(p->fresh, p->key) != 0) ||
            (exists(p->rotate) && rename(p->rotate, p->managed) != 0) || !ctl_fsync_dir(p->key) ||
            unlink(p->old) != 0 || !ctl_fsync_dir(p->key)) {
            fprintf(stderr, "smarthostctl: key rotate: cannot finish the interrupted rotation: %s\n",
                    strerror(errno));
            return false;
        }
        printf("finished an interrupted key rotation\n");
    } else if (exists(p->fresh) || exists(p->rotate)) {
        unlink(p->fresh);
        unlink(p->rotate);
        ctl_fsync_dir(p->key);
        printf("discarded an interrupted key rotation (nothing had changed)\n");
    }
    return true;
}

/* enc: values outside managed.conf would be left under the old key. */
static bool foreign_values(const struct ctl_managed *m)
{
    char dir[PATH_MAX];
    const config_setting_t *creds;
    bool found = false;
    config_t cf;

    config_init(&cf);
    snprintf(dir, sizeof(dir), "%s", m->config);
    config_set_include_dir(&cf, dirname(dir));
    if (config_read_file(&cf, m->config) == CONFIG_TRUE &&
        (creds = config_lookup(&cf, "credentials")) != NULL) {
        for (int i = 0; i < config_setting_length(creds); i++) {
            const config_setting_t *c = config_setting_get_elem(creds, (unsigned)i);
            const char *pw = NULL;
            if (config_setting_lookup_string(c, "password", &pw) &&
                strncmp(pw, SH_VAULT_PREFIX, strlen(SH_VAULT_PREFIX)) == 0) {
                fprintf(stderr,
                        "smarthostctl: key rotate: %s:%d: credentials %s: an %s value outside %s "
                        "cannot be rotated; move it there with relay add-auth\n",
                        config_setting_source_file(c), config_setting_source_line(c),
                        config_setting_name(c), SH_VAULT_PREFIX, CTL_MANAGED_NAME);
                found = true;
            }
        }
    }
    config_destroy(&cf);
    return found;
}

/* Re-encrypt every enc: value of the managed group in memory. */
static bool reencrypt(struct ctl_managed *m, const unsigned char *oldk, const unsigned char *newk,
                      int *count)
{
    config_setting_t *creds = config_setting_get_member(m->root, "credentials");
    struct sh_error err;

    for (int i = 0; creds && i < config_setting_length(creds); i++) {
        config_setting_t *c = config_setting_get_elem(creds, (unsigned)i);
        config_setting_t *pw = config_setting_get_member(c, "password");
        const char *v = pw ? config_setting_get_string(pw) : NULL;
        char *plain = NULL, *enc;

        if (v == NULL || strncmp(v, SH_VAULT_PREFIX, strlen(SH_VAULT_PREFIX)) != 0)
            continue;
        if (!sh_vault_decrypt_key(oldk, config_setting_name(c), v, &plain, &err)) {
            fprintf(stderr, "smarthostctl: key rotate: %s: %s\n", m->path, err.text);
            return false;
        }
        enc = sh_vault_encrypt(newk, config_setting_name(c), plain);
        OPENSSL_cleanse(plain, strlen(plain));
        free(plain);
        if (enc == NULL || config_setting_set_string(pw, enc) != CONFIG_TRUE) {
            free(enc);
            return false;
        }
        free(enc);
        (*count)++;
    }
    return true;
}

static int key_rotate(const struct ctl_ctx *ctx, bool recover_only)
{
    unsigned char oldk[SH_VAULT_KEY_LEN], newk[SH_VAULT_KEY_LEN];
    char text[64], *conf = NULL;
    struct ctl_managed m;
    struct rot_paths p;
    struct sh_error err;
    int count = 0, rc = CTL_FAIL;
    size_t len;

    err.text[0] = 0;
    if (!ctl_managed_open(&m, ctx)) {
        ctl_managed_close(&m);
        return CTL_FAIL;
    }
    snprintf(p.key, sizeof(p.key), "%s", m.vault_key);
    snprintf(p.old, sizeof(p.old), "%s%s", p.key, SH_VAULT_OLD_SUFFIX);
    snprintf(p.fresh, sizeof(p.fresh), "%s.new", p.key);
    snprintf(p.managed, sizeof(p.managed), "%s", m.path);
    snprintf(p.rotate, sizeof(p.rotate), "%s.rotate", m.path);
    if (!recover(&p))
        goto out;
    if (recover_only) {
        rc = CTL_OK;
        goto out;
    }
    /* recover() may have renamed managed.conf: edit the current one. */
    config_destroy(&m.cf);
    config_init(&m.cf);
    if (config_read_file(&m.cf, m.path) != CONFIG_TRUE ||
        (m.root = config_lookup(&m.cf, "managed")) == NULL) {
        fprintf(stderr, "smarthostctl: key rotate: cannot read %s\n", m.path);
        goto out;
    }
    if (foreign_values(&m) || !sh_vault_key_read(p.key, oldk, &err)) {
        if (err.text[0])
            fprintf(stderr, "smarthostctl: key rotate: %s\n", err.text);
        goto out;
    }
    if (!sh_vault_key_new(newk, text) || !reencrypt(&m, oldk, newk, &count) ||
        (conf = ctl_managed_text(&m, &len)) == NULL)
        goto wipe;
    if (step(1, ctl_write_atomic(p.fresh, text, strlen(text), 0600), "write", p.fresh) &&
        step(2, ctl_write_atomic(p.rotate, conf, len, 0600), "write", p.rotate) &&
        step(3, link(p.key, p.old) == 0 && ctl_fsync_dir(p.key), "link", p.old) &&
        step(4, rename(p.fresh, p.key) == 0 && ctl_fsync_dir(p.key), "rename", p.fresh) &&
        step(5, rename(p.rotate, p.managed) == 0 && ctl_fsync_dir(p.key), "rename", p.rotate) &&
        step(6, unlink(p.old) == 0 && ctl_fsync_dir(p.key), "unlink", p.old)) {
        printf("rotated %s: %d value(s) re-encrypted in %s\n", p.key, count, p.managed);
        rc = ctl_reload_daemon() ? CTL_OK : CTL_FAIL;
    } else {
        recover(&p);
    }
wipe:
    OPENSSL_cleanse(oldk, sizeof(oldk));
    OPENSSL_cleanse(newk, sizeof(newk));
    OPENSSL_cleanse(text, sizeof(text));
    free(conf);
out:
    ctl_managed_close(&m);
    return rc;
}

int ctl_key(struct ctl_ctx *ctx, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "init") == 0)
        return key_init(ctx, argc - 1, argv + 1);
    if (argc == 2 && strcmp(argv[1], "rotate") == 0)
        return key_rotate(ctx, false);
    if (argc == 2 && strcmp(argv[1], "recover") == 0)
        return key_rotate(ctx, true);
    fprintf(stderr, "usage: smarthostctl [-c FILE] key init [--key FILE] [--group GROUP]\n"
                    "       smarthostctl [-c FILE] key rotate | recover\n");
    return CTL_USAGE;
}
