/* fuzz_import_dms.c - fuzz target for `smarthostctl import dms`: the input's sections
 * (separated by "%%" lines) are postfix-relaymap.cf, postfix-sasl-password.cf and
 * environment lines (RELAY_HOST=..., DEFAULT_RELAY_HOST=...); the verb's own file is
 * compiled in to reach its reader, and the result is never committed. */
#include "fuzz_import.h"

#include "ctl_import.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_import_setup();
    return 0;
}

static void set_env(const uint8_t *p, size_t len)
{
    static const char *names[] = {"RELAY_HOST", "RELAY_PORT", "DEFAULT_RELAY_HOST", "RELAY_USER",
                                  "RELAY_PASSWORD"};
    char line[1024], *save = NULL;

    snprintf(line, sizeof(line), "%.*s", (int)len, (const char *)p);
    for (char *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(l, '=');
        if (eq == NULL)
            continue;
        *eq = 0;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(l, names[i]) == 0)
                setenv(l, eq + 1, 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part;
    size_t len;
    struct ctl_managed m;

    len = fuzz_section(&data, &size, &part);
    fuzz_write("postfix-relaymap.cf", part, len);
    len = fuzz_section(&data, &size, &part);
    fuzz_write("postfix-sasl-password.cf", part, len);
    len = fuzz_section(&data, &size, &part);
    set_env(part, len);
    fuzz_quiet();
    fuzz_import_open(&m);
    (void)import_dms(&m, fuzz_tmpdir());
    fuzz_import_close(&m);
    fuzz_loud();
    unsetenv("RELAY_HOST"), unsetenv("RELAY_PORT"), unsetenv("DEFAULT_RELAY_HOST");
    unsetenv("RELAY_USER"), unsetenv("RELAY_PASSWORD");
    return 0;
}
