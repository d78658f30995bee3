/* t_vault.c - the enc:v1: codec and the key file checks. TAP. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vault.h"

static int decrypts(const unsigned char *key, const char *name, const char *value, const char *want)
{
    struct sh_error err;
    char *out = NULL;
    int r = sh_vault_decrypt_key(key, name, value, &out, &err);

    if (r && want)
        r = strcmp(out, want) == 0;
    if (!r && want == NULL && strstr(err.text, "secret") != NULL)
        r = 1; /* an error must never quote the secret: caught below */
    free(out);
    return r;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) < 0 || fchmod(fd, mode) < 0 || close(fd) < 0) {
        perror(path);
        exit(1);
    }
}

int main(void)
{
    unsigned char key[SH_VAULT_KEY_LEN], other[SH_VAULT_KEY_LEN], back[SH_VAULT_KEY_LEN];
    char text[64], bad[4096], dir[] = "/tmp/t_vault.XXXXXX", path[256];
    struct sh_error err;
    char *v, *v2, *out = NULL;
    size_t len;

    ok(sh_vault_key_new(key, text) && sh_vault_key_new(other, text), "keys generated");
    v = sh_vault_encrypt(key, "mailgun", "s3cret-pw");
    v2 = sh_vault_encrypt(key, "mailgun", "s3cret-pw");
    ok(v && strncmp(v, "enc:v1:", 7) == 0, "encrypt gives enc:v1:");
    ok(v && v2 && strcmp(v, v2) != 0, "fresh nonce: same secret, different values");
    ok(decrypts(key, "mailgun", v, "s3cret-pw"), "round trip");
    ok(!decrypts(key, "ses", v, "s3cret-pw"), "wrong AAD (credential name) refused");
    ok(!decrypts(other, "mailgun", v, "s3cret-pw"), "wrong key refused");

    len = strlen(v);
    snprintf(bad, sizeof(bad), "%s", v);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    ok(!decrypts(key, "mailgun", bad, "s3cret-pw"), "tampered nonce refused");
    snprintf(bad, sizeof(bad), "%s", v);
    bad[len - 8] = bad[len - 8] == 'A' ? 'B' : 'A';
    ok(!decrypts(key, "mailgun", bad, "s3cret-pw"), "tampered tag refused");
    snprintf(bad, sizeof(bad), "%.*s", (int)(len - 4), v);
    ok(!decrypts(key, "mailgun", bad, "s3cret-pw"), "truncated value refused");
    ok(!decrypts(key, "mailgun", "enc:v1:", NULL), "empty value refused");
    ok(!decrypts(key, "mailgun", "enc:v1:AAAA", NULL), "too short refused");
    ok(!decrypts(key, "mailgun", "enc:v1:!!!!", NULL), "bad base64 refused");
    ok(!decrypts(key, "mailgun", "enc:v1:QUJD=AAA", NULL), "padding inside refused");
    memset(bad, 'A', sizeof(bad) - 1);
    memcpy(bad, "enc:v1:", 7);
    bad[sizeof(bad) - 1] = 0;
    ok(!decrypts(key, "mailgun", bad, NULL), "oversized value refused");
    ok(!sh_vault_decrypt_key(key, "mailgun", bad, &out, &err) && out == NULL &&
           strstr(err.text, "mailgun") != NULL,
       "error names the credential");
    ok(sh_vault_encrypt(key, "x", "") == NULL, "empty secret not encrypted");

    /* key files */
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/vault.key", dir);
    sh_vault_key_new(key, text);
    write_file(path, text, 0600);
    ok(sh_vault_key_read(path, back, &err) && memcmp(key, back, sizeof(key)) == 0,
       "key file 0600 read back");
    chmod(path, 0640);
    ok(sh_vault_key_read(path, back, &err), "key file 0640 accepted (daemon group)");
    chmod(path, 0644);
    ok(!sh_vault_key_read(path, back, &err) && strstr(err.text, "refused") != NULL,
       "key file readable by others refused");
    chmod(path, 0660);
    ok(!sh_vault_key_read(path, back, &err), "group-writable key file refused");
    if (geteuid() == 0) {
        chmod(path, 0600);
        ok(chown(path, 65534, 65534) == 0 && !sh_vault_key_read(path, back, &err),
           "key file owned by another user refused");
    } else {
        skip("not root");
    }
    unlink(path);
    write_file(path, "c2hvcnQ=\n", 0600);
    ok(!sh_vault_key_read(path, back, &err), "short key file refused");
    unlink(path);
    ok(!sh_vault_key_read(path, back, &err), "missing key file is an error");

    /* sh_vault_decrypt: the file path and the rotation fallback (KEY.old) */
    write_file(path, text, 0600);
    out = NULL;
    ok(sh_vault_decrypt(path, "mailgun", v, &out, &err) == 0, "value under another key refused");
    free(v);
    v = sh_vault_encrypt(key, "mailgun", "pw2");
    ok(sh_vault_decrypt(path, "mailgun", v, &out, &err) && strcmp(out, "pw2") == 0,
       "decrypt through the key file");
    free(out);
    out = NULL;
    {
        char old[300], newtext[64];
        unsigned char nk[SH_VAULT_KEY_LEN];
        snprintf(old, sizeof(old), "%s.old", path);
        rename(path, old);
        sh_vault_key_new(nk, newtext);
        write_file(path, newtext, 0600);
        ok(sh_vault_decrypt(path, "mailgun", v, &out, &err) && strcmp(out, "pw2") == 0,
           "mid-rotation: value under vault.key.old still opens");
        free(out);
        unlink(old);
        unlink(path);
    }
    rmdir(dir);
    free(v);
    free(v2);
    return done_testing();
}
