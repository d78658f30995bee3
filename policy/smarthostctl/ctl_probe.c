/* ctl_probe.c - `smarthostctl probe RELAY`: talk to a relay as Postfix's smtp(8) would.
 *
 * Connect, EHLO, STARTTLS or implicit TLS, the certificate judged as smtp(8) judges it
 * at the relay's tls level (its smtp_tls_policy_maps answer, with the installed
 * Postfix's smtp_tls_* settings read through postconf), AUTH with the stored
 * credential, QUIT; each step printed, exit 1 at the first failure with the server's
 * reply. Where smtp(8) would defer, the probe fails; it never reports OK for less.
 * The password is never printed. Bounded: 10 s per read/write, reply lines cut at
 * Postfix's line_length_limit (2048, the rest skipped, as smtp(8) does), 1000 lines
 * a reply. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "ctl.h"
#include "ctl_managed.h"
#include "ctl_postconf.h"
#include "ctl_snapshot.h"
#include "ctl_usage.h"
#include "resolve.h"
#include "snapshot.h"

#define LINE_LIMIT 2048 /* Postfix line_length_limit: smtp(8) cuts a reply line here */
#define MAX_LINES  1000
#define IO_SECONDS 10
#define SHOW_MAX   200 /* untrusted reply text shown at most this long */
#define PF_VALUE   1024

/* The installed Postfix's settings that decide how smtp(8) judges a certificate. */
struct pf_tls {
    char digest[PF_VALUE];       /* smtp_tls_fingerprint_digest */
    char cafile[PF_VALUE];       /* smtp_tls_CAfile */
    char capath[PF_VALUE];       /* smtp_tls_CApath */
    char append_ca[PF_VALUE];    /* tls_append_default_CA */
    char servername[PF_VALUE];   /* smtp_tls_servername: the SNI sent, empty: none */
    char verify_match[PF_VALUE]; /* smtp_tls_verify_cert_match */
    char secure_match[PF_VALUE]; /* smtp_tls_secure_cert_match */
    char depth[PF_VALUE];        /* smtp_tls_scert_verifydepth */
};

struct conn {
    int fd;
    SSL *ssl;
    const struct pf_tls *pf;
    X509 *leaf; /* the server's certificate as the handshake saw it */
    char buf[4096];
    size_t len;
    char line[LINE_LIMIT + 1]; /* the last reply line, CRLF stripped, cut at LINE_LIMIT */
    bool starttls, plain, login, auth;
};

/* Why a read or write failed, errno or OpenSSL's reason included. */
static void io_failed(struct conn *c, const char *step, int n, int err, const char *what)
{
    int e = c->ssl ? SSL_get_error(c->ssl, n) : SSL_ERROR_SYSCALL;
    unsigned long ossl = ERR_get_error();

    if (e == SSL_ERROR_ZERO_RETURN || (n == 0 && (e == SSL_ERROR_SYSCALL || !c->ssl)))
        printf("%-9s FAILED: connection closed by the server while %s\n", step, what);
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    else if (e == SSL_ERROR_SSL && ERR_GET_REASON(ossl) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        printf("%-9s FAILED: connection closed by the server (no TLS close_notify) while %s\n",
               step, what);
#endif
    else if (e == SSL_ERROR_SYSCALL && (err == EAGAIN || err == EWOULDBLOCK))
        printf("%-9s FAILED: no data within %d s while %s\n", step, IO_SECONDS, what);
    else if (e == SSL_ERROR_SYSCALL && err)
        printf("%-9s FAILED: %s while %s\n", step, strerror(err), what);
    else if (ossl)
        printf("%-9s FAILED: TLS error while %s: %s\n", step, what,
               ERR_reason_error_string(ossl) ? ERR_reason_error_string(ossl) : "unknown");
    else
        printf("%-9s FAILED: connection lost while %s\n", step, what);
    ERR_clear_error();
}

static int io_read(struct conn *c, char *p, size_t n)
{
    return c->ssl ? SSL_read(c->ssl, p, (int)n) : (int)read(c->fd, p, n);
}

static bool io_write(struct conn *c, const char *p, const char *step)
{
    size_t n = strlen(p);
    int w;

    errno = 0;
    w = c->ssl ? SSL_write(c->ssl, p, (int)n) : (int)send(c->fd, p, n, MSG_NOSIGNAL);
    if (w == (int)n)
        return true;
    io_failed(c, step, w, errno, "sending");
    return false;
}

/* One line into c->line, CRLF stripped. As smtp(8) (smtp_get with SMTP_GET_FLAG_SKIP),
 * a line longer than LINE_LIMIT keeps its first LINE_LIMIT bytes and the rest is
 * skipped up to its newline. */
static bool read_line(struct conn *c, const char *step)
{
    size_t kept = 0;

    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        size_t take = nl ? (size_t)(nl - c->buf) : c->len;
        size_t n = take < LINE_LIMIT - kept ? take : LINE_LIMIT - kept;

        memcpy(c->line + kept, c->buf, n);
        kept += n;
        if (nl) {
            memmove(c->buf, nl + 1, c->len - take - 1);
            c->len -= take + 1;
            if (kept && c->line[kept - 1] == '\r')
                kept--;
            c->line[kept] = 0;
            return true;
        }
        c->len = 0;
        errno = 0;
        int r = io_read(c, c->buf, sizeof(c->buf));
        if (r <= 0) {
            io_failed(c, step, r, errno, "reading the reply");
            return false;
        }
        c->len = (size_t)r;
    }
}

/* The reply line as shown: printable, bounded. */
static void show_line(const char *l)
{
    size_t n = strlen(l);

    printf("  <- ");
    for (size_t i = 0; i < n && i < SHOW_MAX; i++)
        putchar(isprint((unsigned char)l[i]) ? l[i] : '?');
    printf("%s\n", n > SHOW_MAX ? "..." : "");
}

/* An EHLO keyword line (after the code): STARTTLS, AUTH and its mechanisms
 * ("AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN"). */
static void ehlo_keyword(struct conn *c, const char *kw)
{
    static const char sep[] = " =\t";
    char tmp[LINE_LIMIT + 1], *save, *w;

    snprintf(tmp, sizeof(tmp), "%s", kw);
    if ((w = strtok_r(tmp, sep, &save)) == NULL)
        return;
    if (strcasecmp(w, "STARTTLS") == 0) {
        c->starttls = true;
    } else if (strcasecmp(w, "AUTH") == 0) {
        c->auth = true;
        while ((w = strtok_r(NULL, sep, &save)) != NULL) {
            c->plain = c->plain || strcasecmp(w, "PLAIN") == 0;
            c->login = c->login || strcasecmp(w, "LOGIN") == 0;
        }
    }
}

/* Read one reply; its code, or -1 (failure printed). Strict: every line is three
 * digits (2xx-5xx) then space, '-' or the end, all lines carry the same code
 * (RFC 5321 4.2.1); anything else is malformed and refused. EHLO: the keyword lines
 * (every line after the first) are collected. */
static int reply(struct conn *c, const char *step, bool ehlo)
{
    int code = 0;

    for (int i = 0; i < MAX_LINES; i++) {
        const char *l = c->line;
        int lc;

        if (!read_line(c, step))
            return -1;
        show_line(l);
        if (!isdigit((unsigned char)l[0]) || !isdigit((unsigned char)l[1]) ||
            !isdigit((unsigned char)l[2]) || (l[3] && l[3] != ' ' && l[3] != '-') || l[0] < '2' ||
            l[0] > '5') {
            printf("%-9s FAILED: malformed reply line\n", step);
            return -1;
        }
        lc = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
        if (i == 0) {
            code = lc;
        } else if (lc != code) {
            printf("%-9s FAILED: malformed reply: lines with codes %d and %d\n", step, code, lc);
            return -1;
        }
        if (ehlo && i > 0 && l[3])
            ehlo_keyword(c, l + 4);
        if (l[3] != '-')
            return code;
    }
    printf("%-9s FAILED: reply longer than %d lines\n", step, MAX_LINES);
    return -1;
}

/* CODE is WANT: "ok"; otherwise the failure. */
static bool expect(int code, int want, const char *step)
{
    if (code < 0)
        return false;
    if (code == want)
        printf("%-9s ok\n", step);
    else
        printf("%-9s FAILED: the server answered %d, not %d\n", step, code, want);
    return code == want;
}

static int command(struct conn *c, const char *line, const char *shown, const char *step, bool ehlo)
{
    char out[LINE_LIMIT + 4];

    if ((size_t)snprintf(out, sizeof(out), "%s\r\n", line) >= sizeof(out)) {
        printf("%-9s FAILED: command too long\n", step);
        return -1;
    }
    printf("  -> %s\n", shown ? shown : line);
    if (!io_write(c, out, step))
        return -1;
    return reply(c, step, ehlo);
}

/* "AB:CD:..." of DATA's digest under MD. */
static void hex_digest(const EVP_MD *md, const unsigned char *data, size_t len, char *out,
                       size_t cap)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;

    out[0] = 0;
    if (EVP_Digest(data, len, d, &dl, md, NULL) != 1)
        return;
    for (unsigned i = 0; i < dl && 3 * (i + 1) <= cap; i++)
        snprintf(out + 3 * i, cap - 3 * i, "%02X%s", d[i], i + 1 < dl ? ":" : "");
}

/* The server certificate's digests, as Postfix logs and matches them: of the whole
 * DER certificate and of its DER SubjectPublicKeyInfo (tls_fprint.c). */
static void show_fingerprints(const struct conn *c)
{
    const char *name = c->pf->digest[0] ? c->pf->digest : "sha256";
    const EVP_MD *md = EVP_get_digestbyname(name);
    unsigned char *der = NULL;
    char hex[3 * EVP_MAX_MD_SIZE + 1];
    int n;

    if (c->leaf == NULL || md == NULL)
        return;
    if ((n = i2d_X509(c->leaf, &der)) > 0) {
        hex_digest(md, der, (size_t)n, hex, sizeof(hex));
        printf("  certificate %s fingerprint %s\n", name, hex);
    }
    OPENSSL_free(der);
    der = NULL;
    if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->leaf), &der)) > 0) {
        hex_digest(md, der, (size_t)n, hex, sizeof(hex));
        printf("  public key  %s fingerprint %s\n", name, hex);
    }
    OPENSSL_free(der);
}

/* Keeps the leaf certificate for the report; the verdict stays OpenSSL's. */
static int keep_leaf(int ok, X509_STORE_CTX *st)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(st, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *x = X509_STORE_CTX_get_current_cert(st);

    if (c && x && X509_STORE_CTX_get_error_depth(st) == 0 && c->leaf == NULL && X509_up_ref(x) == 1)
        c->leaf = x;
    return ok;
}

/* The match= patterns of the relay's smtp_tls_policy_maps answer ("secure
 * match=a:b"), else NULL: smtp(8) then takes smtp_tls_*_cert_match. */
static const char *policy_match(const struct sh_relay *r)
{
    const char *m = r->tls_answer ? strstr(r->tls_answer, " match=") : NULL;
    return m ? m + 7 : NULL;
}

/* Fingerprint level, as smtp(8) does it (tls_dane.c, tls_client.c): each pin is a
 * synthetic DANE-EE TLSA record for the certificate (3 0 255) and for its public key
 * (3 1 255), with matching type 255 the configured digest; no name checks, no CA. */
static bool fingerprint_setup(struct conn *c, const struct sh_relay *r)
{
    const char *pins = policy_match(r);
    char tmp[PF_VALUE * 2], *save, *pin;
    int usable = 0;

    if (SSL_dane_enable(c->ssl, NULL) <= 0)
        return false;
    SSL_dane_set_flags(c->ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    snprintf(tmp, sizeof(tmp), "%s", pins ? pins : "");
    for (pin = strtok_r(tmp, "|", &save); pin; pin = strtok_r(NULL, "|", &save)) {
        long len = 0;
        unsigned char *raw = OPENSSL_hexstr2buf(pin, &len);
        if (raw == NULL)
            continue;
        usable += SSL_dane_tlsa_add(c->ssl, 3, 0, 255, raw, (size_t)len) > 0;
        usable += SSL_dane_tlsa_add(c->ssl, 3, 1, 255, raw, (size_t)len) > 0;
        OPENSSL_free(raw);
    }
    ERR_clear_error();
    if (usable == 0) {
        printf("tls       FAILED: no fingerprint in tls_match is a %s digest "
               "(Postfix's smtp_tls_fingerprint_digest): smtp(8) would defer\n",
               c->pf->digest);
        return false;
    }
    return true;
}

/* Verify and secure levels: the names smtp(8) hands OpenSSL (add_namechecks in
 * tls_client.c): match= patterns, else smtp_tls_verify_cert_match (verify) or
 * smtp_tls_secure_cert_match (secure). "hostname" and "nexthop" are the relay's host
 * (its nexthop is "[host]:port", so no MX name is involved), "dot-nexthop" and
 * ".domain" match subdomains only; no partial-label wildcards. */
static bool names_setup(struct conn *c, const struct sh_relay *r)
{
    const char *m = policy_match(r);
    const char *seps = m ? ":" : ", \t\r\n:";
    char tmp[PF_VALUE * 2], dot[PF_VALUE + 2], *save, *w;
    int n = 0;

    if (m == NULL)
        m = r->tls == SH_TLS_SECURE ? c->pf->secure_match : c->pf->verify_match;
    SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    snprintf(tmp, sizeof(tmp), "%s", m);
    printf("  names checked:");
    for (w = strtok_r(tmp, seps, &save); w; w = strtok_r(NULL, seps, &save)) {
        const char *name = w;
        if (strcasecmp(w, "nexthop") == 0 || strcasecmp(w, "hostname") == 0) {
            name = r->host;
        } else if (strcasecmp(w, "dot-nexthop") == 0) {
            snprintf(dot, sizeof(dot), ".%s", r->host);
            name = dot;
        } else if (strcmp(w, ".") == 0) {
            continue;
        }
        /* As in smtp(8), a name OpenSSL refuses (a second IP address) is skipped. */
        if (SSL_add1_host(c->ssl, name) == 1) {
            printf(" %s", name);
            n++;
        }
    }
    printf("%s\n", n ? "" : " none");
    ERR_clear_error();
    if (n == 0) {
        printf("tls       FAILED: no name to check the certificate against: smtp(8) would "
               "defer\n");
        return false;
    }
    return true;
}

/* The CAs smtp(8) trusts: smtp_tls_CAfile and smtp_tls_CApath, the system's too only
 * with tls_append_default_CA = yes; with neither set it trusts none (tls_certkey.c).
 * --ca-file stands in for smtp_tls_CAfile. */
static bool ca_setup(SSL_CTX *ctx, const struct conn *c, const char *ca_file)
{
    const char *file = ca_file ? ca_file : c->pf->cafile[0] ? c->pf->cafile : NULL;
    const char *path = ca_file ? NULL : c->pf->capath[0] ? c->pf->capath : NULL;
    long depth = strtol(c->pf->depth, NULL, 10);

    if (file == NULL && path == NULL) {
        printf("tls       FAILED: Postfix has neither smtp_tls_CAfile nor smtp_tls_CApath: "
               "smtp(8) can verify no certificate (or give --ca-file)\n");
        return false;
    }
    if (SSL_CTX_load_verify_locations(ctx, file, path) != 1 ||
        (ca_file == NULL && strcasecmp(c->pf->append_ca, "yes") == 0 &&
         SSL_CTX_set_default_verify_paths(ctx) != 1)) {
        printf("tls       FAILED: cannot load CA certificates from %s%s%s\n", file ? file : "",
               file && path ? " and " : "", path ? path : "");
        return false;
    }
    if (depth > 0 && depth < 100)
        SSL_CTX_set_verify_depth(ctx, (int)depth + 1);
    return true;
}

static bool tls_start(struct conn *c, const struct sh_relay *r, const char *ca_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    bool verify = r->tls == SH_TLS_VERIFY || r->tls == SH_TLS_SECURE;
    bool fpt = r->tls == SH_TLS_FINGERPRINT;
    const EVP_MD *md = NULL;
    const char *sni = c->pf->servername;
    long v;
    int rc;

    if (ctx == NULL)
        return false;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (fpt && ((md = EVP_get_digestbyname(c->pf->digest)) == NULL ||
                SSL_CTX_dane_enable(ctx) <= 0 || SSL_CTX_dane_mtype_set(ctx, md, 255, 1) <= 0)) {
        printf("tls       FAILED: smtp_tls_fingerprint_digest \"%.64s\" is not a digest "
               "OpenSSL offers\n",
               c->pf->digest);
        SSL_CTX_free(ctx);
        return false;
    }
    if (verify && !ca_setup(ctx, c, ca_file)) {
        SSL_CTX_free(ctx);
        return false;
    }
    c->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL keeps its reference */
    if (c->ssl == NULL)
        return false;
    SSL_set_app_data(c->ssl, c);
    SSL_set_fd(c->ssl, c->fd);
    if ((fpt && !fingerprint_setup(c, r)) || (verify && !names_setup(c, r)))
        return false;
    SSL_set_verify(c->ssl, verify || fpt ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, keep_leaf);
    /* SNI as smtp_tls_servername says; empty (Postfix's default): none. */
    if (strcmp(sni, "hostname") == 0 || strcmp(sni, "nexthop") == 0)
        sni = r->host;
    if (sni[0] && SSL_set_tlsext_host_name(c->ssl, sni) != 1) {
        printf("tls       FAILED: cannot send SNI \"%.64s\"\n", sni);
        return false;
    }
    errno = 0;
    if ((rc = SSL_connect(c->ssl)) != 1) {
        v = SSL_get_verify_result(c->ssl);
        if (v != X509_V_OK)
            printf("tls       FAILED: certificate: %s\n", X509_verify_cert_error_string(v));
        else
            io_failed(c, "tls", rc, errno, "in the TLS handshake");
        show_fingerprints(c);
        return false;
    }
    printf("tls       ok: %s %s%s%s, certificate %s\n", SSL_get_version(c->ssl),
           SSL_get_cipher(c->ssl), sni[0] ? ", SNI " : "", sni[0] ? sni : "",
           verify ? "verified"
           : fpt  ? "matches a tls_match fingerprint"
                  : "not checked (as smtp(8) at this tls level)");
    show_fingerprints(c);
    return true;
}

static bool b64(const char *in, size_t len, char *out, size_t cap)
{
    if (4 * ((len + 2) / 3) + 1 > cap)
        return false;
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
    return true;
}

/* AUTH PLAIN with an initial response, else LOGIN. Only 235 is success; a 334 where
 * the exchange is over, or anything else, fails. */
static bool authenticate(struct conn *c, const struct sh_cred *cred, bool auth_before_tls)
{
    char raw[1400], enc[2000], line[2100];
    size_t ul = strlen(cred->user), pl = strlen(cred->password);
    bool ok = false;

    if (c->plain && ul + pl + 2 <= sizeof(raw)) {
        raw[0] = 0; /* authzid empty, authcid NUL password */
        memcpy(raw + 1, cred->user, ul + 1);
        memcpy(raw + ul + 2, cred->password, pl);
        if (b64(raw, ul + pl + 2, enc, sizeof(enc))) {
            snprintf(line, sizeof(line), "AUTH PLAIN %s", enc);
            ok = expect(command(c, line, "AUTH PLAIN (credentials hidden)", "auth", false), 235,
                        "auth");
        }
    } else if (c->login) {
        ok = expect(command(c, "AUTH LOGIN", NULL, "auth", false), 334, "auth") &&
             b64(cred->user, ul, enc, sizeof(enc)) &&
             expect(command(c, enc, "(user)", "auth", false), 334, "auth") &&
             b64(cred->password, pl, enc, sizeof(enc)) &&
             expect(command(c, enc, "(password hidden)", "auth", false), 235, "auth");
    } else if (!c->auth && auth_before_tls) {
        printf("auth      FAILED: the server offered AUTH before TLS only; smtp(8) "
               "authenticates after it\n");
    } else {
        printf("auth      FAILED: the server offers neither AUTH PLAIN nor LOGIN\n");
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(enc, sizeof(enc));
    OPENSSL_cleanse(line, sizeof(line));
    return ok;
}

static int tcp_connect(const struct sh_relay *r)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *a;
    struct timeval tv = {.tv_sec = IO_SECONDS};
    char port[8];
    int fd = -1, e, err = 0;

    snprintf(port, sizeof(port), "%u", r->port);
    if ((e = getaddrinfo(r->host, port, &hints, &ai)) != 0) {
        printf("connect   FAILED: %s: %s\n", r->host, gai_strerror(e));
        return -1;
    }
    for (a = ai; a && fd < 0; a = a->ai_next) {
        if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0)) < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        printf("connect   %s FAILED: %s\n", r->nexthop,
               err == EINPROGRESS || err == EAGAIN ? "no answer within 10 s" : strerror(err));
    else
        printf("connect   %s ok\n", r->nexthop);
    return fd;
}

/* Postfix's settings from postconf -c DIR, in the order asked. */
static bool pf_load(const char *dir, struct pf_tls *pf)
{
    static const char *const args[] = {"-hx",
                                       "smtp_tls_fingerprint_digest",
                                       "smtp_tls_CAfile",
                                       "smtp_tls_CApath",
                                       "tls_append_default_CA",
                                       "smtp_tls_servername",
                                       "smtp_tls_verify_cert_match",
                                       "smtp_tls_secure_cert_match",
                                       "smtp_tls_scert_verifydepth",
                                       NULL};
    char *fields[] = {pf->digest,     pf->cafile,       pf->capath,       pf->append_ca,
                      pf->servername, pf->verify_match, pf->secure_match, pf->depth};
    char *out = NULL, *p, *nl;
    size_t i = 0;
    bool whole;

    if (ctl_postconf(dir, args, &out) != 0) {
        free(out);
        return false;
    }
    for (p = out; i < sizeof(fields) / sizeof(fields[0]) && (nl = strchr(p, '\n')); p = nl + 1)
        if ((size_t)snprintf(fields[i++], PF_VALUE, "%.*s", (int)(nl - p), p) >= PF_VALUE)
            break;
    whole = i == sizeof(fields) / sizeof(fields[0]) && *p == 0;
    free(out);
    return whole;
}

/* Postfix 3.7's built-in values at compatibility_level 3.6 or later: for a caller
 * without a Postfix (a fuzz harness). */
static const struct pf_tls pf_builtin = {
    .digest = "sha256",
    .append_ca = "no",
    .verify_match = "hostname",
    .secure_match = "nexthop, dot-nexthop",
    .depth = "9",
};

bool ctl_probe_relay(const struct sh_relay *r, const struct sh_cred *cred,
                     const struct ctl_probe_opts *o)
{
    static struct pf_tls pf;
    struct conn c = {.fd = -1, .pf = &pf_builtin};
    bool ok, auth_before_tls = false;

    if (o->postfix_dir && r->tls >= SH_TLS_MAY) {
        if (pf_load(o->postfix_dir, &pf)) {
            c.pf = &pf;
        } else if (r->tls >= SH_TLS_FINGERPRINT) {
            printf("tls       FAILED: cannot read Postfix's smtp_tls_* settings (postconf -c %s); "
                   "--postfix-dir names Postfix's configuration directory\n",
                   o->postfix_dir);
            return false;
        } else { /* may/encrypt check no certificate; only the SNI would differ */
            printf("postfix   settings not read from %s: SNI as Postfix's default (none)\n",
                   o->postfix_dir);
        }
    }
    if ((c.fd = tcp_connect(r)) < 0)
        return false;
    ok = (!r->implicit_tls || tls_start(&c, r, o->ca_file)) &&
         expect(reply(&c, "greeting", false), 220, "greeting") &&
         expect(command(&c, "EHLO smarthostctl.invalid", NULL, "ehlo", true), 250, "ehlo");
    if (ok && !r->implicit_tls && r->tls >= SH_TLS_MAY && c.starttls) {
        auth_before_tls = c.auth;
        c.starttls = c.plain = c.login = c.auth = false;
        ok = expect(command(&c, "STARTTLS", NULL, "starttls", false), 220, "starttls");
        /* Whatever the server sent after its 220, before the handshake, is plaintext
         * that must never be read as a reply under TLS (the STARTTLS injection of
         * CVE-2011-0411). smtp(8) discards it unread; a server doing this is broken
         * or someone in between is injecting, so the probe refuses it. */
        if (ok && c.len > 0) {
            printf("starttls  FAILED: %zu bytes came after the 220 and before the TLS handshake "
                   "(discarded unread): plaintext injection or a broken server\n",
                   c.len);
            OPENSSL_cleanse(c.buf, sizeof(c.buf));
            c.len = 0;
            ok = false;
        }
        ok = ok && tls_start(&c, r, o->ca_file) &&
             expect(command(&c, "EHLO smarthostctl.invalid", NULL, "ehlo", true), 250, "ehlo");
    } else if (ok && !r->implicit_tls && r->tls >= SH_TLS_ENCRYPT) {
        printf("starttls  FAILED: the server does not offer STARTTLS and tls = %s requires it\n",
               sh_tls_level_name(r->tls));
        ok = false;
    }
    if (ok && cred)
        ok = authenticate(&c, cred, auth_before_tls);
    if (ok)
        ok = expect(command(&c, "QUIT", NULL, "quit", false), 221, "quit");
    if (c.ssl)
        SSL_free(c.ssl);
    if (c.leaf)
        X509_free(c.leaf);
    close(c.fd);
    return ok;
}

void ctl_probe_usage(FILE *out)
{
    fprintf(out, "usage: smarthostctl [-c FILE] probe [--ca-file FILE] [--postfix-dir DIR] "
                 "RELAY|DOMAIN\n"
                 "  connect, EHLO, TLS and AUTH as Postfix's smtp(8) would, judging the\n"
                 "  certificate by the relay's tls level and Postfix's smtp_tls_* settings\n"
                 "  (postconf -c DIR, default /etc/postfix); the password is never shown\n");
}

int ctl_probe(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"ca-file", required_argument, NULL, 'a'},
                                         {"postfix-dir", required_argument, NULL, 'D'},
                                         {0}};
    struct ctl_probe_opts po = {.postfix_dir = CTL_PROBE_POSTFIX_DIR};
    const struct sh_relay *r;
    const struct sh_cred *cred;
    struct sh_snapshot *s;
    struct sh_decision d;
    char who[SH_MAX_KEY + 16];
    int c;
    bool ok;

    optind = 0; /* glibc: full re-initialisation after main()'s getopt */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'a') {
            po.ca_file = optarg;
        } else if (c == 'D') {
            po.postfix_dir = optarg;
        } else {
            ctl_usage_err("probe: option \"%.64s\" is not known or needs a value",
                          argv[optind - 1]);
            ctl_probe_usage(stderr);
            return CTL_USAGE;
        }
    }
    if (argc - optind != 1) {
        ctl_probe_usage(stderr);
        return CTL_USAGE;
    }
    if ((s = ctl_load(ctx->config_path)) == NULL)
        return CTL_FAIL;
    if ((r = ctl_find_relay(s, argv[optind])) == NULL) {
        sh_snapshot_free(s);
        return CTL_USAGE;
    }
    cred = r->cred;
    /* A domain: its senders' relay and their credentials there. */
    snprintf(who, sizeof(who), "postmaster@%s",
             argv[optind][0] == '@' ? argv[optind] + 1 : argv[optind]);
    if (sh_snapshot_relay(s, argv[optind]) == NULL &&
        sh_resolve_sender(s, who, strlen(who), &d) == SH_FOUND && d.relay) {
        r = d.relay;
        cred = d.cred;
    }
    printf("probe     relay %s %s tls=%s%s auth=%s\n", r->name, r->nexthop,
           r->tls_answer ? r->tls_answer : sh_tls_level_name(r->tls),
           r->implicit_tls ? " (implicit)" : "", cred ? cred->user : "none");
    setvbuf(stdout, NULL, _IOLBF, 0);
    ok = ctl_probe_relay(r, cred, &po);
    printf("result    %s\n", ok ? "OK" : "FAILED");
    sh_snapshot_free(s);
    return ok ? CTL_OK : CTL_FAIL;
}
