/* t_config_env.c - docker-mailserver's RELAY_* variables on top of the file. */
#include <stdlib.h>

#include "conf_fixture.h"
#include "maps.h"
#include "tap.h"

static void clear(void)
{
    unsetenv("RELAY_HOST");
    unsetenv("RELAY_PORT");
    unsetenv("DEFAULT_RELAY_HOST");
    unsetenv("RELAY_USER");
    unsetenv("RELAY_PASSWORD");
}

static const char *q(const char *conf, enum sh_map m, const char *key, struct sh_error *err)
{
    static char out[600];
    struct sh_snapshot *s = load_text(conf, err);
    struct sh_answer a;

    if (s == NULL)
        return "LOAD-ERROR";
    if (sh_map_lookup(s, m, key, strlen(key), &a) == SH_FOUND)
        snprintf(out, sizeof(out), "OK %s", a.value);
    else
        snprintf(out, sizeof(out), "NOTFOUND");
    sh_snapshot_free(s);
    return out;
}

int main(void)
{
    const char *excl = "relays = { own = { host = \"own.example\"; }; };\n"
                       "default_relay = \"own\";\n"
                       "senders = ( { match = \"@excluded.test\"; relay = \"direct\"; } );\n";
    struct sh_error err;

    clear();
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "NOTFOUND", "empty file, no env: direct");
    setenv("RELAY_HOST", "smtp.relay.example", 1);
    setenv("RELAY_PORT", "2525", 1);
    setenv("RELAY_USER", "user1", 1);
    setenv("RELAY_PASSWORD", "pass:1", 1);
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "OK [smtp.relay.example]:2525",
           "empty file + RELAY_HOST/PORT");
    is_str(q("", SH_MAP_SASL, "a@x.test", &err), "OK user1:pass:1", "RELAY_USER/PASSWORD");
    is_str(q("", SH_MAP_TLS, "[smtp.relay.example]:2525", &err), "OK encrypt",
           "credentials imply encrypt");
    is_str(q(excl, SH_MAP_RELAY, "a@excluded.test", &err), "NOTFOUND", "exclusion with RELAY_HOST");
    is_str(q(excl, SH_MAP_RELAY, "a@x.test", &err), "OK [smtp.relay.example]:2525",
           "RELAY_HOST overrides the file's default");
    setenv("DEFAULT_RELAY_HOST", "[other.example]:587", 1);
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "OK [smtp.relay.example]:2525",
           "RELAY_HOST wins over DEFAULT_RELAY_HOST");
    unsetenv("RELAY_HOST");
    unsetenv("RELAY_PORT");
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "OK [other.example]:587", "DEFAULT_RELAY_HOST");
    is_str(q(excl, SH_MAP_RELAY, "a@excluded.test", &err), "NOTFOUND",
           "exclusion with DEFAULT_RELAY_HOST");
    setenv("DEFAULT_RELAY_HOST", "[2001:db8::5]:587", 1);
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "OK [2001:db8::5]:587",
           "IPv6 DEFAULT_RELAY_HOST");
    setenv("DEFAULT_RELAY_HOST", "plain.example", 1);
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "OK [plain.example]:25", "host without port");
    setenv("DEFAULT_RELAY_HOST", "[bad.example]:99999", 1);
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "LOAD-ERROR", "bad port refused");
    ok(strstr(err.text, "DEFAULT_RELAY_HOST") != NULL, "error names the variable: %s", err.text);
    setenv("DEFAULT_RELAY_HOST", "[300.1.1.1]:25", 1);
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "LOAD-ERROR", "bad IPv4 refused");
    clear();
    setenv("RELAY_HOST", "smtp.relay.example", 1);
    setenv("RELAY_USER", "user1", 1);
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "LOAD-ERROR", "user without password refused");
    ok(strstr(err.text, "RELAY_PASSWORD") != NULL && strstr(err.text, "user1") == NULL,
       "error names the missing variable, no values: %s", err.text);
    setenv("RELAY_PORT", "0", 1);
    unsetenv("RELAY_USER");
    is_str(q("", SH_MAP_RELAY, "a@x.test", &err), "LOAD-ERROR", "RELAY_PORT 0 refused");
    clear();
    setenv("RELAY_HOST", "h.example", 1);
    is_str(q("relays = { env = { host = \"x.example\"; }; };", SH_MAP_RELAY, "a@x.test", &err),
           "LOAD-ERROR", "file relay named env refused");
    clear();
    return done_testing();
}
