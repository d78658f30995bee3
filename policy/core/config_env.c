/* config_env.c - docker-mailserver's relay variables on top of the file.
 *
 * RELAY_HOST (+RELAY_PORT, default 25) wins over DEFAULT_RELAY_HOST ("[host]:port"),
 * as in docker-mailserver; RELAY_USER/RELAY_PASSWORD authenticate it. Together
 * they define the relay "env" and make it the default relay. Port 465 is implicit TLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "hostaddr.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

static bool env_fail(struct sh_error *err, const char *var, const char *why)
{
    snprintf(err->text, sizeof(err->text), "environment: %s: %s", var, why);
    return false;
}

static bool parse_port(const char *var, const char *v, unsigned *port, struct sh_error *err)
{
    char *end;
    long p = strtol(v, &end, 10);

    if (*v == 0 || *end != 0 || p < 1 || p > 65535)
        return env_fail(err, var, "port must be a number from 1 to 65535");
    *port = (unsigned)p;
    return true;
}

/* "[host]:port", "[host]", "host:port" or "host" (we never do MX lookups for a relay). */
static bool split_default_relay_host(const char *v, char *host, size_t cap, unsigned *port,
                                     struct sh_error *err)
{
    const char *var = "DEFAULT_RELAY_HOST", *end, *colon = NULL;
    size_t len;

    if (*v == '[') {
        if ((end = strchr(v, ']')) == NULL)
            return env_fail(err, var, "missing ']'");
        if (end[1] == ':')
            colon = end + 1;
        else if (end[1] != 0)
            return env_fail(err, var, "write [host]:port");
        v++;
    } else {
        end = strrchr(v, ':');
        if (end && strchr(v, ':') != end)
            return env_fail(err, var, "write IPv6 addresses as [address]:port");
        colon = end;
        end = end ? end : v + strlen(v);
    }
    len = (size_t)(end - v);
    if (len >= cap)
        return env_fail(err, var, "host too long");
    memcpy(host, v, len);
    host[len] = 0;
    return colon == NULL || parse_port(var, colon + 1, port, err);
}

bool conf_load_env(struct sh_snapshot *s, struct sh_error *err)
{
    const char *relay_host = env("RELAY_HOST"), *dflt = env("DEFAULT_RELAY_HOST");
    const char *user = env("RELAY_USER"), *password = env("RELAY_PASSWORD"), *why;
    const char *var = relay_host ? "RELAY_HOST" : "DEFAULT_RELAY_HOST";
    char host[SH_MAX_HOST + 2], canon[SH_MAX_HOST + 1];
    struct sh_origin origin = {.file = "environment", .line = 0};
    enum sh_host_kind kind;
    struct sh_relay *r;
    unsigned port = 25;

    if (!relay_host && !dflt) {
        if (user || password)
            return env_fail(err, "RELAY_USER", "set RELAY_HOST or DEFAULT_RELAY_HOST too");
        return true;
    }
    if ((user == NULL) != (password == NULL))
        return env_fail(err, user ? "RELAY_PASSWORD" : "RELAY_USER",
                        "RELAY_USER and RELAY_PASSWORD go together");
    if (relay_host) {
        if (strlen(relay_host) > SH_MAX_HOST)
            return env_fail(err, var, "host too long");
        strcpy(host, relay_host);
        if (env("RELAY_PORT") && !parse_port("RELAY_PORT", env("RELAY_PORT"), &port, err))
            return false;
    } else if (!split_default_relay_host(dflt, host, sizeof(host), &port, err)) {
        return false;
    }
    if (!sh_host_parse(host, canon, &kind, &why))
        return env_fail(err, var, why);
    if (sh_snapshot_relay(s, "env"))
        return env_fail(err, var, "the file defines a relay named \"env\" already");
    if (s->default_relay)
        snapshot_warn(s, "default_relay \"%s\" (%s:%d) is overridden by %s from the environment",
                      s->default_relay->name, s->default_origin.file, s->default_origin.line, var);
    r = relay_new(s, "env", origin);
    r->host = xstrdup(canon);
    r->port = port;
    r->tls = SH_TLS_MAY;
    if (user) {
        struct sh_cred *c = xcalloc(1, sizeof(*c));
        size_t ulen = strlen(user), plen = strlen(password);

        if (strchr(user, ':') || ulen > 256)
            return env_fail(err, "RELAY_USER", "must be at most 256 characters without ':'");
        if (plen > 1024 || strpbrk(password, "\r\n"))
            return env_fail(err, "RELAY_PASSWORD", "must be one line of at most 1024 characters");
        s->creds = xreallocarray(s->creds, s->ncreds + 1, sizeof(*s->creds));
        s->creds[s->ncreds++] = c;
        c->name = xstrdup("env");
        c->user = xstrdup(user);
        c->password = xstrdup(password);
        c->kind = "env";
        c->sasl_answer = xcalloc(ulen + plen + 2, 1);
        sprintf(c->sasl_answer, "%s:%s", user, password);
        c->origin = origin;
        r->cred = c;
        r->tls = SH_TLS_ENCRYPT; /* docker-mailserver sets smtp_tls_security_level = encrypt */
    }
    if (port == 465) { /* RFC 8314: implicit TLS; docker-mailserver would try STARTTLS */
        r->implicit_tls = true;
        r->tls = SH_TLS_ENCRYPT;
    }
    r->tls_answer = xstrdup(sh_tls_level_name(r->tls));
    s->default_relay = r;
    s->default_origin = origin;
    return relay_finish(s, r, NULL, err);
}
