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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "atomicfile.h"
#include "config.h"
#include "config_read.h"
#include "ctl.h"
#include "ctl_managed.h"
#include "ctl_usage.h"
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
    char path[PATH_MAX], tmp[PATH_MAX + 8], text[64], why[SH_ATOMIC_ERR_MAX];
    unsigned char key[SH_VAULT_KEY_LEN];
    const char *group = NULL;
    char gname[256];
    mode_t mode = 0600;
    gid_t gid = (gid_t)-1;
    int c;
    bool ok;

    path[0] = 0;
    optind = 0; /* glibc: full re-initialisation after main()'s getopt */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k') {
            snprintf(path, sizeof(path), "%s", optarg);
        } else if (c == 'g') {
            group = optarg;
        } else {
            ctl_usage_err("key init: option \"%.64s\" is not known or needs a value",
                          argv[optind - 1]);
            ctl_key_usage(stderr);
            return CTL_USAGE;
        }
    }
    if (optind != argc) {
        ctl_key_usage(stderr);
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
            ctl_err("key init: no group \"%.64s\"", group);
            return CTL_FAIL;
        }
        gid = gr->gr_gid;
        mode = 0640;
    }
    if (exists(path)) {
        ctl_err("key init: %s exists; refusing to overwrite it "
                "(use key rotate to replace a key)",
                path);
        return CTL_FAIL;
    }
    if (!sh_vault_key_new(key, text)) {
        ctl_err("key init: no randomness");
        return CTL_FAIL;
    }
    OPENSSL_cleanse(key, sizeof(key));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    ok = sh_file_write_temp(tmp, text, strlen(text), NULL, 0600, why);
    OPENSSL_cleanse(text, sizeof(text));
    if (!ok)
        return ctl_err("key init: %s", why);
    /* Group before mode: the key is never readable by a group it was not meant for. */
    if (lchown(tmp, geteuid(), gid) != 0 || chmod(tmp, mode) != 0) {
        ctl_err("key init: %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return CTL_FAIL;
    }
    /* link() never replaces: two racing inits cannot both win. */
    if (link(tmp, path) != 0) {
        ctl_err("key init: %s: %s", path, strerror(errno));
        unlink(tmp);
        return CTL_FAIL;
    }
    unlink(tmp);
    sh_fsync_dir(path);
    printf("created %s (mode %04o%s%s)\n", path, (unsigned)mode, group ? ", group " : "",
           group ? group : "");
    if (geteuid() != 0)
        ctl_warn("not run as root: %s is owned by uid %ld; smarthostd accepts "
                 "a key owned by root or by the user it runs as",
                 path, (long)geteuid());
    return CTL_OK;
}

/* link(FROM, TO) (TO NULL: unlink FROM), then fsync the directory; errno's text in WHY. */
static bool link_durably(const char *from, const char *to, char *why)
{
    if ((to ? link(from, to) : unlink(from)) == 0 && sh_fsync_dir(from))
        return true;
    snprintf(why, SH_ATOMIC_ERR_MAX, "%s %.400s: %s", to ? "link" : "unlink", to ? to : from,
             strerror(errno));
    return false;
}

/* One step of the rotation: its error printed, or the crash point of a test build. */
static bool step(int n, bool ok, const char *why)
{
    if (!ok)
        ctl_err("key rotate: %s", why);
    else
        ctl_crash_point(n);
    return ok;
}

/* Finish a rotation that passed its commit point, undo one that did not. */
static bool recover(const struct rot_paths *p)
{
    if (exists(p->old)) {
        if ((exists(p->fresh) && rename(p->fresh, p->key) != 0) ||
            (exists(p->rotate) && rename(p->rotate, p->managed) != 0) || !sh_fsync_dir(p->key) ||
            unlink(p->old) != 0 || !sh_fsync_dir(p->key)) {
            ctl_err("key rotate: cannot finish the interrupted rotation: %s", strerror(errno));
            return false;
        }
        printf("finished an interrupted key rotation\n");
    } else if (exists(p->fresh) || exists(p->rotate)) {
        unlink(p->fresh);
        unlink(p->rotate);
        sh_fsync_dir(p->key);
        printf("discarded an interrupted key rotation (nothing had changed)\n");
    }
    return true;
}

/* enc: values outside managed.conf would be left under the old key. */
static bool foreign_values(const struct ctl_managed *m)
{
    char why[1024];
    const config_setting_t *creds;
    bool found = false;
    config_t cf;

    config_init(&cf);
    if (sh_conf_read_file(&cf, m->config, why, sizeof(why)) &&
        (creds = config_lookup(&cf, "credentials")) != NULL) {
        for (int i = 0; i < config_setting_length(creds); i++) {
            const config_setting_t *c = config_setting_get_elem(creds, (unsigned)i);
            const char *pw = NULL;
            if (config_setting_lookup_string(c, "password", &pw) &&
                strncmp(pw, SH_VAULT_PREFIX, strlen(SH_VAULT_PREFIX)) == 0) {
                ctl_err("key rotate: %s:%d: credentials %s: an %s value outside %s "
                        "cannot be rotated; move it there with relay add-auth",
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
            ctl_err("key rotate: %s: %s", m->path, err.text);
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
    char text[64], *conf = NULL, why[SH_ATOMIC_ERR_MAX];
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
    if (!sh_conf_read_file(&m.cf, m.path, why, sizeof(why)) ||
        (m.root = config_lookup(&m.cf, "managed")) == NULL) {
        ctl_err("key rotate: cannot read %s", m.path);
        goto out;
    }
    if (foreign_values(&m) || !sh_vault_key_read(p.key, oldk, &err)) {
        if (err.text[0])
            ctl_err("key rotate: %s", err.text);
        goto out;
    }
    if (!sh_vault_key_new(newk, text) || !reencrypt(&m, oldk, newk, &count) ||
        (conf = ctl_managed_text(&m, &len)) == NULL)
        goto wipe;
    /* The new files take the owner, group and mode of those they will replace: a
     * daemon reading them through its group keeps reading them. */
    if (step(1, sh_file_write_temp(p.fresh, text, strlen(text), p.key, 0600, why), why) &&
        step(2, sh_file_write_temp(p.rotate, conf, len, p.managed, 0600, why), why) &&
        step(3, link_durably(p.key, p.old, why), why) &&
        step(4, sh_file_rename(p.fresh, p.key, why), why) &&
        step(5, sh_file_rename(p.rotate, p.managed, why), why) &&
        step(6, link_durably(p.old, NULL, why), why)) {
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

void ctl_key_usage(FILE *out)
{
    fprintf(out, "usage: smarthostctl [-c FILE] key init [--key FILE] [--group GROUP]\n"
                 "       smarthostctl [-c FILE] key rotate | recover\n"
                 "  rotate re-encrypts every enc: value of the managed file under a new key and\n"
                 "  keeps the owner, group and mode of both files; recover finishes or undoes an\n"
                 "  interrupted rotation\n");
}

int ctl_key(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const char *const known[] = {"init", "rotate", "recover", NULL};

    if (argc >= 2 && strcmp(argv[1], "init") == 0)
        return key_init(ctx, argc - 1, argv + 1);
    if (argc == 2 && strcmp(argv[1], "rotate") == 0)
        return key_rotate(ctx, false);
    if (argc == 2 && strcmp(argv[1], "recover") == 0)
        return key_rotate(ctx, true);
    if (argc >= 2 && strcmp(argv[1], "rotate") != 0 && strcmp(argv[1], "recover") != 0)
        return ctl_unknown_word("key verb", argv[1], known);
    ctl_key_usage(stderr);
    return CTL_USAGE;
}
