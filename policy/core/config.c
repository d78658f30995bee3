/* config.c - load one libconfig file into a complete, validated snapshot.
 *
 * Order matters: credentials, relays, the environment's relay, then rules that
 * point at relays. Any error frees everything built so far; the caller keeps
 * the snapshot it had (postsrsd setup_state, Postfix "fatal on bad config").
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_int.h"
#include "hostaddr.h"
#include "milter_conf.h"
#include "policy_conf.h"
#include "resolve.h"
#include "strmap.h"
#include "vault.h"

#define DEFAULT_IMPLICIT_TLS_TRANSPORT "smarthost-smtps"
#define MAX_TRANSPORT                  256

/* "relays.mailgun.port", "senders.[3].match" */
static void conf_path(const config_setting_t *st, char *buf, size_t cap)
{
    const config_setting_t *chain[16];
    size_t n = 0, len = 0;

    for (; st && config_setting_parent(st) && n < 16; st = config_setting_parent(st))
        chain[n++] = st;
    buf[0] = 0;
    while (n-- > 0 && len < cap) {
        const char *name = config_setting_name(chain[n]);
        int w = name ? snprintf(buf + len, cap - len, "%s%s", len ? "." : "", name)
                     : snprintf(buf + len, cap - len, "[%d]", config_setting_index(chain[n]));
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

static int conf_vformat(char *buf, size_t cap, const config_setting_t *st, const char *fmt,
                        va_list ap) SH_PRINTF(4, 0);
static int conf_vformat(char *buf, size_t cap, const config_setting_t *st, const char *fmt,
                        va_list ap)
{
    char path[256];
    const char *file = st ? config_setting_source_file(st) : NULL;
    int n;

    if (st == NULL)
        n = snprintf(buf, cap, "environment: ");
    else {
        conf_path(st, path, sizeof(path));
        n = snprintf(buf, cap, "%s:%d: %s%s", file ? file : "(config)",
                     config_setting_source_line(st), path, path[0] ? ": " : "");
    }
    if (n >= 0 && (size_t)n < cap)
        vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    return n;
}

bool conf_fail(struct sh_error *err, const config_setting_t *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conf_vformat(err->text, sizeof(err->text), st, fmt, ap);
    va_end(ap);
    return false;
}

static void snapshot_add_warning(struct sh_snapshot *s, const char *text)
{
    s->warnings = xreallocarray(s->warnings, s->nwarnings + 1, sizeof(*s->warnings));
    s->warnings[s->nwarnings++] = xstrdup(text);
}

void conf_warn(struct sh_snapshot *s, const config_setting_t *st, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    conf_vformat(text, sizeof(text), st, fmt, ap);
    va_end(ap);
    snapshot_add_warning(s, text);
}

void snapshot_warn(struct sh_snapshot *s, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    snapshot_add_warning(s, text);
}

struct sh_origin conf_origin(struct sh_snapshot *s, const config_setting_t *st)
{
    const char *file = config_setting_source_file(st);
    struct sh_origin o = {.file = "(config)", .line = config_setting_source_line(st)};

    if (file == NULL)
        return o;
    for (size_t i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i], file) == 0) {
            o.file = s->files[i];
            return o;
        }
    s->files = xreallocarray(s->files, s->nfiles + 1, sizeof(*s->files));
    o.file = s->files[s->nfiles++] = xstrdup(file);
    return o;
}

bool conf_only(const config_setting_t *group, const char *const *allowed, struct sh_error *err)
{
    int n = config_setting_length(group);

    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(m);
        const char *const *a;

        for (a = allowed; *a && strcmp(*a, name) != 0; a++)
            ;
        if (*a == NULL)
            return conf_fail(err, m, "unknown setting");
    }
    return true;
}

bool conf_string(const config_setting_t *group, const char *name, bool required, const char **out,
                 struct sh_error *err)
{
    const config_setting_t *st = config_setting_get_member(group, name);

    if (st == NULL) {
        if (required)
            return conf_fail(err, group, "missing required setting '%s'", name);
        return true;
    }
    if (config_setting_type(st) != CONFIG_TYPE_STRING)
        return conf_fail(err, st, "must be a string in double quotes");
    *out = config_setting_get_string(st);
    return true;
}

bool conf_int(const config_setting_t *group, const char *name, long lo, long hi, int *out,
              struct sh_error *err)
{
    const config_setting_t *st = config_setting_get_member(group, name);
    long long v;

    if (st == NULL)
        return true;
    if (config_setting_type(st) == CONFIG_TYPE_INT)
        v = config_setting_get_int(st);
    else if (config_setting_type(st) == CONFIG_TYPE_INT64)
        v = config_setting_get_int64(st);
    else
        return conf_fail(err, st, "must be a whole number");
    if (v < lo || v > hi)
        return conf_fail(err, st, "%lld is out of range %ld-%ld", v, lo, hi);
    *out = (int)v;
    return true;
}

bool conf_bool(const config_setting_t *group, const char *name, bool *out, struct sh_error *err)
{
    const config_setting_t *st = config_setting_get_member(group, name);

    if (st == NULL)
        return true;
    if (config_setting_type(st) != CONFIG_TYPE_BOOL)
        return conf_fail(err, st, "must be true or false");
    *out = config_setting_get_bool(st);
    return true;
}

struct strings_ctx {
    struct sh_error *err;
};

bool conf_strings(const config_setting_t *group, const char *name, bool required,
                  bool (*fn)(void *ctx, const config_setting_t *st, const char *value), void *ctx)
{
    struct strings_ctx *sc = ctx; /* every ctx starts with the error pointer */
    const config_setting_t *st = config_setting_get_member(group, name);
    int type;

    if (st == NULL) {
        if (required)
            return conf_fail(sc->err, group, "missing required setting '%s'", name);
        return true;
    }
    type = config_setting_type(st);
    if (type == CONFIG_TYPE_STRING)
        return fn(ctx, st, config_setting_get_string(st));
    if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
        return conf_fail(sc->err, st, "must be a string or a list of strings");
    if (config_setting_length(st) == 0 && required)
        return conf_fail(sc->err, st, "must not be empty");
    for (int i = 0; i < config_setting_length(st); i++) {
        const config_setting_t *e = config_setting_get_elem(st, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return conf_fail(sc->err, e, "must be a string");
        if (!fn(ctx, e, config_setting_get_string(e)))
            return false;
    }
    return true;
}

/* ---- sender rules ---- */

struct rules_ctx {
    struct sh_error *err; /* first: conf_strings() reports through it */
    struct sh_snapshot *s;
    const struct sh_relay *relay;
};

static bool add_rule(void *ctx, const config_setting_t *st, const char *value)
{
    struct rules_ctx *rc = ctx;
    struct sh_snapshot *s = rc->s;
    char key[SH_MAX_KEY + 1];
    enum sh_rule_kind kind;
    const char *why;
    struct sh_rule *r;

    if (!sh_sender_pattern(value, key, &kind, &why))
        return conf_fail(rc->err, st, "\"%.80s\": %s", value, why);
    r = &s->rules[s->nrules];
    r->key = xstrdup(key);
    r->kind = kind;
    r->relay = rc->relay;
    r->origin = conf_origin(s, st);
    if (strmap_put(s->rule_index, key, r) != NULL) {
        const struct sh_rule *old = strmap_get(s->rule_index, key, strlen(key));
        free(r->key);
        return conf_fail(rc->err, st, "\"%s\" already has a rule at %s:%d", key, old->origin.file,
                         old->origin.line);
    }
    s->nrules++;
    return true;
}

static size_t count_matches(const config_setting_t *list)
{
    size_t n = 0;
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *m =
            config_setting_get_member(config_setting_get_elem(list, (unsigned)i), "match");
        n += (m && config_setting_is_aggregate(m)) ? (size_t)config_setting_length(m) : 1;
    }
    return n;
}

/* Room for the rules of both sender lists (the file's and the managed one):
 * rule_index points into s->rules, so it is allocated once. */
static void alloc_rules(struct sh_snapshot *s, const config_setting_t *list,
                        const config_setting_t *managed)
{
    size_t cap = 0;

    if (list && (config_setting_is_list(list) || config_setting_is_array(list)))
        cap += count_matches(list);
    if (managed && (config_setting_is_list(managed) || config_setting_is_array(managed)))
        cap += count_matches(managed);
    s->rules = xcalloc(cap, sizeof(*s->rules));
    s->rule_index = strmap_new(cap);
}

static bool load_senders(struct sh_snapshot *s, const config_setting_t *list, struct sh_error *err)
{
    static const char *const allowed[] = {"match", "relay", NULL};

    if (!config_setting_is_list(list) && !config_setting_is_array(list))
        return conf_fail(err, list, "must be a list: ( { match = ...; relay = ...; }, ... )");
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct rules_ctx rc = {.err = err, .s = s};
        const char *relay = NULL;

        if (!config_setting_is_group(g))
            return conf_fail(err, g, "must be a group { match = ...; relay = ...; }");
        if (!conf_only(g, allowed, err) || !conf_string(g, "relay", true, &relay, err))
            return false;
        if (strcmp(relay, "direct") != 0 && (rc.relay = sh_snapshot_relay(s, relay)) == NULL)
            return conf_fail(err, config_setting_get_member(g, "relay"),
                             "no relay named \"%.64s\" (define it under relays, or use \"direct\")",
                             relay);
        if (!conf_strings(g, "match", true, add_rule, &rc))
            return false;
    }
    return true;
}

/* ---- recipient transports ---- */

static bool transport_valid(const char *t)
{
    const char *colon = strchr(t, ':');

    if (colon == NULL || colon == t || strlen(t) > MAX_TRANSPORT)
        return false;
    for (const char *p = t; p < colon; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
            return false;
    for (const char *p = colon + 1; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Does any sender reach a relay (a default relay, or a rule naming one)? */
static bool relays_in_use(const struct sh_snapshot *s)
{
    if (s->default_relay)
        return true;
    for (size_t i = 0; i < s->nrules; i++)
        if (s->rules[i].relay)
            return true;
    return false;
}

static bool load_transports(struct sh_snapshot *s, const config_setting_t *list,
                            struct sh_error *err)
{
    static const char *const allowed[] = {"domain", "transport", NULL};
    size_t n;

    if (!config_setting_is_list(list) && !config_setting_is_array(list))
        return conf_fail(err, list, "must be a list: ( { domain = ...; transport = ...; }, ... )");
    n = (size_t)config_setting_length(list); /* room made by alloc_transports() */
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *domain = NULL, *transport = NULL, *d;
        char key[SH_MAX_KEY + 1];
        struct sh_transport_rule *t;
        enum sh_rule_kind kind;
        const char *why;

        if (!config_setting_is_group(g))
            return conf_fail(err, g, "must be a group { domain = ...; transport = ...; }");
        if (!conf_only(g, allowed, err) || !conf_string(g, "domain", true, &domain, err) ||
            !conf_string(g, "transport", true, &transport, err))
            return false;
        /* Reuse the sender-key parser: "user@domain" as is, "domain" as "@domain". */
        if (strchr(domain, '@')) {
            if (!sh_sender_pattern(domain, key, &kind, &why) || kind != SH_RULE_ADDRESS)
                return conf_fail(err, config_setting_get_member(g, "domain"),
                                 "\"%.80s\": write domain, .domain or user@domain", domain);
        } else {
            d = domain[0] == '.' ? domain + 1 : domain;
            if (!sh_domain_valid(d, strlen(d)))
                return conf_fail(err, config_setting_get_member(g, "domain"),
                                 "\"%.80s\": invalid domain", domain);
            for (size_t k = 0; k <= strlen(domain); k++)
                key[k] = (char)tolower((unsigned char)domain[k]);
        }
        if (!transport_valid(transport))
            return conf_fail(err, config_setting_get_member(g, "transport"),
                             "\"%.80s\": write transport:nexthop (nexthop may be empty)",
                             transport);
        t = &s->transports[s->ntransports];
        t->key = xstrdup(key);
        t->transport = xstrdup(transport);
        t->origin = conf_origin(s, g);
        /* transport(5): no nexthop means the recipient domain's MX hosts. */
        if (strchr(transport, ':')[1] == 0 && relays_in_use(s))
            conf_warn(s, g,
                      "\"%s\" -> \"%s\": an empty nexthop delivers to the recipient domain's "
                      "MX hosts, bypassing every sender's relay (Postfix transport(5)); "
                      "give the lane a nexthop to keep relaying",
                      key, transport);
        if (strmap_put(s->transport_index, key, t) != NULL) {
            free(t->key);
            free(t->transport);
            return conf_fail(err, g, "\"%s\" has a transport already", key);
        }
        s->ntransports++;
    }
    return true;
}

/* Room for both transport lists (the file's and the managed one): the index points
 * into s->transports, so it is allocated once. */
static void alloc_transports(struct sh_snapshot *s, const config_setting_t *list,
                             const config_setting_t *managed)
{
    size_t cap = 0;

    if (list && config_setting_is_aggregate(list))
        cap += (size_t)config_setting_length(list);
    if (managed && config_setting_is_aggregate(managed))
        cap += (size_t)config_setting_length(managed);
    s->transports = xcalloc(cap ? cap : 1, sizeof(*s->transports));
    s->transport_index = strmap_new(cap);
}

/* ---- top level ---- */

static bool load_scalars(struct sh_snapshot *s, const config_setting_t *root, const char **vault_key,
                         struct sh_error *err)
{
    const char *delim = "+", *transport = DEFAULT_IMPLICIT_TLS_TRANSPORT;

    s->log_lookups = true;
    if (!conf_string(root, "recipient_delimiter", false, &delim, err) ||
        !conf_string(root, "implicit_tls_transport", false, &transport, err) ||
        !conf_string(root, "vault_key", false, vault_key, err) ||
        !conf_bool(root, "log_lookups", &s->log_lookups, err))
        return false;
    if (strlen(delim) >= sizeof(s->delimiters) || strpbrk(delim, "@ \t\r\n"))
        return conf_fail(err, config_setting_get_member(root, "recipient_delimiter"),
                         "at most 15 characters, none of them '@' or white space");
    strcpy(s->delimiters, delim);
    for (const char *p = transport; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_') || p - transport > 63)
            return conf_fail(err, config_setting_get_member(root, "implicit_tls_transport"),
                             "must be a master.cf service name (letters, digits, - and _)");
    if (*transport == 0)
        return conf_fail(err, config_setting_get_member(root, "implicit_tls_transport"),
                         "must not be empty");
    s->implicit_tls_transport = xstrdup(transport);
    return true;
}

static bool load_default_relay(struct sh_snapshot *s, const config_setting_t *root,
                               struct sh_error *err)
{
    const config_setting_t *st = config_setting_get_member(root, "default_relay");
    const char *name = "";

    if (!conf_string(root, "default_relay", false, &name, err))
        return false;
    if (*name == 0 || strcmp(name, "direct") == 0)
        return true;
    if ((s->default_relay = sh_snapshot_relay(s, name)) == NULL)
        return conf_fail(err, st, "no relay named \"%.64s\"", name);
    s->default_origin = conf_origin(s, st);
    return true;
}

static bool load_group(struct sh_snapshot *s, const config_setting_t *root, const char *name,
                       bool (*fn)(struct sh_snapshot *, const config_setting_t *,
                                  struct sh_error *),
                       struct sh_error *err)
{
    const config_setting_t *st = config_setting_get_member(root, name);
    return st == NULL || fn(s, st, err);
}

/* ---- the machine-managed group (smarthostctl relay/import write it to a file
 * the main config @includes). Loaded after the file's own settings; a name
 * defined in both places is an error, never silently overridden. ---- */

static bool managed_check(const config_setting_t *root, const config_setting_t *m,
                          struct sh_error *err)
{
    static const char *const allowed[] = {"credentials", "relays", "senders", "default_relay",
                                          "transports", NULL};

    if (m == NULL)
        return true;
    if (!config_setting_is_group(m))
        return conf_fail(err, m, "must be a group { credentials = ...; relays = ...; ... }");
    if (config_setting_get_member(root, "default_relay") &&
        config_setting_get_member(m, "default_relay"))
        return conf_fail(err, config_setting_get_member(m, "default_relay"),
                         "default_relay is set in the main file too: remove one of them");
    return conf_only(m, allowed, err);
}

static bool load_credentials(struct sh_snapshot *s, const config_setting_t *g,
                             const char *vault_key, struct sh_error *err)
{
    const config_setting_t *st = g ? config_setting_get_member(g, "credentials") : NULL;
    return st == NULL || conf_load_credentials(s, st, vault_key, err);
}

static bool load_root(struct sh_snapshot *s, const config_setting_t *root,
                      const config_setting_t *managed, struct sh_error *err)
{
    static const char *const allowed[] = {
        "recipient_delimiter", "implicit_tls_transport", "log_lookups", "default_relay",
        "vault_key", "credentials", "relays", "senders", "transports", "policy", "milter",
        "managed", NULL,
    };
    const char *vault_key = SH_DEFAULT_VAULT_KEY;
    const config_setting_t *st, *m = managed;

    if (!conf_only(root, allowed, err) || !load_scalars(s, root, &vault_key, err) ||
        !managed_check(root, m, err))
        return false;
    if (!load_credentials(s, root, vault_key, err) || !load_credentials(s, m, vault_key, err))
        return false;
    alloc_rules(s, config_setting_get_member(root, "senders"),
                m ? config_setting_get_member(m, "senders") : NULL);
    alloc_transports(s, config_setting_get_member(root, "transports"),
                     m ? config_setting_get_member(m, "transports") : NULL);
    if (!load_group(s, root, "relays", conf_load_relays, err) ||
        (m && !load_group(s, m, "relays", conf_load_relays, err)) ||
        !load_default_relay(s, root, err) || (m && !load_default_relay(s, m, err)) ||
        !conf_load_env(s, err) || !conf_build_relay_indexes(s, err) ||
        !load_group(s, root, "senders", load_senders, err) ||
        (m && !load_group(s, m, "senders", load_senders, err)) ||
        !load_group(s, root, "transports", load_transports, err) ||
        (m && !load_group(s, m, "transports", load_transports, err)))
        return false;
    if ((st = config_setting_get_member(root, "policy")) != NULL &&
        !sh_policy_conf_load(s, st, err))
        return false;
    if ((st = config_setting_get_member(root, "milter")) != NULL &&
        !sh_milter_conf_load(s, st, err))
        return false;
    return true;
}

static bool read_file(config_t *cf, const char *path, struct sh_error *err)
{
    char dir[PATH_MAX];

    config_init(cf);
    /* @include "x.conf" is relative to the including file's directory. */
    snprintf(dir, sizeof(dir), "%s", path);
    config_set_include_dir(cf, dirname(dir));
    if (config_read_file(cf, path) == CONFIG_TRUE)
        return true;
    if (config_error_type(cf) == CONFIG_ERR_FILE_IO) {
        struct stat st;
        snprintf(err->text, sizeof(err->text), "%s: cannot read: %s", path,
                 stat(path, &st) == 0 ? "permission denied or unreadable" : strerror(errno));
    } else {
        snprintf(err->text, sizeof(err->text), "%s:%d: %s",
                 config_error_file(cf) ? config_error_file(cf) : path, config_error_line(cf),
                 config_error_text(cf));
    }
    config_destroy(cf);
    return false;
}

struct sh_snapshot *sh_config_load(const char *path, struct sh_error *err)
{
    return sh_config_load_managed(path, NULL, err);
}

struct sh_snapshot *sh_config_load_managed(const char *path, const char *managed_path,
                                           struct sh_error *err)
{
    struct sh_snapshot *s;
    config_t cf, mcf;
    const config_setting_t *m;
    bool ok;

    err->text[0] = 0;
    if (!read_file(&cf, path, err))
        return NULL;
    if (managed_path && !read_file(&mcf, managed_path, err)) {
        config_destroy(&cf);
        return NULL;
    }
    m = config_setting_get_member(config_root_setting(managed_path ? &mcf : &cf), "managed");
    s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(path);
    ok = load_root(s, config_root_setting(&cf), m, err);
    config_destroy(&cf);
    if (managed_path)
        config_destroy(&mcf);
    if (!ok)
        sh_snapshot_free(s), s = NULL;
#ifdef __GLIBC__
    /* libconfig's parse tree (tens of MiB for 100k rules) was freed between the
     * snapshot's allocations; without this glibc keeps it all resident. */
    malloc_trim(0);
#endif
    return s;
}
