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
 *   list                      every rule, relay and user, passwords masked */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"
#include "ctl.h"
#include "ctl_relay.h"
#include "hostaddr.h"
#include "resolve.h"
#include "snapshot.h"
#include "vault.h"

#define MAX_USER 256
#define NAME_MAX_LEN 300

static bool bad(const char *field, const char *value, const char *why)
{
    fprintf(stderr, "smarthostctl: %s \"%.80s\": %s\n", field, value, why);
    return false;
}

/* "@Example.COM" or "example.com" -> "example.com" */
static bool norm_domain(const char *in, char *out)
{
    size_t len;

    if (*in == '@')
        in++;
    len = strlen(in);
    if (len > SH_MAX_HOST || !sh_domain_valid(in, len))
        return bad("domain", in, "not a valid domain name");
    for (size_t i = 0; i <= len; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    return true;
}

/* libconfig setting names allow no dots: "d_" + domain with '.' -> '_' (domains have no '_'). */
static void domain_relay_name(const char *domain, char *out)
{
    size_t i;
    out[0] = 'd', out[1] = '_';
    for (i = 0; domain[i]; i++)
        out[i + 2] = domain[i] == '.' ? '_' : domain[i];
    out[i + 2] = 0;
}

static bool parse_host(const char *in, char *canon)
{
    char buf[SH_MAX_HOST + 3];
    enum sh_host_kind kind;
    const char *why;
    size_t len = strlen(in);

    if (len > SH_MAX_HOST + 2)
        return bad("host", in, "too long");
    if (in[0] == '[' && len > 2 && in[len - 1] == ']') { /* Postfix's [host]: no MX lookup */
        snprintf(buf, sizeof(buf), "%.*s", (int)(len - 2), in + 1);
        in = buf;
    }
    return sh_host_parse(in, canon, &kind, &why) || bad("host", in, why);
}

static bool parse_port(const char *in, int *port)
{
    char *end;
    long v;

    *port = 25;
    if (in == NULL)
        return true;
    v = strtol(in, &end, 10);
    if (*in == 0 || *end != 0 || v < 1 || v > 65535)
        return bad("port", in, "must be a number from 1 to 65535");
    *port = (int)v;
    return true;
}

static bool user_valid(const char *u)
{
    size_t len = strlen(u);
    if (len == 0 || len > MAX_USER)
        return bad("user", u, "must be 1-256 characters");
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == ':')
            return bad("user", u, "no spaces, control characters or ':'");
    return true;
}

static void set_member(config_setting_t *g, const char *name, int type, const char *s, int i)
{
    config_setting_t *st = config_setting_get_member(g, name);

    if (st && config_setting_type(st) != type) {
        config_setting_remove(g, name);
        st = NULL;
    }
    if (st == NULL)
        st = config_setting_add(g, name, type);
    if (type == CONFIG_TYPE_STRING)
        config_setting_set_string(st, s);
    else
        config_setting_set_int(st, i);
}

static config_setting_t *sub_group(config_setting_t *parent, const char *name)
{
    config_setting_t *g = config_setting_get_member(parent, name);
    if (g && !config_setting_is_group(g)) {
        config_setting_remove(parent, name);
        g = NULL;
    }
    return g ? g : config_setting_add(parent, name, CONFIG_TYPE_GROUP);
}

/* Index of the managed sender rule for KEY, or -1. */
static int find_rule(config_setting_t *senders, const char *key)
{
    for (int i = 0; i < config_setting_length(senders); i++) {
        const char *match = NULL;
        if (config_setting_lookup_string(config_setting_get_elem(senders, (unsigned)i), "match",
                                         &match) &&
            strcmp(match, key) == 0)
            return i;
    }
    return -1;
}

/* The managed rule for sender pattern KEY (user@domain, @domain, <>) -> RELAY. */
static void set_rule_key(struct ctl_managed *m, const char *key, const char *relay)
{
    config_setting_t *senders = ctl_managed_section(m, "senders", CONFIG_TYPE_LIST);
    config_setting_t *g;
    int i;

    if ((i = find_rule(senders, key)) >= 0)
        g = config_setting_get_elem(senders, (unsigned)i);
    else
        g = config_setting_add(senders, NULL, CONFIG_TYPE_GROUP);
    set_member(g, "match", CONFIG_TYPE_STRING, key, 0);
    set_member(g, "relay", CONFIG_TYPE_STRING, relay, 0);
}

static void set_rule(struct ctl_managed *m, const char *domain, const char *relay)
{
    char key[SH_MAX_HOST + 2];

    snprintf(key, sizeof(key), "@%s", domain);
    set_rule_key(m, key, relay);
}

static void drop_relay(struct ctl_managed *m, const char *name)
{
    config_setting_t *relays = config_setting_get_member(m->root, "relays");
    config_setting_t *creds = config_setting_get_member(m->root, "credentials");

    if (relays && config_setting_get_member(relays, name))
        config_setting_remove(relays, name);
    if (creds && config_setting_get_member(creds, name))
        config_setting_remove(creds, name);
}

static config_setting_t *put_relay(struct ctl_managed *m, const char *name, const char *canon,
                                   int port)
{
    config_setting_t *r = sub_group(ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), name);

    set_member(r, "host", CONFIG_TYPE_STRING, canon, 0);
    set_member(r, "port", CONFIG_TYPE_INT, NULL, port);
    return r;
}

bool relay_add_domain(struct ctl_managed *m, const char *domain, const char *host,
                      const char *port)
{
    char d[SH_MAX_HOST + 1], name[NAME_MAX_LEN], canon[SH_MAX_HOST + 1];
    int p;

    if (!norm_domain(domain, d) || !parse_host(host, canon) || !parse_port(port, &p))
        return false;
    domain_relay_name(d, name);
    put_relay(m, name, canon, p);
    set_rule(m, d, name);
    return true;
}

static bool put_credentials(struct ctl_managed *m, config_setting_t *relay, const char *name,
                            const char *user, const char *password)
{
    unsigned char key[SH_VAULT_KEY_LEN];
    struct sh_error err;
    config_setting_t *c;
    char *enc;

    if (!user_valid(user))
        return false;
    if (!sh_vault_key_read(m->vault_key, key, &err)) {
        fprintf(stderr, "smarthostctl: %s (create one with: smarthostctl key init)\n", err.text);
        return false;
    }
    enc = sh_vault_encrypt(key, name, password);
    OPENSSL_cleanse(key, sizeof(key));
    if (enc == NULL)
        return bad("password", "(hidden)", "must be 1-1024 characters");
    c = sub_group(ctl_managed_section(m, "credentials", CONFIG_TYPE_GROUP), name);
    set_member(c, "user", CONFIG_TYPE_STRING, user, 0);
    set_member(c, "password", CONFIG_TYPE_STRING, enc, 0);
    free(enc);
    set_member(relay, "credentials", CONFIG_TYPE_STRING, name, 0);
    return true;
}

bool relay_add_auth(struct ctl_managed *m, const char *domain, const char *user,
                    const char *password)
{
    char d[SH_MAX_HOST + 1], name[NAME_MAX_LEN];
    config_setting_t *relays = ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), *r;

    if (!norm_domain(domain, d))
        return false;
    domain_relay_name(d, name);
    if ((r = config_setting_get_member(relays, name)) == NULL) {
        /* No relay of its own: the domain authenticates at the default relay. */
        struct sh_error err;
        struct sh_snapshot *s = sh_config_load(m->config, &err);
        if (s == NULL || s->default_relay == NULL) {
            fprintf(stderr, "smarthostctl: domain %s has no relay and there is no default relay: "
                            "run relay add-domain or relay default first\n", d);
            sh_snapshot_free(s);
            return false;
        }
        r = put_relay(m, name, s->default_relay->host, (int)s->default_relay->port);
        set_rule(m, d, name);
        sh_snapshot_free(s);
    }
    return put_credentials(m, r, name, user, password);
}

int relay_auth_nexthop(struct ctl_managed *m, const char *host, int port, const char *user,
                       const char *password)
{
    config_setting_t *relays = ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP);
    char canon[SH_MAX_HOST + 1];
    int n = 0;

    if (!parse_host(host, canon))
        return -1;
    for (int i = 0; i < config_setting_length(relays); i++) {
        config_setting_t *r = config_setting_get_elem(relays, (unsigned)i);
        const char *h = NULL;
        int p = 25;
        config_setting_lookup_string(r, "host", &h);
        config_setting_lookup_int(r, "port", &p);
        if (h && strcmp(h, canon) == 0 && p == port &&
            config_setting_get_member(r, "credentials") == NULL) {
            if (!put_credentials(m, r, config_setting_name(r), user, password))
                return -1;
            n++;
        }
    }
    return n;
}

bool relay_exclude_domain(struct ctl_managed *m, const char *domain)
{
    char d[SH_MAX_HOST + 1], name[NAME_MAX_LEN];

    if (!norm_domain(domain, d))
        return false;
    domain_relay_name(d, name);
    drop_relay(m, name);
    set_rule(m, d, "direct");
    return true;
}

bool relay_del_domain(struct ctl_managed *m, const char *domain)
{
    config_setting_t *senders = ctl_managed_section(m, "senders", CONFIG_TYPE_LIST);
    char d[SH_MAX_HOST + 1], name[NAME_MAX_LEN], key[SH_MAX_HOST + 2];
    int i;

    if (!norm_domain(domain, d))
        return false;
    snprintf(key, sizeof(key), "@%s", d);
    if ((i = find_rule(senders, key)) < 0) {
        fprintf(stderr, "smarthostctl: domain %s has no rule in %s\n", d, m->path);
        return false;
    }
    config_setting_remove_elem(senders, (unsigned)i);
    domain_relay_name(d, name);
    drop_relay(m, name);
    return true;
}

bool relay_set_default(struct ctl_managed *m, const char *host, const char *port)
{
    char canon[SH_MAX_HOST + 1];
    int p;

    if (!parse_host(host, canon) || !parse_port(port, &p))
        return false;
    put_relay(m, "default", canon, p);
    set_member(m->root, "default_relay", CONFIG_TYPE_STRING, "default", 0);
    return true;
}

bool relay_default_auth(struct ctl_managed *m, const char *user, const char *password)
{
    config_setting_t *relays = ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP);
    config_setting_t *r = config_setting_get_member(relays, "default");

    if (r == NULL) {
        fprintf(stderr, "smarthostctl: no managed default relay: run relay default HOST first\n");
        return false;
    }
    return put_credentials(m, r, "default", user, password);
}

bool relay_define(struct ctl_managed *m, const char *name, const char *host, int port,
                  const char *level, const char *match, const char *user, const char *password)
{
    char canon[SH_MAX_HOST + 1], buf[1024];
    config_setting_t *r, *list;
    const char *sep = level && strcmp(level, "fingerprint") == 0 ? "|" : ":";

    if (!parse_host(host, canon))
        return false;
    if (port < 1 || port > 65535)
        return bad("port", host, "must be a number from 1 to 65535");
    r = put_relay(m, name, canon, port);
    if (level)
        set_member(r, "tls", CONFIG_TYPE_STRING, level, 0);
    if (match && *match) {
        if (strlen(match) >= sizeof(buf))
            return bad("tls match", match, "too long");
        snprintf(buf, sizeof(buf), "%s", match);
        if (config_setting_get_member(r, "tls_match"))
            config_setting_remove(r, "tls_match");
        list = config_setting_add(r, "tls_match", CONFIG_TYPE_ARRAY);
        for (char *save = NULL, *v = strtok_r(buf, sep, &save); v; v = strtok_r(NULL, sep, &save))
            config_setting_set_string(config_setting_add(list, NULL, CONFIG_TYPE_STRING), v);
    }
    return user == NULL || put_credentials(m, r, name, user, password);
}

bool relay_rule(struct ctl_managed *m, const char *key, const char *relay)
{
    char norm[SH_MAX_KEY + 1];
    enum sh_rule_kind kind;
    const char *why;

    if (!sh_sender_pattern(key, norm, &kind, &why))
        return bad("sender", key, why);
    set_rule_key(m, norm, relay);
    return true;
}

void relay_default_name(struct ctl_managed *m, const char *name)
{
    set_member(m->root, "default_relay", CONFIG_TYPE_STRING, name, 0);
}

bool relay_transport(struct ctl_managed *m, const char *key, const char *transport)
{
    config_setting_t *g =
        config_setting_add(ctl_managed_section(m, "transports", CONFIG_TYPE_LIST), NULL,
                           CONFIG_TYPE_GROUP);

    set_member(g, "domain", CONFIG_TYPE_STRING, key, 0);
    set_member(g, "transport", CONFIG_TYPE_STRING, transport, 0);
    return true;
}

bool relay_managed_empty(struct ctl_managed *m)
{
    static const char *const parts[] = {"credentials", "relays", "senders", "default_relay",
                                        "transports"};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        config_setting_t *s = config_setting_get_member(m->root, parts[i]);
        if (s && (!config_setting_is_aggregate(s) || config_setting_length(s) > 0))
            return false;
    }
    return true;
}

static bool set_tls(struct ctl_managed *m, const char *relay, const char *level)
{
    static const char *const levels[] = {"none", "may", "encrypt", "verify", "secure", NULL};
    config_setting_t *relays = ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), *r;
    char d[SH_MAX_HOST + 1], name[NAME_MAX_LEN];
    const char *const *l;

    for (l = levels; *l && strcmp(*l, level) != 0; l++)
        ;
    if (*l == NULL)
        return bad("level", level, "use none, may, encrypt, verify or secure");
    if ((r = config_setting_get_member(relays, relay)) == NULL && strchr(relay, '.') &&
        sh_domain_valid(relay[0] == '@' ? relay + 1 : relay, strlen(relay) - (relay[0] == '@'))) {
        norm_domain(relay, d);
        domain_relay_name(d, name);
        r = config_setting_get_member(relays, name);
    }
    if (r == NULL)
        return bad("relay", relay,
                   "no such relay in the managed file (relays of your own file: edit them there)");
    set_member(r, "tls", CONFIG_TYPE_STRING, level, 0);
    return true;
}

/* ---- passwords: never from argv if avoidable ---- */

static bool read_password(const char *arg, bool from_stdin, const char *user, char *buf,
                          size_t cap)
{
    struct termios old, quiet;
    FILE *in = stdin;
    bool tty = false;
    size_t len;

    if (arg) {
        fprintf(stderr, "warning: a password on the command line is visible in ps and shell "
                        "history; prefer --password-stdin or the prompt\n");
        if (strlen(arg) >= cap)
            return bad("password", "(hidden)", "longer than 1024 characters");
        snprintf(buf, cap, "%s", arg);
        return true;
    }
    if (!from_stdin) {
        if (!isatty(STDIN_FILENO)) {
            fprintf(stderr, "smarthostctl: no password: give --password-stdin or run on a tty\n");
            return false;
        }
        tty = tcgetattr(STDIN_FILENO, &old) == 0;
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        fprintf(stderr, "Password for %s: ", user);
        if (tty)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    if (fgets(buf, (int)cap, in) == NULL)
        buf[0] = 0;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    len = strlen(buf);
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = 0;
    else if (len + 1 >= cap)
        return bad("password", "(hidden)", "longer than 1024 characters");
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = 0;
    if (len == 0)
        return bad("password", "(empty)", "user and password go together: give both");
    return true;
}

/* ---- list ---- */

static void mask(const char *secret, char *out, size_t cap)
{
    size_t n = strlen(secret) / 2;
    snprintf(out, cap, "%.*s****", (int)(n > 4 ? 4 : n), secret);
}

static void print_relay(const struct sh_relay *r)
{
    char masked[16];

    printf("%s (relay %s, %s:%d) tls=%s", r->nexthops, r->name, r->origin.file, r->origin.line,
           sh_tls_level_name(r->tls));
    if (r->cred) {
        mask(r->cred->password, masked, sizeof(masked));
        printf(" user=%s password=%s", r->cred->user, masked);
    }
    printf("\n");
}

static int relay_list(const struct ctl_ctx *ctx)
{
    struct sh_error err;
    struct sh_snapshot *s = sh_config_load(ctx->config_path, &err);

    if (s == NULL) {
        fprintf(stderr, "%s\n", err.text);
        return CTL_FAIL;
    }
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
    char name[NAME_MAX_LEN];
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

static int usage(void)
{
    fprintf(stderr,
            "usage: smarthostctl [-c FILE] relay add-domain DOMAIN HOST [PORT] [--probe]\n"
            "       smarthostctl [-c FILE] relay add-auth DOMAIN USER [--password-stdin] [--probe]\n"
            "       smarthostctl [-c FILE] relay exclude-domain DOMAIN\n"
            "       smarthostctl [-c FILE] relay del-domain DOMAIN\n"
            "       smarthostctl [-c FILE] relay default HOST [PORT] [--probe]\n"
            "       smarthostctl [-c FILE] relay default-auth USER [--password-stdin] [--probe]\n"
            "  --probe [--ca-file FILE]: save only when `probe` passes on the new relay\n"
            "       smarthostctl [-c FILE] relay set-tls RELAY|DOMAIN LEVEL\n"
            "       smarthostctl [-c FILE] relay list\n");
    return CTL_USAGE;
}

int ctl_relay(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"password-stdin", no_argument, NULL, 'p'},
                                         {"probe", no_argument, NULL, 'P'},
                                         {"ca-file", required_argument, NULL, 'a'},
                                         {0}};
    struct probe_ctx probe = {.ca_file = NULL};
    bool from_stdin = false, ok = false, want_probe = false;
    char pw[SH_VAULT_MAX_SECRET + 2];
    struct ctl_managed m;
    const char *verb;
    char **a;
    int c, n, rc;

    optind = 0; /* glibc: full re-initialisation after main()'s getopt */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'p')
            from_stdin = true;
        else if (c == 'P')
            want_probe = true;
        else if (c == 'a')
            probe.ca_file = optarg;
        else
            return usage();
    }
    a = argv + optind;
    n = argc - optind;
    if (n < 1)
        return usage();
    verb = a[0];
    if (strcmp(verb, "list") == 0)
        return n == 1 ? relay_list(ctx) : usage();
    if (!((strcmp(verb, "add-domain") == 0 && (n == 3 || n == 4)) ||
          (strcmp(verb, "add-auth") == 0 && (n == 3 || n == 4)) ||
          (strcmp(verb, "default-auth") == 0 && (n == 2 || n == 3)) ||
          (strcmp(verb, "exclude-domain") == 0 && n == 2) ||
          (strcmp(verb, "del-domain") == 0 && n == 2) ||
          (strcmp(verb, "default") == 0 && (n == 2 || n == 3)) ||
          (strcmp(verb, "set-tls") == 0 && n == 3)))
        return usage();
    if (want_probe) { /* the relay the verb edits */
        char d[SH_MAX_HOST + 1];
        if (strcmp(verb, "default") == 0 || strcmp(verb, "default-auth") == 0)
            snprintf(probe.name, sizeof(probe.name), "default");
        else if (strcmp(verb, "add-domain") == 0 || strcmp(verb, "add-auth") == 0) {
            if (!norm_domain(a[1], d))
                return CTL_FAIL;
            domain_relay_name(d, probe.name);
        } else {
            fprintf(stderr, "smarthostctl: --probe goes with add-domain, add-auth, default, "
                            "default-auth\n");
            return CTL_USAGE;
        }
    }
    if (!ctl_managed_open(&m, ctx)) {
        ctl_managed_close(&m);
        return CTL_FAIL;
    }
    if (strcmp(verb, "add-domain") == 0)
        ok = relay_add_domain(&m, a[1], a[2], n == 4 ? a[3] : NULL);
    else if (strcmp(verb, "add-auth") == 0)
        ok = user_valid(a[2]) && read_password(n == 4 ? a[3] : NULL, from_stdin, a[2], pw, sizeof(pw)) &&
             relay_add_auth(&m, a[1], a[2], pw);
    else if (strcmp(verb, "default-auth") == 0)
        ok = user_valid(a[1]) && read_password(n == 3 ? a[2] : NULL, from_stdin, a[1], pw, sizeof(pw)) &&
             relay_default_auth(&m, a[1], pw);
    else if (strcmp(verb, "exclude-domain") == 0)
        ok = relay_exclude_domain(&m, a[1]);
    else if (strcmp(verb, "del-domain") == 0)
        ok = relay_del_domain(&m, a[1]);
    else if (strcmp(verb, "default") == 0)
        ok = relay_set_default(&m, a[1], n == 3 ? a[2] : NULL);
    else
        ok = set_tls(&m, a[1], a[2]);
    OPENSSL_cleanse(pw, sizeof(pw));
    rc = !ok ? CTL_FAIL
         : want_probe ? ctl_managed_commit_checked(&m, probe_check, &probe)
                      : ctl_managed_commit(&m);
    ctl_managed_close(&m);
    return rc;
}
