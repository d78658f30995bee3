/* ctl_snapshot.c - the configuration as the CLI reads it: load, find a relay, describe a secret. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "ctl.h"
#include "ctl_args.h"
#include "ctl_snapshot.h"
#include "strmap.h"

#define LIST_MAX 20 /* relay names listed in an error, then "and N more" */

struct sh_snapshot *ctl_load(const char *config_path)
{
    struct sh_error err;
    struct sh_snapshot *s = sh_config_load(config_path, &err);

    if (s == NULL) {
        fflush(stdout);
        fprintf(stderr, "%s\n", err.text); /* file:line: text, as the daemons log it */
    }
    return s;
}

static const struct sh_relay *by_domain(const struct sh_snapshot *s, const char *word)
{
    const char *d = word[0] == '@' ? word + 1 : word;
    char key[SH_MAX_HOST + 2], name[CTL_RELAY_NAME_MAX];
    const struct sh_rule *rule;
    size_t len = strlen(d);

    if (len == 0 || len > SH_MAX_HOST || !sh_domain_valid(d, len))
        return NULL;
    key[0] = '@';
    for (size_t i = 0; i <= len; i++)
        key[i + 1] = (char)tolower((unsigned char)d[i]);
    rule = s->rule_index ? strmap_get(s->rule_index, key, len + 1) : NULL;
    if (rule && rule->relay)
        return rule->relay;
    if (rule && !rule->relay_set && rule->cred_relay) /* credentials only: the relay they ride on */
        return rule->cred_relay;
    ctl_domain_relay_name(key + 1, name);
    return sh_snapshot_relay(s, name);
}

const struct sh_relay *ctl_find_relay(const struct sh_snapshot *s, const char *word)
{
    const struct sh_relay *r = sh_snapshot_relay(s, word);

    if (r || (r = by_domain(s, word)) != NULL)
        return r;
    char names[1024] = "";
    size_t len = 0;

    for (size_t i = 0; i < s->nrelays && i < LIST_MAX && len < sizeof(names); i++)
        len += (size_t)snprintf(names + len, sizeof(names) - len, " %s", s->relays[i]->name);
    if (s->nrelays > LIST_MAX && len < sizeof(names))
        snprintf(names + len, sizeof(names) - len, " and %zu more", s->nrelays - LIST_MAX);
    ctl_err("no relay named \"%.64s\", and no sender domain of that name routed through one; %s%s",
            word, s->nrelays ? "known relays:" : "the configuration has no relays", names);
    return NULL;
}

const char *ctl_secret_describe(const struct sh_cred *c, char *out)
{
    static const struct {
        const char *kind, *shown;
    } kinds[] = {{"vault", "enc"},
                 {"file", "file:"},
                 {"cred", "cred:"},
                 {"literal", "literal"},
                 {"env", "env"}};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const char *where = "unknown";

    for (size_t i = 0; c->kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(c->kind, kinds[i].kind) == 0)
            where = kinds[i].shown;
    if (EVP_Digest(c->password, strlen(c->password), md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen < 4) {
        snprintf(out, CTL_SECRET_MAX, "%s sha256:unavailable", where);
        return out;
    }
    snprintf(out, CTL_SECRET_MAX, "%s sha256:%02x%02x%02x%02x", where, md[0], md[1], md[2], md[3]);
    return out;
}
