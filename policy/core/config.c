/* config.c - load one libconfig file (and its managed group) into a complete, validated snapshot.
 *
 * Order matters: credentials, relays, the environment's relay, then rules that
 * point at relays. Any error frees everything built so far; the caller keeps
 * the snapshot it had (postsrsd setup_state, Postfix "fatal on bad config").
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"
#include "config_read.h"
#include "hostaddr.h"
#include "milter_conf.h"
#include "policy_conf.h"
#include "regfile.h"
#include "vault.h"

#define DEFAULT_IMPLICIT_TLS_TRANSPORT "smarthost-smtps"
#define DEFAULT_SMARTHOST_TRANSPORT    "smarthost"

/* A master.cf service name for the transport setting NAME (letters, digits, - and _). */
static bool service_name(const config_setting_t *root, const char *name, const char *v,
                         struct sh_error *err)
{
    for (const char *p = v; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_') || p - v > 63)
            return conf_fail(err, config_setting_get_member(root, name),
                             "must be a master.cf service name (letters, digits, - and _)");
    if (*v == 0)
        return conf_fail(err, config_setting_get_member(root, name), "must not be empty");
    return true;
}

/* ---- top level ---- */

static bool load_scalars(struct sh_snapshot *s, const config_setting_t *root,
                         const char **vault_key, struct sh_error *err)
{
    const char *delim = "+", *transport = DEFAULT_IMPLICIT_TLS_TRANSPORT;
    const char *relayed = DEFAULT_SMARTHOST_TRANSPORT;

    s->log_lookups = false;
    if (!conf_string(root, "recipient_delimiter", false, &delim, err) ||
        !conf_string(root, "implicit_tls_transport", false, &transport, err) ||
        !conf_string(root, "smarthost_transport", false, &relayed, err) ||
        !conf_string(root, "vault_key", false, vault_key, err) ||
        !conf_bool(root, "log_lookups", &s->log_lookups, err))
        return false;
    if (strlen(delim) >= sizeof(s->delimiters) || strpbrk(delim, "@ \t\r\n"))
        return conf_fail(err, config_setting_get_member(root, "recipient_delimiter"),
                         "at most 15 characters, none of them '@' or white space");
    strcpy(s->delimiters, delim);
    if (!service_name(root, "implicit_tls_transport", transport, err) ||
        !service_name(root, "smarthost_transport", relayed, err))
        return false;
    /* Postfix's own smtp and relay transports must never look credentials up by sender. */
    if (strcmp(relayed, transport) == 0 || strcmp(relayed, "smtp") == 0 ||
        strcmp(relayed, "relay") == 0)
        return conf_fail(err,
                         config_setting_get_member(root, "smarthost_transport")
                             ? config_setting_get_member(root, "smarthost_transport")
                             : config_setting_get_member(root, "implicit_tls_transport"),
                         "smarthost_transport must be a master.cf service of its own, not smtp, "
                         "relay or implicit_tls_transport");
    if (strcmp(transport, "smtp") == 0 || strcmp(transport, "relay") == 0)
        return conf_fail(err, config_setting_get_member(root, "implicit_tls_transport"),
                         "implicit_tls_transport must be a master.cf service of its own, not "
                         "smtp or relay");
    s->implicit_tls_transport = xstrdup(transport);
    s->smarthost_transport = xstrdup(relayed);
    return true;
}

/* ---- postfix: the Postfix settings the address canon mirrors (canon.h). Absent
 * names are "not known": an address that would need one is refused. ---- */
static bool load_postfix(struct sh_snapshot *s, const config_setting_t *root, struct sh_error *err)
{
    static const char *const allowed[] = {"myorigin",
                                          "mydomain",
                                          "myhostname",
                                          "allow_percent_hack",
                                          "swap_bangpath",
                                          "append_at_myorigin",
                                          "append_dot_mydomain",
                                          "resolve_dequoted_address",
                                          NULL};
    static const char *const names[] = {"myorigin", "mydomain", "myhostname"};
    const config_setting_t *g = config_setting_get_member(root, "postfix");
    struct sh_canon *c = &s->canon;
    char *dst[] = {c->myorigin, c->mydomain, c->myhostname};

    sh_canon_defaults(c);
    if (g == NULL)
        return true;
    if (!config_setting_is_group(g))
        return conf_fail(err, g, "must be a group { myorigin = \"...\"; ... }");
    if (!conf_only(g, allowed, err) ||
        !conf_bool(g, "allow_percent_hack", &c->allow_percent_hack, err) ||
        !conf_bool(g, "swap_bangpath", &c->swap_bangpath, err) ||
        !conf_bool(g, "append_at_myorigin", &c->append_at_myorigin, err) ||
        !conf_bool(g, "append_dot_mydomain", &c->append_dot_mydomain, err) ||
        !conf_bool(g, "resolve_dequoted_address", &c->resolve_dequoted_address, err))
        return false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = NULL;
        if (!conf_string(g, names[i], false, &v, err))
            return false;
        if (v == NULL)
            continue;
        if (!sh_canon_domain(v, strlen(v), dst[i], SH_CANON_MAX_NAME + 1) ||
            !sh_domain_valid(dst[i], strlen(dst[i])))
            return conf_fail(err, config_setting_get_member(g, names[i]),
                             "\"%.80s\": must be a domain name, as postconf -xh %s prints it", v,
                             names[i]);
    }
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
    static const char *const allowed[] = {
        "credentials",           "relays",     "senders", "default_relay",
        "default_imported_from", "transports", NULL};

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
        "recipient_delimiter",
        "implicit_tls_transport",
        "smarthost_transport",
        "log_lookups",
        "default_relay",
        "vault_key",
        "credentials",
        "relays",
        "senders",
        "transports",
        "policy",
        "milter",
        "managed",
        "postfix",
        NULL,
    };
    const char *vault_key = SH_DEFAULT_VAULT_KEY;
    const config_setting_t *st, *m = managed;

    if (!conf_only(root, allowed, err) || !load_scalars(s, root, &vault_key, err) ||
        !load_postfix(s, root, err) || !managed_check(root, m, err))
        return false;
    if (!load_credentials(s, root, vault_key, err) || !load_credentials(s, m, vault_key, err))
        return false;
    conf_alloc_rules(s, config_setting_get_member(root, "senders"),
                     m ? config_setting_get_member(m, "senders") : NULL);
    conf_alloc_transports(s, config_setting_get_member(root, "transports"),
                          m ? config_setting_get_member(m, "transports") : NULL);
    if (!load_group(s, root, "relays", conf_load_relays, err) ||
        (m && !load_group(s, m, "relays", conf_load_relays, err)) ||
        !load_default_relay(s, root, err) || (m && !load_default_relay(s, m, err)) ||
        !conf_load_env(s, err) || !conf_build_relay_indexes(s, err) ||
        !load_group(s, root, "senders", conf_load_senders, err) ||
        (m && !load_group(s, m, "senders", conf_load_senders, err)) || !conf_finish_rules(s, err) ||
        !load_group(s, root, "transports", conf_load_transports, err) ||
        (m && !load_group(s, m, "transports", conf_load_transports, err)))
        return false;
    if ((st = config_setting_get_member(root, "policy")) != NULL &&
        !sh_policy_conf_load(s, st, err))
        return false;
    if ((st = config_setting_get_member(root, "milter")) != NULL &&
        !sh_milter_conf_load(s, st, err))
        return false;
    return true;
}

/* Never blocks and opens nothing but regular files: config_read.h. */
static bool read_file(config_t *cf, const char *path, struct sh_error *err)
{
    config_init(cf);
    if (sh_conf_read_file(cf, path, err->text, sizeof(err->text)))
        return true;
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
