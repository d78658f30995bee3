/* fuzz_sockmap.c - socketmap requests through the adapter and the core maps
 * (libFuzzer target). The input is a byte stream as a client would send it:
 * pipelined netstrings, each answered against a real snapshot. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "msg.h"
#include "netstring.h"
#include "resolve.h" /* SH_MAX_KEY */
#include "snapshot.h"
#include "sockmap.h"

#ifndef FUZZ_SOCKMAP_CONFIG
#define FUZZ_SOCKMAP_CONFIG "sockmap.conf"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sh_snapshot *snap;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = getenv("FUZZ_SOCKMAP_CONFIG");
    struct sh_error err = {{0}};

    (void)argc, (void)argv;
    if ((snap = sh_config_load(path ? path : FUZZ_SOCKMAP_CONFIG, &err)) == NULL) {
        fprintf(stderr, "fuzz_sockmap: %s\n", err.text);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct sockmap_request r;
    struct netstring_frame f;
    size_t off = 0;

    if (snap == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    /* The raw parser on the whole input. */
    if (sockmap_parse(buf, size, SH_MAX_KEY, &r) == SOCKMAP_REQ_OK &&
        (r.name_len + 1 + r.key_len != size || r.key_len > 512))
        abort();
    /* The stream, frame by frame, answered with and without a configuration. */
    while (netstring_decode(buf + off, size - off, NETSTRING_MAX_REQUEST, &f) ==
           NETSTRING_COMPLETE) {
        sockmap_answer(NULL, snap, f.data, f.len);
        sockmap_answer(NULL, NULL, f.data, f.len);
        off += f.consumed;
    }
    return 0;
}
