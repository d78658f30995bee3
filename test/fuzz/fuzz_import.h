/* fuzz_import.h - the config tree the import fuzz targets edit: a main config that
 * @includes managed.conf and names a fresh vault key, all in the fuzz temp dir.
 * Nothing is ever committed, so managed.conf stays empty between inputs. */
#ifndef SH_FUZZ_IMPORT_H
#define SH_FUZZ_IMPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_managed.h"
#include "fuzz_util.h"
#include "vault.h"

static char fuzz_main_conf[256];

static inline void fuzz_import_setup(void)
{
    unsigned char key[SH_VAULT_KEY_LEN];
    char text[64], conf[512];
    const char *path;

    if (!sh_vault_key_new(key, text))
        abort();
    path = fuzz_write("vault.key", text, strlen(text));
    chmod(path, 0600);
    snprintf(conf, sizeof(conf),
             "recipient_delimiter = \"+\";\nvault_key = \"%s/vault.key\";\n"
             "@include \"managed.conf\"\n",
             fuzz_tmpdir());
    snprintf(fuzz_main_conf, sizeof(fuzz_main_conf), "%s",
             fuzz_write("main.conf", conf, strlen(conf)));
    /* no daemon of this machine is ever told to reload */
    setenv("SMARTHOSTD_PIDFILE", "/nonexistent/smarthostd.pid", 1);
    setenv("SMARTHOSTD_MILTER_PIDFILE", "/nonexistent/smarthostd-milter.pid", 1);
    unsetenv("RELAY_HOST"), unsetenv("RELAY_PORT"), unsetenv("DEFAULT_RELAY_HOST");
    unsetenv("RELAY_USER"), unsetenv("RELAY_PASSWORD");
}

/* Open the managed model of the fuzz tree; aborts when it cannot be opened. */
static inline void fuzz_import_open(struct ctl_managed *m)
{
    struct ctl_ctx ctx = {.config_path = fuzz_main_conf};

    if (!ctl_managed_open(m, &ctx))
        abort();
}

/* Serialize what the import left in the model (the text a commit would validate). */
static inline void fuzz_import_close(struct ctl_managed *m)
{
    size_t len = 0;
    char *text = ctl_managed_text(m, &len);

    if (text && strlen(text) != len)
        abort();
    free(text);
    ctl_managed_close(m);
}

#endif
