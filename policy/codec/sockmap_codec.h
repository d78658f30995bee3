/* sockmap_codec.h - a socketmap request payload, "NAME KEY" (socketmap_table(5)). */
#ifndef SH_SOCKMAP_CODEC_H
#define SH_SOCKMAP_CODEC_H

#include <stddef.h>

enum sockmap_parse {
    SOCKMAP_REQ_OK,
    SOCKMAP_REQ_NO_SPACE,   /* "NAME KEY" without the space */
    SOCKMAP_REQ_EMPTY_NAME, /* " KEY" */
    SOCKMAP_REQ_KEY_TOO_LONG,
};

struct sockmap_request {
    const char *name; /* not NUL-terminated */
    size_t name_len;
    const char *key; /* not NUL-terminated; may be empty */
    size_t key_len;
};

/* Split a request payload at its first space; a key longer than MAX_KEY is refused.
 * Pure; the fuzz target. */
enum sockmap_parse sockmap_parse(const char *payload, size_t len, size_t max_key,
                                 struct sockmap_request *r);

#endif
