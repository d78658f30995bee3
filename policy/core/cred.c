/* cred.c - where a password comes from: a literal, a file read once at load,
 * a systemd credential (cred:NAME in $CREDENTIALS_DIRECTORY), or the vault
 * (enc:v1:). Errors never quote the secret. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"
#include "regfile.h"
#include "vault.h"

#define MAX_PASSWORD 1024

const struct sh_cred sh_cred_no_auth; /* a distinct address, never dereferenced for data */

static bool password_valid(const char *p, size_t len)
{
    if (len == 0 || len > MAX_PASSWORD)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) /* no NUL, CR, LF inside */
            return false;
    return true;
}

/* Read a secret file: a regular file, not writable or readable by others. */
static bool read_secret_file(const char *name, const char *path, char **out, struct sh_error *err)
{
    char buf[MAX_PASSWORD + 2];
    struct stat st;
    ssize_t n;
    int fd;

    char why[600];

    /* no FIFO can stall the load, no link can point us elsewhere; regular files only */
    if ((fd = sh_regfile_open(path, 0, &st, why, sizeof(why))) < 0) {
        snprintf(err->text, sizeof(err->text), "credentials %s: %.600s", name, why);
        return false;
    }
    if (st.st_mode & (S_IWGRP | S_IRWXO)) {
        snprintf(err->text, sizeof(err->text),
                 "credentials %s: %.200s has mode %04o: a secret file must not be group-writable "
                 "or accessible by others (chmod 0600 or 0640)",
                 name, path, (unsigned)(st.st_mode & 07777));
        close(fd);
        return false;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        snprintf(err->text, sizeof(err->text),
                 "credentials %s: %.200s must be owned by root or by this daemon's user", name,
                 path);
        close(fd);
        return false;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        snprintf(err->text, sizeof(err->text), "credentials %s: read %.200s: %s", name, path,
                 strerror(errno));
        return false;
    }
    if (n > 0 && buf[n - 1] == '\n') /* echo secret > file */
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (!password_valid(buf, (size_t)n)) {
        explicit_bzero(buf, sizeof(buf));
        snprintf(err->text, sizeof(err->text),
                 "credentials %s: %.200s must hold one line of 1-%d printable characters", name,
                 path, MAX_PASSWORD);
        return false;
    }
    buf[n] = 0;
    *out = xstrdup(buf);
    explicit_bzero(buf, sizeof(buf));
    return true;
}

/* systemd's LoadCredential=/SetCredential=: a file named NAME in $CREDENTIALS_DIRECTORY. */
static bool read_systemd_credential(const char *name, const char *cred, char **out,
                                    struct sh_error *err)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    char path[4096];

    if (*cred == 0 || strlen(cred) > 255 || strchr(cred, '/') || strcmp(cred, ".") == 0 ||
        strcmp(cred, "..") == 0) {
        snprintf(err->text, sizeof(err->text),
                 "credentials %s: cred:NAME needs a file name without '/'", name);
        return false;
    }
    if (dir == NULL || *dir != '/' || strlen(dir) > 3000) {
        snprintf(err->text, sizeof(err->text),
                 "credentials %s: cred:%s needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=)",
                 name, cred);
        return false;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, cred);
    return read_secret_file(name, path, out, err);
}

bool cred_password(const char *name, const char *spec, const char *vault_key, char **out,
                   const char **kind, struct sh_error *err)
{
    *out = NULL;
    if (strncmp(spec, "file:", 5) == 0) {
        *kind = "file";
        return read_secret_file(name, spec + 5, out, err);
    }
    if (strncmp(spec, "cred:", 5) == 0) {
        *kind = "cred";
        return read_systemd_credential(name, spec + 5, out, err);
    }
    if (strncmp(spec, SH_VAULT_PREFIX, strlen(SH_VAULT_PREFIX)) == 0) {
        *kind = "vault";
        if (!sh_vault_decrypt(vault_key, name, spec, out, err))
            return false;
        if (!password_valid(*out, strlen(*out))) {
            explicit_bzero(*out, strlen(*out));
            free(*out);
            *out = NULL;
            snprintf(err->text, sizeof(err->text),
                     "credentials %s: decrypted password is not 1-%d printable characters", name,
                     MAX_PASSWORD);
            return false;
        }
        return true;
    }
    *kind = "literal";
    if (!password_valid(spec, strlen(spec))) {
        snprintf(err->text, sizeof(err->text),
                 "credentials %s: password must be 1-%d printable characters", name, MAX_PASSWORD);
        return false;
    }
    *out = xstrdup(spec);
    return true;
}
