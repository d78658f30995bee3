/* ctl_relay_edit.c - the edits `relay` and `import` make on the managed group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"
#include "ctl.h"
#include "ctl_args.h"
#include "ctl_relay.h"
#include "resolve.h"
#include "snapshot.h"
#include "vault.h"

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
    char d[SH_MAX_HOST + 1], name[CTL_RELAY_NAME_MAX], canon[SH_MAX_HOST + 1];
    int p;

    if (!ctl_norm_domain(domain, d) || !ctl_parse_host(host, canon) || !ctl_parse_port(port, &p))
        return false;
    ctl_domain_relay_name(d, name);
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

    if (!ctl_user_valid(user))
        return false;
    if (!sh_vault_key_read(m->vault_key, key, &err)) {
        ctl_err("%s (create one with: smarthostctl key init)", err.text);
        return false;
    }
    enc = sh_vault_encrypt(key, name, password);
    OPENSSL_cleanse(key, sizeof(key));
    if (enc == NULL)
        return ctl_bad("password", "(hidden)", "must be 1-1024 characters");
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
    char d[SH_MAX_HOST + 1], name[CTL_RELAY_NAME_MAX];
    config_setting_t *relays = ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), *r;

    if (!ctl_norm_domain(domain, d))
        return false;
    ctl_domain_relay_name(d, name);
    if ((r = config_setting_get_member(relays, name)) == NULL) {
        /* No relay of its own: the domain authenticates at the default relay. */
        struct sh_error err;
        struct sh_snapshot *s = sh_config_load(m->config, &err);
        if (s == NULL || s->default_relay == NULL) {
            ctl_err("domain %s has no relay and there is no default relay: "
                    "run relay add-domain or relay default first", d);
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

    if (!ctl_parse_host(host, canon))
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
    char d[SH_MAX_HOST + 1], name[CTL_RELAY_NAME_MAX];

    if (!ctl_norm_domain(domain, d))
        return false;
    ctl_domain_relay_name(d, name);
    drop_relay(m, name);
    set_rule(m, d, "direct");
    return true;
}

bool relay_del_domain(struct ctl_managed *m, const char *domain)
{
    config_setting_t *senders = ctl_managed_section(m, "senders", CONFIG_TYPE_LIST);
    char d[SH_MAX_HOST + 1], name[CTL_RELAY_NAME_MAX], key[SH_MAX_HOST + 2];
    int i;

    if (!ctl_norm_domain(domain, d))
        return false;
    snprintf(key, sizeof(key), "@%s", d);
    if ((i = find_rule(senders, key)) < 0) {
        ctl_err("domain %s has no rule in %s", d, m->path);
        return false;
    }
    config_setting_remove_elem(senders, (unsigned)i);
    ctl_domain_relay_name(d, name);
    drop_relay(m, name);
    return true;
}

bool relay_set_default(struct ctl_managed *m, const char *host, const char *port)
{
    char canon[SH_MAX_HOST + 1];
    int p;

    if (!ctl_parse_host(host, canon) || !ctl_parse_port(port, &p))
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
        ctl_err("no managed default relay: run relay default HOST first");
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

    if (!ctl_parse_host(host, canon))
        return false;
    if (port < 1 || port > 65535)
        return ctl_bad("port", host, "must be a number from 1 to 65535");
    r = put_relay(m, name, canon, port);
    if (level)
        set_member(r, "tls", CONFIG_TYPE_STRING, level, 0);
    if (match && *match) {
        if (strlen(match) >= sizeof(buf))
            return ctl_bad("tls match", match, "too long");
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
        return ctl_bad("sender", key, why);
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

bool relay_set_tls(struct ctl_managed *m, const char *relay, const char *level)
{
    static const char *const levels[] = {"none", "may", "encrypt", "verify", "secure", NULL};
    config_setting_t *relays = ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), *r;
    char d[SH_MAX_HOST + 1], name[CTL_RELAY_NAME_MAX];
    const char *const *l;

    for (l = levels; *l && strcmp(*l, level) != 0; l++)
        ;
    if (*l == NULL)
        return ctl_bad("level", level, "use none, may, encrypt, verify or secure");
    if ((r = config_setting_get_member(relays, relay)) == NULL && strchr(relay, '.') &&
        sh_domain_valid(relay[0] == '@' ? relay + 1 : relay, strlen(relay) - (relay[0] == '@'))) {
        ctl_norm_domain(relay, d);
        ctl_domain_relay_name(d, name);
        r = config_setting_get_member(relays, name);
    }
    if (r == NULL) {
        int n = config_setting_length(relays);
        char names[1024] = "";
        size_t len = 0;

        for (int i = 0; i < n && i < 20 && len < sizeof(names); i++)
            len += (size_t)snprintf(names + len, sizeof(names) - len, " %s",
                                    config_setting_name(config_setting_get_elem(relays, (unsigned)i)));
        ctl_err("relay \"%.80s\": no such relay or domain in %s (relays of your own file: edit "
                "them there); %s%s%s", relay, m->path, n ? "managed relays:" : "it has no relays",
                names, n > 20 ? " ..." : "");
        return false;
    }
    set_member(r, "tls", CONFIG_TYPE_STRING, level, 0);
    return true;
}
