/* milter_conf.c - the `milter` group: privacy, header rules, header_checks,
 * hygiene and per-relay sender rewrite, checked completely at load. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"
#include "header_checks.h"
#include "hostaddr.h"
#include "milter_conf.h"
#include "regfile.h"
#include "resolve.h"
#include "strmap.h"

#define MAX_PATTERNS 1024
#define MAX_VALUE    998 /* RFC 5322 line length */

/* An optional list NAME of sender patterns in G (<> allowed); empty means all. */
static bool load_senders(struct sh_snapshot *s, const config_setting_t *g, const char *name,
                         struct sh_sender_set *set, struct sh_error *err)
{
    const config_setting_t *st = config_setting_get_member(g, name);

    if (st == NULL)
        return true;
    if (!sh_sender_set_load(s, g, name, false, SH_SET_SENDERS_OR_NULL, set, err))
        return false;
    if (set->n == 0)
        return conf_fail(err, st, "an empty list would match no sender: leave it out for all");
    return true;
}

void sh_milter_conf_free(struct sh_milter_conf *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nrules; i++)
        sh_sender_set_free(&m->rules[i].senders);
    free(m->hostname);
    free(m->nets);
    for (size_t i = 0; i < m->nhost_patterns; i++)
        free(m->host_patterns[i]);
    free(m->host_patterns);
    for (size_t i = 0; i < m->nrules; i++) {
        free(m->rules[i].name);
        free(m->rules[i].text);
        pcre2_code_free(m->rules[i].re);
    }
    free(m->rules);
    for (size_t i = 0; i < m->nunsubs; i++) {
        sh_sender_set_free(&m->unsubs[i].senders);
        free(m->unsubs[i].url);
    }
    free(m->unsubs);
    for (size_t i = 0; i < m->nrewrites; i++)
        free(m->rewrites[i].identity);
    free(m->rewrites);
    free(m);
}

static bool value_valid(const char *v)
{
    size_t len = strlen(v);
    if (len == 0 || len > MAX_VALUE)
        return false;
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 32 && *p != '\t')
            return false;
    return true;
}

/* ---- privacy ---- */

struct list_ctx {
    struct sh_error *err; /* first: conf_strings() reports through it */
    struct sh_milter_conf *m;
};

static bool add_net(void *ctx, const config_setting_t *st, const char *v)
{
    struct list_ctx *lc = ctx;
    struct sh_milter_conf *m = lc->m;

    if (m->nnets >= MAX_PATTERNS)
        return conf_fail(lc->err, st, "more than %d networks", MAX_PATTERNS);
    m->nets = xreallocarray(m->nets, m->nnets + 1, sizeof(*m->nets));
    if (!sh_cidr_parse(v, &m->nets[m->nnets]))
        return conf_fail(lc->err, st,
                         "\"%.64s\": write a network as 10.0.0.0/8 or fd00::/8 (host bits zero)",
                         v);
    m->nnets++;
    return true;
}

static bool add_host_pattern(void *ctx, const config_setting_t *st, const char *v)
{
    struct list_ctx *lc = ctx;
    struct sh_milter_conf *m = lc->m;
    size_t len = strlen(v);

    if (m->nhost_patterns >= MAX_PATTERNS)
        return conf_fail(lc->err, st, "more than %d patterns", MAX_PATTERNS);
    if (len == 0 || len > SH_MAX_HOST || strpbrk(v, " \t\r\n[]()<>;@"))
        return conf_fail(lc->err, st, "\"%.64s\": write a host name or a glob like *.lan", v);
    m->host_patterns = xreallocarray(m->host_patterns, m->nhost_patterns + 1, sizeof(char *));
    m->host_patterns[m->nhost_patterns] = xstrdup(v);
    for (char *p = m->host_patterns[m->nhost_patterns]; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    m->nhost_patterns++;
    return true;
}

static bool load_privacy(struct sh_milter_conf *m, const config_setting_t *g, struct sh_error *err)
{
    static const char *const allowed[] = {"internal_networks", "internal_hosts",
                                          "remove_originating", "remove_mailer", NULL};
    struct list_ctx lc = {.err = err, .m = m};

    if (!config_setting_is_group(g))
        return conf_fail(err, g, "must be a group { internal_networks = [...]; ... }");
    m->privacy = true;
    m->remove_originating = true;
    return conf_only(g, allowed, err) &&
           conf_strings(g, "internal_networks", false, add_net, &lc) &&
           conf_strings(g, "internal_hosts", false, add_host_pattern, &lc) &&
           conf_bool(g, "remove_originating", &m->remove_originating, err) &&
           conf_bool(g, "remove_mailer", &m->remove_mailer, err);
}

/* ---- generic header rules ---- */

static bool compile_name_pattern(const char *pat, pcre2_code **out, const config_setting_t *st,
                                 struct sh_error *err)
{
    int code;
    PCRE2_SIZE off;
    char msg[160];

    *out = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &code, &off, NULL);
    if (*out)
        return true;
    pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
    return conf_fail(err, st, "pattern error at offset %zu: %s", (size_t)off, msg);
}

static bool load_header_rule(struct sh_snapshot *s, struct sh_milter_conf *m,
                             const config_setting_t *g, struct sh_error *err)
{
    static const char *const allowed[] = {"remove", "remove_pattern", "replace", "replace_pattern",
                                          "add",    "value",          "relay",   "senders",
                                          NULL};
    static const struct {
        const char *key;
        enum sh_hdr_op op;
        bool pattern;
    } kinds[] = {
        {"remove", SH_HDR_REMOVE, false},   {"remove_pattern", SH_HDR_REMOVE, true},
        {"replace", SH_HDR_REPLACE, false}, {"replace_pattern", SH_HDR_REPLACE, true},
        {"add", SH_HDR_ADD, false},
    };
    const char *what = NULL, *value = NULL, *relay = NULL;
    const config_setting_t *wst = NULL;
    struct sh_hdr_rule r = {0};
    size_t k, found = 0, kind = 0;

    if (!config_setting_is_group(g))
        return conf_fail(err, g, "must be a group like { remove = \"X-Mailer\"; }");
    if (!conf_only(g, allowed, err))
        return false;
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (config_setting_get_member(g, kinds[k].key)) {
            found++;
            kind = k;
        }
    if (found != 1)
        return conf_fail(err, g,
                         "needs exactly one of remove, remove_pattern, replace, "
                         "replace_pattern, add");
    wst = config_setting_get_member(g, kinds[kind].key);
    if (!conf_string(g, kinds[kind].key, true, &what, err) ||
        !conf_string(g, "value", kinds[kind].op != SH_HDR_REMOVE, &value, err) ||
        !conf_string(g, "relay", false, &relay, err))
        return false;
    if (kinds[kind].op == SH_HDR_REMOVE && value)
        return conf_fail(err, config_setting_get_member(g, "value"), "remove takes no value");
    if (value && !value_valid(value))
        return conf_fail(err, config_setting_get_member(g, "value"),
                         "1-%d characters, no control characters", MAX_VALUE);
    r.op = kinds[kind].op;
    r.origin = conf_origin(s, g);
    if (relay && (r.relay = sh_snapshot_relay(s, relay)) == NULL)
        return conf_fail(err, config_setting_get_member(g, "relay"), "no relay named \"%.64s\"",
                         relay);

    if (kinds[kind].pattern) {
        if (!compile_name_pattern(what, &r.re, wst, err))
            return false;
    } else {
        if (!sh_header_name_valid(what, strlen(what)))
            return conf_fail(err, wst, "\"%.64s\" is not a header name", what);
        r.name = xstrdup(what);
    }
    r.text = value ? xstrdup(value) : NULL;
    m->rules = xreallocarray(m->rules, m->nrules + 1, sizeof(*m->rules));
    m->rules[m->nrules++] = r; /* owned by M from here, also on error */
    return load_senders(s, g, "senders", &m->rules[m->nrules - 1].senders, err);
}

static bool load_header_rules(struct sh_snapshot *s, struct sh_milter_conf *m,
                              const config_setting_t *list, struct sh_error *err)
{
    if (!config_setting_is_list(list))
        return conf_fail(err, list, "must be a list: ( { remove = \"X-Mailer\"; }, ... )");
    if (config_setting_length(list) > MAX_PATTERNS)
        return conf_fail(err, list, "more than %d rules", MAX_PATTERNS);
    for (int i = 0; i < config_setting_length(list); i++)
        if (!load_header_rule(s, m, config_setting_get_elem(list, (unsigned)i), err))
            return false;
    return true;
}

static bool load_header_checks(struct sh_milter_conf *m, const config_setting_t *st,
                               const char *path, struct sh_error *err)
{
    struct sh_hc_error hc = {0};
    struct sh_hc_rule *hcr = NULL;
    size_t nhcr = 0;
    char why[600];
    struct stat sb;
    char *buf;
    ssize_t got;
    size_t len = 0;
    int fd;
    bool ok;

    /* "regexp:/path" and "pcre:/path" as main.cf writes them */
    if (strncmp(path, "regexp:", 7) == 0)
        path += 7;
    else if (strncmp(path, "pcre:", 5) == 0)
        path += 5;
    if ((fd = sh_regfile_open(path, SH_REGFILE_FOLLOW, &sb, why, sizeof(why))) < 0)
        return conf_fail(err, st, "%.600s", why);
    if (sb.st_size > SH_MILTER_MAX_HC_FILE) {
        close(fd);
        return conf_fail(err, st, "%.200s: larger than %d bytes", path, SH_MILTER_MAX_HC_FILE);
    }
    buf = xcalloc((size_t)sb.st_size + 1, 1);
    while (len < (size_t)sb.st_size && (got = read(fd, buf + len, (size_t)sb.st_size - len)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            free(buf);
            return conf_fail(err, st, "%.200s: %s", path, strerror(errno));
        }
        len += (size_t)got;
    }
    close(fd);
    ok = sh_header_checks_parse(buf, len, &hcr, &nhcr, &hc);
    free(buf);
    if (!ok) {
        sh_hc_rules_free(hcr, nhcr);
        snprintf(err->text, sizeof(err->text), "%.400s:%u: header_checks: %s", path, hc.line,
                 hc.text);
        return false;
    }
    /* The table's rules become whole-line header rules; pattern and text move over. */
    m->rules = xreallocarray(m->rules, m->nrules + nhcr, sizeof(*m->rules));
    for (size_t i = 0; i < nhcr; i++) {
        static const enum sh_hdr_op op[] = {
            [SH_HC_IGNORE] = SH_HDR_REMOVE,   [SH_HC_REPLACE] = SH_HDR_REPLACE,
            [SH_HC_PREPEND] = SH_HDR_PREPEND, [SH_HC_DUNNO] = SH_HDR_DUNNO,
            [SH_HC_WARN] = SH_HDR_WARN,
        };
        m->rules[m->nrules++] = (struct sh_hdr_rule){
            .op = op[hcr[i].action],
            .re = hcr[i].re,
            .whole = true,
            .negate = hcr[i].negate,
            .text = hcr[i].text,
        };
    }
    free(hcr);
    return true;
}

/* ---- List-Unsubscribe and sender rewrite ---- */

/* One entry per sender set: `domain = "d"` (the sender domain itself) or
 * `senders = [ "@d", "@.d", "user@d", "<>" ]`. The first entry whose senders
 * match applies. */
static bool load_unsubs(struct sh_snapshot *s, struct sh_milter_conf *m,
                        const config_setting_t *list, struct sh_error *err)
{
    static const char *const allowed[] = {"domain", "senders", "url", "one_click", NULL};
    int n = config_setting_length(list);

    if (!config_setting_is_list(list))
        return conf_fail(err, list, "must be a list: ( { domain = ...; url = ...; }, ... )");
    m->unsubs = xcalloc((size_t)n, sizeof(*m->unsubs));
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *domain = NULL, *url = NULL;
        struct sh_unsub *u = &m->unsubs[m->nunsubs++]; /* owned by M, also on error */
        char key[SH_MAX_KEY + 1];

        if (!config_setting_is_group(g))
            return conf_fail(err, g, "must be a group { domain = ...; url = ...; }");
        if (!conf_only(g, allowed, err) || !conf_string(g, "domain", false, &domain, err) ||
            !conf_string(g, "url", true, &url, err) ||
            !conf_bool(g, "one_click", &u->one_click, err) ||
            !load_senders(s, g, "senders", &u->senders, err))
            return false;
        if ((domain != NULL) == (u->senders.n > 0))
            return conf_fail(err, g,
                             "needs exactly one of domain = \"example.com\" or "
                             "senders = [ \"@example.com\", ... ]");
        if (domain) {
            if (!sh_domain_valid(domain, strlen(domain)) || strlen(domain) >= sizeof(key) - 1)
                return conf_fail(err, config_setting_get_member(g, "domain"), "invalid domain");
            key[0] = '@';
            for (size_t k = 0; k <= strlen(domain); k++)
                key[k + 1] = (char)tolower((unsigned char)domain[k]);
            if (!sh_sender_set_add(s, config_setting_get_member(g, "domain"), key, SH_SET_SENDERS,
                                   &u->senders, err))
                return false;
        }
        if (!value_valid(url) || url[0] != '<')
            return conf_fail(err, config_setting_get_member(g, "url"),
                             "write <https://...> or <mailto:...>, comma separated");
        if (u->one_click && strncasecmp(url, "<https://", 9) != 0)
            return conf_fail(err, config_setting_get_member(g, "one_click"),
                             "one-click unsubscribe (RFC 8058) needs an https URL first");
        u->url = xstrdup(url);
    }
    return true;
}

static bool load_rewrites(struct sh_snapshot *s, struct sh_milter_conf *m,
                          const config_setting_t *list, struct sh_error *err)
{
    static const char *const allowed[] = {"relay", "identity", "from_header", NULL};
    int n = config_setting_length(list);

    if (!config_setting_is_list(list))
        return conf_fail(err, list, "must be a list: ( { relay = ...; identity = ...; }, ... )");
    m->rewrites = xcalloc((size_t)n, sizeof(*m->rewrites));
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *relay = NULL, *identity = NULL;
        struct sh_rewrite *w = &m->rewrites[m->nrewrites];
        struct sh_decision d;
        const char *at;

        if (!config_setting_is_group(g))
            return conf_fail(err, g, "must be a group { relay = ...; identity = ...; }");
        if (!conf_only(g, allowed, err) || !conf_string(g, "relay", true, &relay, err) ||
            !conf_string(g, "identity", true, &identity, err) ||
            !conf_bool(g, "from_header", &w->from_header, err))
            return false;
        if ((w->relay = sh_snapshot_relay(s, relay)) == NULL)
            return conf_fail(err, config_setting_get_member(g, "relay"), "no relay named \"%.64s\"",
                             relay);
        for (size_t k = 0; k < m->nrewrites; k++)
            if (m->rewrites[k].relay == w->relay)
                return conf_fail(err, g, "relay \"%.64s\" has a rewrite already", relay);
        at = strrchr(identity, '@');
        if (at == NULL || at == identity || strlen(identity) > 254 ||
            strpbrk(identity, " \t\r\n<>\",;") || !sh_domain_valid(at + 1, strlen(at + 1)))
            return conf_fail(err, config_setting_get_member(g, "identity"),
                             "\"%.64s\" is not an address user@domain", identity);
        /* Postfix routes by the envelope sender the milter leaves behind: the
         * identity must lead to the same relay, or mail would leave elsewhere. */
        if (sh_resolve_sender(s, identity, strlen(identity), &d) != SH_FOUND || d.relay != w->relay)
            return conf_fail(err, config_setting_get_member(g, "identity"),
                             "\"%.64s\" routes to %s, not to relay \"%.64s\": add a sender rule "
                             "for it",
                             identity, d.relay ? d.relay->name : "direct", relay);
        w->identity = xstrdup(identity);
        m->nrewrites++;
    }
    return true;
}

/* ---- the group ---- */

bool sh_milter_conf_load(struct sh_snapshot *s, const config_setting_t *group, struct sh_error *err)
{
    static const char *const allowed[] = {
        "default_action",
        "hostname",
        "add_date",
        "add_message_id",
        "privacy",
        "headers",
        "header_checks",
        "list_unsubscribe",
        "sender_rewrite",
        "local_submission",
        NULL,
    };
    struct sh_milter_conf *m = xcalloc(1, sizeof(*m));
    const char *action = "tempfail", *hostname = NULL, *hc = NULL, *local = "trust";
    const config_setting_t *st;
    char host[SH_MAX_HOST + 1];
    enum sh_host_kind kind;
    const char *why;

    s->milter = m; /* freed with the snapshot, also on error */
    m->add_date = m->add_message_id = true;
    if (!config_setting_is_group(group))
        return conf_fail(err, group, "must be a group: milter = { ... };");
    if (!conf_only(group, allowed, err) ||
        !conf_string(group, "default_action", false, &action, err) ||
        !conf_string(group, "hostname", false, &hostname, err) ||
        !conf_string(group, "header_checks", false, &hc, err) ||
        !conf_string(group, "local_submission", false, &local, err) ||
        !conf_bool(group, "add_date", &m->add_date, err) ||
        !conf_bool(group, "add_message_id", &m->add_message_id, err))
        return false;
    if (strcmp(action, "tempfail") == 0)
        m->on_error = SH_MDEF_TEMPFAIL;
    else if (strcmp(action, "accept") == 0)
        m->on_error = SH_MDEF_ACCEPT;
    else if (strcmp(action, "reject") == 0)
        m->on_error = SH_MDEF_REJECT;
    else
        return conf_fail(err, config_setting_get_member(group, "default_action"),
                         "must be tempfail, accept or reject");
    if (strcmp(local, "trust") == 0)
        m->local_submission = SH_LOCAL_TRUST;
    else if (strcmp(local, "enforce") == 0)
        m->local_submission = SH_LOCAL_ENFORCE;
    else
        return conf_fail(err, config_setting_get_member(group, "local_submission"),
                         "must be trust or enforce");
    if (hostname) {
        if (!sh_host_parse(hostname, host, &kind, &why))
            return conf_fail(err, config_setting_get_member(group, "hostname"), "%s", why);
        if (kind != SH_HOST_NAME)
            return conf_fail(err, config_setting_get_member(group, "hostname"),
                             "must be a host name, not an address");
        m->hostname = xstrdup(host);
    }
    if ((st = config_setting_get_member(group, "privacy")) && !load_privacy(m, st, err))
        return false;
    if ((st = config_setting_get_member(group, "headers")) && !load_header_rules(s, m, st, err))
        return false;
    m->nconfig_rules = m->nrules;
    if (hc && !load_header_checks(m, config_setting_get_member(group, "header_checks"), hc, err))
        return false;
    if ((st = config_setting_get_member(group, "list_unsubscribe")) && !load_unsubs(s, m, st, err))
        return false;
    if ((st = config_setting_get_member(group, "sender_rewrite")) && !load_rewrites(s, m, st, err))
        return false;
    return true;
}
