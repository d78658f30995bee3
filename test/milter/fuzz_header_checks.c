/* fuzz_header_checks.c - fuzz target for the header_checks parser.
 *
 * Under meson test, test/fuzz/driver.c replays the committed seeds and their
 * mutations; with clang, link it with -fsanitize=fuzzer instead of the driver.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sh_hc_rule *rules = NULL;
    size_t n = 0;
    struct sh_hc_error err = {0};

    (void)sh_header_checks_parse((const char *)data, size, &rules, &n, &err);
    if (strnlen(err.text, sizeof(err.text)) == sizeof(err.text))
        abort(); /* the error text must stay terminated */
    sh_hc_rules_free(rules, n);
    return 0;
}
