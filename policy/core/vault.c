/* vault.c - AES-256-GCM credentials: "enc:v1:" base64(nonce[12] | ciphertext | tag[16]).
 * Every buffer that held a key or a plaintext is wiped before it is freed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "regfile.h"
#include "vault.h"

#define NONCE_LEN 12
#define TAG_LEN   16
#define MAX_RAW   (NONCE_LEN + SH_VAULT_MAX_SECRET + TAG_LEN)
#define MAX_B64   (4 * ((MAX_RAW + 2) / 3))
#define KEY_B64   44 /* base64 of 32 bytes */

static bool fail(struct sh_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct sh_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return false;
}

/* Strict base64: length a multiple of 4, alphabet only, '=' only as padding.
 * Returns the decoded length or -1. OUT holds at least 3*len/4 bytes. */
static int b64_decode(const char *in, size_t len, unsigned char *out)
{
    size_t pad = 0;
    int n;

    if (len == 0 || len % 4 != 0)
        return -1;
    if (in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++) {
        char c = in[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return -1;
    }
    n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    return n < 0 ? -1 : n - (int)pad; /* DecodeBlock counts padding as zero bytes */
}

bool sh_vault_decrypt_key(const unsigned char key[SH_VAULT_KEY_LEN], const char *name,
                          const char *value, char **out, struct sh_error *err)
{
    size_t plen = strlen(SH_VAULT_PREFIX), vlen = strlen(value);
    unsigned char raw[MAX_RAW + 3], plain[MAX_RAW];
    EVP_CIPHER_CTX *ctx = NULL;
    int n, len = 0, fin = 0;
    bool ok = false;

    *out = NULL;
    if (vlen < plen || memcmp(value, SH_VAULT_PREFIX, plen) != 0)
        return fail(err, "credentials %s: not an %s value", name, SH_VAULT_PREFIX);
    if (vlen - plen > MAX_B64 || (n = b64_decode(value + plen, vlen - plen, raw)) < 0)
        return fail(err, "credentials %s: malformed %s value (bad base64 or too long)", name,
                    SH_VAULT_PREFIX);
    if (n < NONCE_LEN + 1 + TAG_LEN)
        return fail(err, "credentials %s: malformed %s value (truncated)", name, SH_VAULT_PREFIX);
    if ((ctx = EVP_CIPHER_CTX_new()) != NULL &&
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, raw) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)name, (int)strlen(name)) == 1 &&
        EVP_DecryptUpdate(ctx, plain, &len, raw + NONCE_LEN, n - NONCE_LEN - TAG_LEN) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + n - TAG_LEN) == 1 &&
        EVP_DecryptFinal_ex(ctx, plain + len, &fin) == 1)
        ok = true;
    EVP_CIPHER_CTX_free(ctx);
    if (ok && (size_t)(len + fin) <= SH_VAULT_MAX_SECRET &&
        memchr(plain, 0, (size_t)(len + fin)) == NULL) {
        *out = malloc((size_t)(len + fin) + 1);
        if (*out) {
            memcpy(*out, plain, (size_t)(len + fin));
            (*out)[len + fin] = 0;
        }
    }
    OPENSSL_cleanse(plain, sizeof(plain));
    if (*out == NULL)
        return fail(err,
                    "credentials %s: cannot decrypt: wrong vault key, value altered, or value "
                    "copied from another credential",
                    name);
    return true;
}

char *sh_vault_encrypt(const unsigned char key[SH_VAULT_KEY_LEN], const char *name,
                       const char *secret)
{
    size_t slen = strlen(secret), plen = strlen(SH_VAULT_PREFIX);
    unsigned char raw[MAX_RAW];
    EVP_CIPHER_CTX *ctx = NULL;
    int len = 0, fin = 0;
    char *out = NULL;

    if (slen == 0 || slen > SH_VAULT_MAX_SECRET || RAND_bytes(raw, NONCE_LEN) != 1)
        return NULL;
    if ((ctx = EVP_CIPHER_CTX_new()) != NULL &&
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
        EVP_EncryptInit_ex(ctx, NULL, NULL, key, raw) == 1 &&
        EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)name, (int)strlen(name)) == 1 &&
        EVP_EncryptUpdate(ctx, raw + NONCE_LEN, &len, (const unsigned char *)secret, (int)slen) ==
            1 &&
        EVP_EncryptFinal_ex(ctx, raw + NONCE_LEN + len, &fin) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + NONCE_LEN + len + fin) == 1) {
        int total = NONCE_LEN + len + fin + TAG_LEN;
        if ((out = malloc(plen + 4 * ((size_t)total + 2) / 3 + 1)) != NULL) {
            memcpy(out, SH_VAULT_PREFIX, plen);
            EVP_EncodeBlock((unsigned char *)out + plen, raw, total);
        }
    }
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(raw, sizeof(raw));
    return out;
}

bool sh_vault_key_new(unsigned char key[SH_VAULT_KEY_LEN], char text[64])
{
    if (RAND_bytes(key, SH_VAULT_KEY_LEN) != 1)
        return false;
    EVP_EncodeBlock((unsigned char *)text, key, SH_VAULT_KEY_LEN);
    strcat(text, "\n");
    return true;
}

bool sh_vault_key_read(const char *path, unsigned char key[SH_VAULT_KEY_LEN], struct sh_error *err)
{
    char buf[KEY_B64 + 4];
    unsigned char raw[KEY_B64];
    struct stat st;
    ssize_t n;
    int fd, k;

    char why[600];

    /* no FIFO can stall the load, no link can point us elsewhere; regular files only */
    if ((fd = sh_regfile_open(path, 0, &st, why, sizeof(why))) < 0)
        return fail(err, "vault key %.600s", why);
    if ((st.st_mode & (S_IWGRP | S_IRWXO)) || (st.st_uid != 0 && st.st_uid != geteuid())) {
        close(fd);
        return fail(err,
                    "vault key %.200s: refused: must be owned by root (or this user), mode 0600 "
                    "or 0640",
                    path);
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    k = n == KEY_B64 ? b64_decode(buf, KEY_B64, raw) : -1;
    OPENSSL_cleanse(buf, sizeof(buf));
    if (k != SH_VAULT_KEY_LEN) {
        OPENSSL_cleanse(raw, sizeof(raw));
        return fail(err,
                    "vault key %.200s: must hold one line, the base64 of 32 bytes "
                    "(smarthostctl key init)",
                    path);
    }
    memcpy(key, raw, SH_VAULT_KEY_LEN);
    OPENSSL_cleanse(raw, sizeof(raw));
    return true;
}

static bool decrypt_with_file(const char *path, const char *name, const char *value, char **out,
                              struct sh_error *err)
{
    unsigned char key[SH_VAULT_KEY_LEN];
    bool ok;

    if (!sh_vault_key_read(path, key, err))
        return false;
    ok = sh_vault_decrypt_key(key, name, value, out, err);
    OPENSSL_cleanse(key, sizeof(key));
    return ok;
}

bool sh_vault_decrypt(const char *key_path, const char *name, const char *value, char **out,
                      struct sh_error *err)
{
    char old[4096];
    struct sh_error ignored;

    if (!decrypt_with_file(key_path, name, value, out, err)) {
        /* A rotation between its two renames: the value may still be under the old key. */
        if (snprintf(old, sizeof(old), "%s%s", key_path, SH_VAULT_OLD_SUFFIX) < (int)sizeof(old) &&
            access(old, F_OK) == 0 && decrypt_with_file(old, name, value, out, &ignored))
            return true;
        if (strstr(err->text, "vault key") == err->text) { /* name the credential too */
            char text[900];
            size_t l = strnlen(err->text, sizeof(text) - 1);
            memcpy(text, err->text, l);
            text[l] = 0;
            snprintf(err->text, sizeof(err->text), "credentials %.64s: %s", name, text);
        }
        return false;
    }
    return true;
}
