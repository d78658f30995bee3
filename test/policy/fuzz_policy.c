/* fuzz_policy.c - policy requests through the codec and the rules (libFuzzer
 * target). The input is a byte stream as smtpd would send it: pipelined
 * requests, each evaluated against a real snapshot with an in-process store.
 * With clang: clang -g -fsanitize=fuzzer,address -Ipolicy -D_GNU_SOURCE
 *   test/policy/fuzz_policy.c policy/policy_codec.c <core sources> -lconfig ...
 * Under meson it is linked with test/fuzz/driver.c, which replays the corpus. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy_facts.h"
#include "ratelimit.h"
#include "snapshot.h"

#ifndef FUZZ_POLICY_CONFIG
#define FUZZ_POLICY_CONFIG "policy.conf"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sh_snapshot *snap;
static struct rl_store *mem;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = getenv("FUZZ_POLICY_CONFIG");
    struct sh_error err = {{0}};

    (void)argc, (void)argv;
    if ((snap = sh_config_load(path ? path : FUZZ_POLICY_CONFIG, &err)) == NULL) {
        fprintf(stderr, "fuzz_policy: %s\n", err.text);
        exit(1);
    }
    mem = rl_memory_new(1000);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data, *why;
    struct policy_request req;
    struct policy_facts f;
    struct policy_verdict v;
    size_t off = 0, used;

    while (off < size) {
        enum policy_parse r = policy_parse(buf + off, size - off, &req, &used, &why);
        if (r != POLICY_OK)
            break;
        if (used == 0 || used > size - off)
            abort(); /* the codec must always make progress within the input */
        policy_facts_of(&req, &f);
        policy_eval(snap, &f, mem, 1000, &v);
        if (v.action != POLICY_DUNNO && (v.text[0] == 0 || strchr(v.text, '\n')))
            abort(); /* a reply text must be one non-empty line */
        off += used;
    }
    return 0;
}
