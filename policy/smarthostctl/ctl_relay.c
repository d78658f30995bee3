/* ctl_relay.c - `smarthostctl relay ...`, docker-mailserver's `setup relay` verbs
 * on the managed group:
 *   add-domain D HOST [PORT]  relay "d_<D>" and the rule @D -> it
 *   add-auth D USER [PW]      credentials "d_<D>" (enc:v1:) on that relay; a domain
 *                             without its own relay gets a copy of the default one
 *   exclude-domain D          rule @D -> direct
 *   del-domain D              drop the rule, relay and credentials of D
 *   default HOST [PORT]       relay "default", made the default relay
 *   default-auth USER [PW]    credentials of the default relay
 *   set-tls RELAY|D LEVEL     tls level of a managed relay
 *   list                      every rule, relay and user; of a password only where
 *                             it lives and a fingerprint */
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
        "usage: smarthostctl [-c FILE] relay add-domain DOMAIN HOST [PORT] [--probe]\n"
        "       smarthostctl [-c FILE] relay add-auth DOMAIN USER [--password-stdin] [--probe]\n"
        "       smarthostctl [-c FILE] relay exclude-domain DOMAIN\n"
        "       smarthostctl [-c FILE] relay del-domain DOMAIN\n"
        "       smarthostctl [-c FILE] relay default HOST [PORT] [--probe]\n"
        "       smarthostctl [-c FILE] relay default-auth USER [--password-stdin] [--probe]\n"
        "       smarthostctl [-c FILE] relay set-tls RELAY|DOMAIN LEVEL\n"
        "       smarthostctl [-c FILE] relay list\n"
        "  --probe [--ca-file FILE]: save only when `probe` passes on the new relay\n"
        "  HOST is a name, an IPv4 address or [IPv6]; the port is its own argument\n");
}

static void print_relay(const struct sh_relay *r)
{
    char secret[CTL_SECRET_MAX];

    printf("%s (relay %s, %s:%d) tls=%s", r->nexthops, r->name, r->origin.file, r->origin.line,
           sh_tls_level_name(r->tls));
    if (r->cred)
        printf(" user=%s password=(%s)", r->cred->user, ctl_secret_describe(r->cred, secret));
    printf("\n");
}

static int relay_list(const struct ctl_ctx *ctx)
{
    struct sh_snapshot *s = ctl_load(ctx->config_path);

    if (s == NULL)
        return CTL_FAIL;
    printf("default: ");
    if (s->default_relay)
        print_relay(s->default_relay);
    else
        printf("none (unmatched senders go direct)\n");
    for (size_t i = 0; i < s->nrules; i++) {
        printf("%s: ", s->rules[i].key);
        if (s->rules[i].relay)
            print_relay(s->rules[i].relay);
        else
            printf("direct (%s:%d)\n", s->rules[i].origin.file, s->rules[i].origin.line);
    }
    sh_snapshot_free(s);
    return CTL_OK;
}

/* --probe: the edited relay, as the validated snapshot has it, must pass a probe. */
struct probe_ctx {
    char name[CTL_RELAY_NAME_MAX];
    const char *ca_file;
};

static bool probe_check(const struct sh_snapshot *s, void *ctx)
{
    const struct probe_ctx *p = ctx;
    const struct sh_relay *r = sh_snapshot_relay(s, p->name);

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("probe     relay %s %s (before saving)\n", p->name, r ? r->nexthop : "?");
    return r && ctl_probe_relay(r, p->ca_file);
}

/* The arguments of VERB A[1..N-1], checked before anything is opened: a malformed
 * one is a usage error. Fills HOST with the canonical relay host when there is one. */
static bool args_valid(const char *verb, char **a, int n, char *host)
{
    char d[SH_MAX_HOST + 1];
    int port;

    host[0] = 0;
    if (strcmp(verb, "add-domain") == 0)
        return ctl_norm_domain(a[1], d) && ctl_parse_host(a[2], host) &&
               ctl_parse_port(n == 4 ? a[3] : NULL, &port);
    if (strcmp(verb, "default") == 0)
        return ctl_parse_host(a[1], host) && ctl_parse_port(n == 3 ? a[2] : NULL, &port);
    if (strcmp(verb, "add-auth") == 0)
        return ctl_norm_domain(a[1], d) && ctl_user_valid(a[2]);
    if (strcmp(verb, "default-auth") == 0)
        return ctl_user_valid(a[1]);
    if (strcmp(verb, "exclude-domain") == 0 || strcmp(verb, "del-domain") == 0)
        return ctl_norm_domain(a[1], d);
    return true; /* set-tls: a relay name or a domain, checked against the file */
}

/* The relay VERB edits, by name (for --probe and the resolution warning). */
static bool edited_relay(const char *verb, char **a, char *name)
{
    char d[SH_MAX_HOST + 1];

    if (strcmp(verb, "default") == 0 || strcmp(verb, "default-auth") == 0) {
        snprintf(name, CTL_RELAY_NAME_MAX, "default");
        return true;
    }
    if ((strcmp(verb, "add-domain") == 0 || strcmp(verb, "add-auth") == 0) &&
        ctl_norm_domain(a[1], d)) {
        ctl_domain_relay_name(d, name);
        return true;
    }
    return false;
}

static bool edit(struct ctl_managed *m, const char *verb, char **a, int n, bool from_stdin)
{
    char pw[SH_VAULT_MAX_SECRET + 2];
    bool ok;

    if (strcmp(verb, "add-domain") == 0)
        return relay_add_domain(m, a[1], a[2], n == 4 ? a[3] : NULL);
    if (strcmp(verb, "exclude-domain") == 0)
        return relay_exclude_domain(m, a[1]);
    if (strcmp(verb, "del-domain") == 0)
        return relay_del_domain(m, a[1]);
    if (strcmp(verb, "default") == 0)
        return relay_set_default(m, a[1], n == 3 ? a[2] : NULL);
    if (strcmp(verb, "set-tls") == 0)
        return relay_set_tls(m, a[1], a[2]);
    pw[0] = 0;
    if (strcmp(verb, "add-auth") == 0)
        ok = ctl_read_password(n == 4 ? a[3] : NULL, from_stdin, a[2], pw, sizeof(pw)) &&
             relay_add_auth(m, a[1], a[2], pw);
    else
        ok = ctl_read_password(n == 3 ? a[2] : NULL, from_stdin, a[1], pw, sizeof(pw)) &&
             relay_default_auth(m, a[1], pw);
    OPENSSL_cleanse(pw, sizeof(pw));
    return ok;
}

int ctl_relay(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"password-stdin", no_argument, NULL, 'p'},
                                         {"probe", no_argument, NULL, 'P'},
                                         {"ca-file", required_argument, NULL, 'a'},
                                         {0}};
    const char *names[NSUBVERBS + 1];
    struct probe_ctx probe = {.ca_file = NULL};
    bool from_stdin = false, want_probe = false, named;
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
            probe.ca_file = optarg;
        else {
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
    named = edited_relay(verb, a, probe.name);
    if (want_probe && !named)
        return ctl_usage_err("--probe goes with add-domain, add-auth, default, default-auth");
    if (!ctl_managed_open(&m, ctx)) {
        ctl_managed_close(&m);
        return CTL_FAIL;
    }
    if (!edit(&m, verb, a, n, from_stdin))
        rc = CTL_FAIL;
    else if (want_probe)
        rc = ctl_managed_commit_checked(&m, probe_check, &probe);
    else
        rc = ctl_managed_commit(&m);
    ctl_managed_close(&m);
    if (rc == CTL_OK && host[0] && named) /* saved: now say whether the name resolves */
        ctl_warn_unresolvable(host, probe.name);
    return rc;
}
