/* ctl_relay.c - `smarthostctl relay ...`, docker-mailserver's `setup relay` verbs
 * on the managed group (one relay per [host]:port, credentials per sender pattern):
 *   add-domain D HOST [PORT]  the rule @D -> the relay of that nexthop (made if new)
 *   add-auth D USER [PW]      @D's own credentials (enc:v1:) at the relay @D uses: its
 *                             own, or the default relay (then they follow it)
 *   exclude-domain D          rule @D -> direct
 *   del-domain D              drop @D's rule and credentials (and relays left unused)
 *   default HOST [PORT]       the relay of that nexthop becomes the default relay
 *   default-auth USER [PW]    the default relay's own credentials
 *   set-tls RELAY|D LEVEL     tls level of a managed relay (all its senders)
 *   list                      every rule, relay and user; of a password only where
 *                             it lives and a fingerprint
 * D may be user@domain too. --implicit-tls / --starttls set how the relay speaks TLS
 * (port 465 means implicit TLS otherwise). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"
#include "ctl.h"
#include "ctl_args.h"
#include "ctl_relay.h"
#include "ctl_snapshot.h"
#include "ctl_usage.h"
#include "resolve.h"
#include "snapshot.h"
#include "vault.h"

/* Each sub-verb with the number of words it takes (itself included). */
static const struct subverb {
    const char *name;
    int min, max;
} subverbs[] = {
    {"add-domain", 3, 4}, {"add-auth", 3, 4},     {"exclude-domain", 2, 2}, {"del-domain", 2, 2},
    {"default", 2, 3},    {"default-auth", 2, 3}, {"set-tls", 3, 3},        {"list", 1, 1},
};
#define NSUBVERBS (sizeof(subverbs) / sizeof(subverbs[0]))

void ctl_relay_usage(FILE *out)
{
    fprintf(
        out,
        "usage: smarthostctl [-c FILE] relay add-domain DOMAIN HOST [PORT] "
        "[--implicit-tls|--starttls] [--probe]\n"
        "       smarthostctl [-c FILE] relay add-auth DOMAIN USER [--password-stdin] [--probe]\n"
        "       smarthostctl [-c FILE] relay exclude-domain DOMAIN\n"
        "       smarthostctl [-c FILE] relay del-domain DOMAIN\n"
        "       smarthostctl [-c FILE] relay default HOST [PORT] [--implicit-tls|--starttls] "
        "[--probe]\n"
        "       smarthostctl [-c FILE] relay default-auth USER [--password-stdin] [--probe]\n"
        "       smarthostctl [-c FILE] relay set-tls RELAY|DOMAIN LEVEL\n"
        "       smarthostctl [-c FILE] relay list\n"
        "  --probe [--ca-file FILE] [--postfix-dir DIR]: save only when `probe` passes on the new\n"
        "    relay\n"
        "  HOST is a name, an IPv4 address or [IPv6]; the port is its own argument;\n"
        "  port 465 means implicit TLS (RFC 8314) unless --starttls says otherwise;\n"
        "  DOMAIN may be user@domain: credentials and a relay for one address\n");
}

static void print_relay(const struct sh_relay *r, const struct sh_cred *cred)
{
    char secret[CTL_SECRET_MAX];

    printf("%s (relay %s, %s:%d) tls=%s%s", r->nexthops, r->name, r->origin.file, r->origin.line,
           sh_tls_level_name(r->tls), r->implicit_tls ? " implicit" : "");
    if (cred)
        printf(" user=%s password=(%s)", cred->user, ctl_secret_describe(cred, secret));
    printf("\n");
}

static int relay_list(const struct ctl_ctx *ctx)
{
    struct sh_snapshot *s = ctl_load(ctx->config_path);

    if (s == NULL)
        return CTL_FAIL;
    printf("default: ");
    if (s->default_relay)
        print_relay(s->default_relay, s->default_relay->cred);
    else
        printf("none (unmatched senders go direct)\n");
    for (size_t i = 0; i < s->nrules; i++) {
        const struct sh_rule *r = &s->rules[i];
        struct sh_decision d;

        printf("%s: ", r->key);
        sh_resolve_sender(s, r->key, strlen(r->key), &d);
        if (d.relay)
            print_relay(d.relay, d.cred);
        else if (r->cred)
            printf("direct (%s:%d) user=%s never sent\n", r->origin.file, r->origin.line,
                   r->cred->user);
        else
            printf("direct (%s:%d)\n", r->origin.file, r->origin.line);
    }
    sh_snapshot_free(s);
    return CTL_OK;
}

/* --probe: the edited relay, as the validated snapshot has it, must pass a probe. */
struct probe_ctx {
    char sender[SH_MAX_KEY + 16]; /* whose route to probe; empty: the default relay */
    struct ctl_probe_opts opts;
};

static bool probe_check(const struct sh_snapshot *s, void *ctx)
{
    const struct probe_ctx *p = ctx;
    const struct sh_relay *r = s->default_relay;
    const struct sh_cred *cred = r ? r->cred : NULL;
    struct sh_decision d;

    if (p->sender[0] && sh_resolve_sender(s, p->sender, strlen(p->sender), &d) == SH_FOUND) {
        r = d.relay;
        cred = d.cred;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("probe     relay %s %s (before saving)\n", r ? r->name : "none", r ? r->nexthop : "?");
    return r && ctl_probe_relay(r, cred, &p->opts);
}

/* DOMAIN, @DOMAIN or user@domain. */
static bool pattern_valid(const char *in)
{
    char d[SH_MAX_HOST + 1], key[SH_MAX_KEY + 1];
    enum sh_rule_kind kind;
    const char *why;

    if (strchr(in, '@') == NULL || in[0] == '@')
        return ctl_norm_domain(in, d);
    if (!sh_sender_pattern(in, key, &kind, &why) || kind != SH_RULE_ADDRESS)
        return ctl_bad("sender", in, "write a domain or user@domain");
    return true;
}

/* The arguments of VERB A[1..N-1], checked before anything is opened: a malformed
 * one is a usage error. Fills HOST with the canonical relay host when there is one. */
static bool args_valid(const char *verb, char **a, int n, char *host)
{
    int port;

    host[0] = 0;
    if (strcmp(verb, "add-domain") == 0)
        return pattern_valid(a[1]) && ctl_parse_host(a[2], host) &&
               ctl_parse_port(n == 4 ? a[3] : NULL, &port);
    if (strcmp(verb, "default") == 0)
        return ctl_parse_host(a[1], host) && ctl_parse_port(n == 3 ? a[2] : NULL, &port);
    if (strcmp(verb, "add-auth") == 0)
        return pattern_valid(a[1]) && ctl_user_valid(a[2]);
    if (strcmp(verb, "default-auth") == 0)
        return ctl_user_valid(a[1]);
    if (strcmp(verb, "exclude-domain") == 0 || strcmp(verb, "del-domain") == 0)
        return pattern_valid(a[1]);
    return true; /* set-tls: a relay name or a domain, checked against the file */
}

/* Whose route VERB edits (for --probe and the resolution warning): a sender of the
 * domain (or the address), or "" for the default relay. */
static bool edited_route(const char *verb, char **a, char *sender, size_t cap)
{
    if (strcmp(verb, "default") == 0 || strcmp(verb, "default-auth") == 0) {
        sender[0] = 0;
        return true;
    }
    if (strcmp(verb, "add-domain") == 0 || strcmp(verb, "add-auth") == 0) {
        if (strchr(a[1], '@') && a[1][0] != '@')
            snprintf(sender, cap, "%s", a[1]);
        else
            snprintf(sender, cap, "postmaster@%s", a[1][0] == '@' ? a[1] + 1 : a[1]);
        return true;
    }
    return false;
}

static bool edit(struct ctl_managed *m, const char *verb, char **a, int n, bool from_stdin,
                 int tls_mode)
{
    char pw[SH_VAULT_MAX_SECRET + 2];
    bool ok;

    if (strcmp(verb, "add-domain") == 0)
        return relay_add_domain(m, a[1], a[2], n == 4 ? a[3] : NULL, tls_mode, NULL);
    if (strcmp(verb, "exclude-domain") == 0)
        return relay_exclude_domain(m, a[1], NULL);
    if (strcmp(verb, "del-domain") == 0)
        return relay_del_domain(m, a[1]);
    if (strcmp(verb, "default") == 0)
        return relay_set_default(m, a[1], n == 3 ? a[2] : NULL, tls_mode, NULL);
    if (strcmp(verb, "set-tls") == 0)
        return relay_set_tls(m, a[1], a[2]);
    pw[0] = 0;
    if (strcmp(verb, "add-auth") == 0)
        ok = ctl_read_password(n == 4 ? a[3] : NULL, from_stdin, a[2], pw, sizeof(pw)) &&
             relay_add_auth(m, a[1], a[2], pw, NULL);
    else
        ok = ctl_read_password(n == 3 ? a[2] : NULL, from_stdin, a[1], pw, sizeof(pw)) &&
             relay_default_auth(m, a[1], pw, NULL);
    OPENSSL_cleanse(pw, sizeof(pw));
    return ok;
}

int ctl_relay(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"password-stdin", no_argument, NULL, 'p'},
                                         {"probe", no_argument, NULL, 'P'},
                                         {"ca-file", required_argument, NULL, 'a'},
                                         {"implicit-tls", no_argument, NULL, 'I'},
                                         {"starttls", no_argument, NULL, 'S'},
                                         {"postfix-dir", required_argument, NULL, 'D'},
                                         {0}};
    const char *names[NSUBVERBS + 1];
    struct probe_ctx probe = {.opts = {.postfix_dir = CTL_PROBE_POSTFIX_DIR}};
    bool from_stdin = false, want_probe = false, named;
    int tls_mode = RELAY_TLS_AUTO;
    char host[SH_MAX_HOST + 1];
    const struct subverb *sv = NULL;
    struct ctl_managed m;
    const char *verb;
    char **a;
    int c, n, rc;

    optind = 0; /* glibc: full re-initialisation after main()'s getopt */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'p')
            from_stdin = true;
        else if (c == 'P')
            want_probe = true;
        else if (c == 'a')
            probe.opts.ca_file = optarg;
        else if (c == 'D')
            probe.opts.postfix_dir = optarg;
        else if (c == 'I' || c == 'S') {
            if (tls_mode != RELAY_TLS_AUTO)
                return ctl_usage_err("relay: --implicit-tls and --starttls exclude each other");
            tls_mode = c == 'I' ? RELAY_TLS_IMPLICIT : RELAY_TLS_STARTTLS;
        } else {
            ctl_usage_err("relay: option \"%.64s\" is not known or needs a value",
                          argv[optind - 1]);
            ctl_relay_usage(stderr);
            return CTL_USAGE;
        }
    }
    a = argv + optind;
    n = argc - optind;
    if (n < 1) {
        ctl_relay_usage(stderr);
        return CTL_USAGE;
    }
    verb = a[0];
    for (size_t i = 0; i < NSUBVERBS; i++) {
        names[i] = subverbs[i].name;
        if (strcmp(verb, subverbs[i].name) == 0)
            sv = &subverbs[i];
    }
    names[NSUBVERBS] = NULL;
    if (sv == NULL)
        return ctl_unknown_word("relay verb", verb, names);
    if (n < sv->min || n > sv->max) {
        ctl_usage_err("relay %s: %s arguments", verb, n < sv->min ? "too few" : "too many");
        ctl_relay_usage(stderr);
        return CTL_USAGE;
    }
    if (strcmp(verb, "list") == 0)
        return relay_list(ctx);
    if (!args_valid(verb, a, n, host))
        return CTL_USAGE;
    named = edited_route(verb, a, probe.sender, sizeof(probe.sender));
    if (want_probe && !named)
        return ctl_usage_err("--probe goes with add-domain, add-auth, default, default-auth");
    if (tls_mode != RELAY_TLS_AUTO && strcmp(verb, "add-domain") != 0 &&
        strcmp(verb, "default") != 0)
        return ctl_usage_err("--implicit-tls and --starttls go with add-domain and default");
    if (!ctl_managed_open(&m, ctx)) {
        ctl_managed_close(&m);
        return CTL_FAIL;
    }
    if (!edit(&m, verb, a, n, from_stdin, tls_mode))
        rc = CTL_FAIL;
    else if (want_probe)
        rc = ctl_managed_commit_checked(&m, probe_check, &probe);
    else
        rc = ctl_managed_commit(&m);
    ctl_managed_close(&m);
    if (rc == CTL_OK && host[0] && named) /* saved: now say whether the name resolves */
        ctl_warn_unresolvable(host, strcmp(verb, "add-domain") == 0 ? a[1] : host);
    return rc;
}
