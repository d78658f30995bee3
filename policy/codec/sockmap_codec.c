/* sockmap_codec.c - split a socketmap request payload into its map name and key. */
#include <string.h>

#include "sockmap_codec.h"

enum sockmap_parse sockmap_parse(const char *payload, size_t len, size_t max_key,
                                 struct sockmap_request *r)
{
    const char *sp = memchr(payload, ' ', len);

    memset(r, 0, sizeof(*r));
    if (sp == NULL)
        return SOCKMAP_REQ_NO_SPACE;
    r->name = payload;
    r->name_len = (size_t)(sp - payload);
    r->key = sp + 1;
    r->key_len = len - r->name_len - 1;
    if (r->name_len == 0)
        return SOCKMAP_REQ_EMPTY_NAME;
    if (r->key_len > max_key)
        return SOCKMAP_REQ_KEY_TOO_LONG;
    return SOCKMAP_REQ_OK;
}
