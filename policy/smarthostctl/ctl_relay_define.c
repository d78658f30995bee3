/* ctl_relay_define.c - managed-group edits by name: the relays, rules and lanes
 * `import postfix` replays, and `relay set-tls`. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_relay.h"
#include "resolve.h"

static config_setting_t *sub_group(config_setting_t *parent, const char *name)
{
    config_setting_t *g = config_setting_get_member(parent, name);

    if (g && !config_setting_is_group(g)) {
        config_setting_remove(parent, name);
        g = NULL;
    }
    return g ? g : config_setting_add(parent, name, CONFIG_TYPE_GROUP);
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
    r = sub_group(ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), name);
    ctl_set_member(r, "host", CONFIG_TYPE_STRING, canon, 0);
    ctl_set_member(r, "port", CONFIG_TYPE_INT, NULL, port);
    /* Postfix speaks STARTTLS on every port unless a wrappermode transport says otherwise. */
    ctl_set_member(r, "implicit_tls", CONFIG_TYPE_BOOL, NULL, 0);
    if (level)
        ctl_set_member(r, "tls", CONFIG_TYPE_STRING, level, 0);
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
    if (user == NULL)
        return true;
    if (!relay_put_credentials(m, name, user, password, NULL))
        return false;
    ctl_set_member(r, "credentials", CONFIG_TYPE_STRING, name, 0);
    return true;
}

void relay_set_implicit(struct ctl_managed *m, const char *name, bool implicit)
{
    config_setting_t *r =
        config_setting_get_member(ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), name);

    if (r)
        ctl_set_member(r, "implicit_tls", CONFIG_TYPE_BOOL, NULL, implicit);
}

void relay_add_failover(struct ctl_managed *m, const char *name, const char *failover)
{
    config_setting_t *r =
        config_setting_get_member(ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), name);
    config_setting_t *list;

    if (r == NULL)
        return;
    if ((list = config_setting_get_member(r, "failover")) == NULL)
        list = config_setting_add(r, "failover", CONFIG_TYPE_ARRAY);
    config_setting_set_string(config_setting_add(list, NULL, CONFIG_TYPE_STRING), failover);
}

void relay_use_credentials(struct ctl_managed *m, const char *name, const char *credentials)
{
    config_setting_t *r =
        config_setting_get_member(ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), name);

    if (r)
        ctl_set_member(r, "credentials", CONFIG_TYPE_STRING, credentials, 0);
}

bool relay_rule(struct ctl_managed *m, const char *key, const char *relay)
{
    config_setting_t *senders = ctl_managed_section(m, "senders", CONFIG_TYPE_LIST), *g = NULL;
    char norm[SH_MAX_KEY + 1];
    enum sh_rule_kind kind;
    const char *why, *match;

    if (!sh_sender_pattern(key, norm, &kind, &why))
        return ctl_bad("sender", key, why);
    for (int i = 0; i < config_setting_length(senders) && g == NULL; i++)
        if (config_setting_lookup_string(config_setting_get_elem(senders, (unsigned)i), "match",
                                         &match) &&
            strcmp(match, norm) == 0)
            g = config_setting_get_elem(senders, (unsigned)i);
    if (g == NULL)
        g = config_setting_add(senders, NULL, CONFIG_TYPE_GROUP);
    ctl_set_member(g, "match", CONFIG_TYPE_STRING, norm, 0);
    ctl_set_member(g, "relay", CONFIG_TYPE_STRING, relay, 0);
    return true;
}

void relay_default_name(struct ctl_managed *m, const char *name)
{
    ctl_set_member(m->root, "default_relay", CONFIG_TYPE_STRING, name, 0);
}

bool relay_transport(struct ctl_managed *m, const char *key, const char *transport)
{
    config_setting_t *g = config_setting_add(ctl_managed_section(m, "transports", CONFIG_TYPE_LIST),
                                             NULL, CONFIG_TYPE_GROUP);

    ctl_set_member(g, "domain", CONFIG_TYPE_STRING, key, 0);
    ctl_set_member(g, "transport", CONFIG_TYPE_STRING, transport, 0);
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

/* RELAY: a managed relay's name, or a domain: the relay its managed rule names (or
 * the one-relay-per-domain layout's d_<domain>). */
static config_setting_t *find_relay(struct ctl_managed *m, const char *relay)
{
    config_setting_t *relays = ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP);
    config_setting_t *senders = ctl_managed_section(m, "senders", CONFIG_TYPE_LIST), *r;
    char d[SH_MAX_HOST + 1], key[SH_MAX_HOST + 2], name[CTL_RELAY_NAME_MAX];
    const char *match, *rn;

    if ((r = config_setting_get_member(relays, relay)) != NULL || !strchr(relay, '.') ||
        !sh_domain_valid(relay[0] == '@' ? relay + 1 : relay, strlen(relay) - (relay[0] == '@')))
        return r;
    ctl_norm_domain(relay, d);
    snprintf(key, sizeof(key), "@%s", d);
    for (int i = 0; i < config_setting_length(senders); i++) {
        config_setting_t *g = config_setting_get_elem(senders, (unsigned)i);
        if (config_setting_lookup_string(g, "match", &match) && strcmp(match, key) == 0 &&
            config_setting_lookup_string(g, "relay", &rn))
            return config_setting_get_member(relays, rn);
    }
    ctl_domain_relay_name(d, name);
    return config_setting_get_member(relays, name);
}

bool relay_set_tls(struct ctl_managed *m, const char *relay, const char *level)
{
    static const char *const levels[] = {"none", "may", "encrypt", "verify", "secure", NULL};
    config_setting_t *relays = ctl_managed_section(m, "relays", CONFIG_TYPE_GROUP), *r;
    const char *const *l;

    for (l = levels; *l && strcmp(*l, level) != 0; l++)
        ;
    if (*l == NULL)
        return ctl_bad("level", level, "use none, may, encrypt, verify or secure");
    if ((r = find_relay(m, relay)) == NULL) {
        int n = config_setting_length(relays);
        char names[1024] = "";
        size_t len = 0;

        for (int i = 0; i < n && i < 20 && len < sizeof(names); i++)
            len +=
                (size_t)snprintf(names + len, sizeof(names) - len, " %s",
                                 config_setting_name(config_setting_get_elem(relays, (unsigned)i)));
        ctl_err("relay \"%.80s\": no such relay or domain in %s (relays of your own file: edit "
                "them there); %s%s%s",
                relay, m->path, n ? "managed relays:" : "it has no relays", names,
                n > 20 ? " ..." : "");
        return false;
    }
    printf("relay %s (every sender that uses it): tls %s\n", config_setting_name(r), level);
    ctl_set_member(r, "tls", CONFIG_TYPE_STRING, level, 0);
    return true;
}
