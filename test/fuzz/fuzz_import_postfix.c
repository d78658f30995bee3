/* fuzz_import_postfix.c - fuzz target for `smarthostctl import postfix`: the input's
 * sections (separated by "%%" lines) are main.cf, then the tables relaymap, sasl_passwd,
 * tls_policy, transport and xp (sender_dependent_default_transport_maps), all in one
 * directory that main.cf reaches as $config_directory, beside a master.cf with smtp and
 * a wrappermode smtps. Values come through the real postconf, as in the verb; the result
 * is never committed. Each input runs postconf several times: few mutations per seed,
 * and a main.cf postconf itself would die on (it sleeps a second first) is skipped:
 * that is Postfix's parser, not ours. main.cf gets an mtime in the past, or postconf
 * waits until the file has been still for a second. */
#include <ctype.h>
#include <sys/time.h>

#include "ctl_relay.h"
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_import_setup();
    static const char master[] = "smtp unix - - n - - smtp\n"
                                 "smtps unix - - n - - smtp\n"
                                 "  -o smtp_tls_wrappermode=yes\n"
                                 "  -o smtp_fallback_relay=[fb.example]:465\n";
    fuzz_write("master.cf", master, sizeof(master) - 1);
    return 0;
}

/* Every line a comment, blank, a continuation or "name = value". */
static bool postconf_accepts(const uint8_t *p, size_t len)
{
    bool first = true;

    if (memchr(p, 0, len))
        return false;
    for (size_t i = 0; i + 1 < len; i++)
        if (p[i] == '$' && (p[i + 1] == '{' || p[i + 1] == '('))
            return false; /* postconf dies on a malformed ${name...} */
    for (size_t i = 0; i < len;) {
        size_t j = i;
        if (p[i] == '#' || p[i] == '\n' || ((p[i] == ' ' || p[i] == '\t') && !first)) {
            ;
        } else {
            while (j < len && (isalnum(p[j]) || p[j] == '_'))
                j++;
            if (j == i)
                return false;
            while (j < len && (p[j] == ' ' || p[j] == '\t'))
                j++;
            if (j == len || p[j] != '=')
                return false;
            first = false;
        }
        while (i < len && p[i] != '\n')
            i++;
        i++;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *files[] = {"main.cf",    "relaymap",  "sasl_passwd",
                                  "tls_policy", "transport", "xp"};
    struct ctl_managed m;
    bool encrypt_auth = size % 2 == 0; /* --encrypt-auth for every other input */

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const uint8_t *part;
        size_t len = fuzz_section(&data, &size, &part);
        const char *path;
        if (i == 0 && !postconf_accepts(part, len))
            return 0;
        path = fuzz_write(files[i], part, len);
        if (i == 0) {
            struct timeval old[2];
            gettimeofday(&old[0], NULL);
            old[0].tv_sec -= 10;
            old[1] = old[0];
            utimes(path, old);
        }
    }
    fuzz_quiet();
    fuzz_import_open(&m);
    (void)ctl_import_postfix(&m, fuzz_tmpdir(), encrypt_auth);
    fuzz_import_close(&m);
    fuzz_loud();
    return 0;
}
