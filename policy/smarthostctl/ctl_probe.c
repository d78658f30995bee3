/* ctl_probe.c - `smarthostctl probe RELAY [--ca-file FILE]`: talk to a relay as
 * Postfix would (connect, EHLO, STARTTLS or implicit TLS, certificate check per
 * the relay's tls level, AUTH with its stored credential, QUIT), printing each
 * step; exits 1 at the first failure with the server's reply. The password is
 * never printed. Bounded: 10 s per read/write, 512-byte lines, 100 lines a reply. */
#include <arpa/inet.h>
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
#include "ctl_snapshot.h"
#include "ctl_usage.h"
#include "resolve.h"
#include "snapshot.h"

#define LINE_MAX_LEN 512
#define MAX_LINES    100

struct conn {
    int fd;
    SSL *ssl;
    char buf[4096];
    size_t len;
    char reply[LINE_MAX_LEN]; /* last line of the last reply */
    bool starttls, plain, login;
};

static int io_read(struct conn *c, char *p, size_t n)
{
    return c->ssl ? SSL_read(c->ssl, p, (int)n) : (int)read(c->fd, p, n);
}

static bool io_write(struct conn *c, const char *p)
{
    size_t n = strlen(p);
    return c->ssl ? SSL_write(c->ssl, p, (int)n) == (int)n : write(c->fd, p, n) == (ssize_t)n;
}

/* One line into c->reply (CRLF stripped). */
static bool read_line(struct conn *c)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t l = (size_t)(nl - c->buf);
            snprintf(c->reply, sizeof(c->reply), "%.*s", (int)(l && nl[-1] == '\r' ? l - 1 : l),
                     c->buf);
            memmove(c->buf, nl + 1, c->len - l - 1);
            c->len -= l + 1;
            return true;
        }
        if (c->len >= LINE_MAX_LEN)
            return false;
        int n = io_read(c, c->buf + c->len, sizeof(c->buf) - c->len);
        if (n <= 0)
            return false;
        c->len += (size_t)n;
    }
}

/* Read a reply; true when its code is WANT. Collects EHLO keywords. */
static bool reply(struct conn *c, int want, const char *step)
{
    for (int i = 0; i < MAX_LINES; i++) {
        if (!read_line(c)) {
            printf("%-9s FAILED: connection closed or timed out\n", step);
            return false;
        }
        printf("  <- %s\n", c->reply);
        if (strlen(c->reply) < 3) {
            printf("%-9s FAILED: malformed reply\n", step);
            return false;
        }
        if (strncasecmp(c->reply + 4, "STARTTLS", 8) == 0)
            c->starttls = true;
        if (strncasecmp(c->reply + 4, "AUTH", 4) == 0) {
            c->plain = c->plain || strcasestr(c->reply, " PLAIN") != NULL;
            c->login = c->login || strcasestr(c->reply, " LOGIN") != NULL;
        }
        if (c->reply[3] != '-') {
            bool ok = atoi(c->reply) == want;
            printf("%-9s %s\n", step, ok ? "ok" : "FAILED");
            return ok;
        }
    }
    printf("%-9s FAILED: reply too long\n", step);
    return false;
}

static bool command(struct conn *c, const char *line, const char *shown, int want, const char *step)
{
    char out[LINE_MAX_LEN * 2];
    snprintf(out, sizeof(out), "%s\r\n", line);
    printf("  -> %s\n", shown ? shown : line);
    if (!io_write(c, out)) {
        printf("%-9s FAILED: write\n", step);
        return false;
    }
    return reply(c, want, step);
}

static bool tls_start(struct conn *c, const struct sh_relay *r, const char *ca_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    bool verify = r->tls == SH_TLS_VERIFY || r->tls == SH_TLS_SECURE;
    long v;

    if (ctx == NULL)
        return false;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (verify) {
        if (ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
                    : SSL_CTX_set_default_verify_paths(ctx) != 1) {
            printf("tls       FAILED: cannot load CA certificates\n");
            SSL_CTX_free(ctx);
            return false;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    c->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL keeps its reference */
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, r->host);
    if (verify) { /* the name checked: the relay's host (nexthop), an IP as an IP */
        unsigned char ip[16];
        X509_VERIFY_PARAM *p = SSL_get0_param(c->ssl);
        if (inet_pton(AF_INET, r->host, ip) == 1 || inet_pton(AF_INET6, r->host, ip) == 1)
            X509_VERIFY_PARAM_set1_ip_asc(p, r->host);
        else
            SSL_set1_host(c->ssl, r->host);
    }
    if (SSL_connect(c->ssl) != 1) {
        v = SSL_get_verify_result(c->ssl);
        printf("tls       FAILED: %s\n", v != X509_V_OK ? X509_verify_cert_error_string(v)
                                                        : ERR_reason_error_string(ERR_get_error()));
        return false;
    }
    printf("tls       ok: %s %s, certificate %s\n", SSL_get_version(c->ssl), SSL_get_cipher(c->ssl),
           verify ? "verified" : "not checked (tls level below verify)");
    return true;
}

static bool b64(const char *in, size_t len, char *out, size_t cap)
{
    if (4 * ((len + 2) / 3) + 1 > cap)
        return false;
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
    return true;
}

static bool authenticate(struct conn *c, const struct sh_cred *cred)
{
    char raw[1400], enc[2000], line[2100];
    size_t ul = strlen(cred->user), pl = strlen(cred->password);
    bool ok = false;

    if (c->plain) {
        raw[0] = 0; /* authzid empty, authcid NUL password */
        memcpy(raw + 1, cred->user, ul + 1);
        memcpy(raw + ul + 2, cred->password, pl);
        if (b64(raw, ul + pl + 2, enc, sizeof(enc))) {
            snprintf(line, sizeof(line), "AUTH PLAIN %s", enc);
            ok = command(c, line, "AUTH PLAIN (credentials hidden)", 235, "auth");
        }
    } else if (c->login) {
        ok = command(c, "AUTH LOGIN", NULL, 334, "auth") && b64(cred->user, ul, enc, sizeof(enc)) &&
             command(c, enc, "(user)", 334, "auth") && b64(cred->password, pl, enc, sizeof(enc)) &&
             command(c, enc, "(password hidden)", 235, "auth");
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
    struct timeval tv = {.tv_sec = 10};
    char port[8];
    int fd = -1, e;

    snprintf(port, sizeof(port), "%u", r->port);
    if ((e = getaddrinfo(r->host, port, &hints, &ai)) != 0) {
        printf("connect   FAILED: %s: %s\n", r->host, gai_strerror(e));
        return -1;
    }
    for (a = ai; a && fd < 0; a = a->ai_next) {
        if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0)) < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    printf("connect   %s %s\n", r->nexthop, fd < 0 ? "FAILED" : "ok");
    return fd;
}

bool ctl_probe_relay(const struct sh_relay *r, const struct sh_cred *cred, const char *ca_file)
{
    struct conn c = {.fd = -1};
    bool ok;

    if ((c.fd = tcp_connect(r)) < 0)
        return false;
    ok = (!r->implicit_tls || tls_start(&c, r, ca_file)) && reply(&c, 220, "greeting") &&
         command(&c, "EHLO smarthostctl.invalid", NULL, 250, "ehlo");
    if (ok && !r->implicit_tls && r->tls >= SH_TLS_MAY && c.starttls) {
        c.starttls = c.plain = c.login = false;
        ok = command(&c, "STARTTLS", NULL, 220, "starttls") && tls_start(&c, r, ca_file) &&
             command(&c, "EHLO smarthostctl.invalid", NULL, 250, "ehlo");
    } else if (ok && !r->implicit_tls && r->tls >= SH_TLS_ENCRYPT) {
        printf("starttls  FAILED: the server does not offer STARTTLS and tls = %s requires it\n",
               sh_tls_level_name(r->tls));
        ok = false;
    }
    if (ok && cred)
        ok = authenticate(&c, cred);
    if (ok)
        ok = command(&c, "QUIT", NULL, 221, "quit");
    if (c.ssl)
        SSL_free(c.ssl);
    close(c.fd);
    return ok;
}

void ctl_probe_usage(FILE *out)
{
    fprintf(out, "usage: smarthostctl [-c FILE] probe [--ca-file FILE] RELAY|DOMAIN\n"
                 "  connect, EHLO, TLS and AUTH as Postfix would; the password is never shown\n");
}

int ctl_probe(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"ca-file", required_argument, NULL, 'a'}, {0}};
    const char *ca_file = NULL;
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
        if (c != 'a') {
            ctl_usage_err("probe: option \"%.64s\" is not known or needs a value",
                          argv[optind - 1]);
            ctl_probe_usage(stderr);
            return CTL_USAGE;
        }
        ca_file = optarg;
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
           sh_tls_level_name(r->tls), r->implicit_tls ? " (implicit)" : "",
           cred ? cred->user : "none");
    setvbuf(stdout, NULL, _IOLBF, 0);
    ok = ctl_probe_relay(r, cred, ca_file);
    printf("result    %s\n", ok ? "OK" : "FAILED");
    sh_snapshot_free(s);
    return ok ? CTL_OK : CTL_FAIL;
}
