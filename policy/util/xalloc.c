/* xalloc.c - allocation that exits through msg_fatal when memory runs out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xalloc.h"

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        msg_fatal("out of memory");
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        msg_fatal("out of memory");
    return p;
}

void *xaligned_calloc(size_t align, size_t n, size_t size)
{
    void *p;

    if (n == 0)
        n = 1;
    if (size == 0)
        size = 1;
    if (n > SIZE_MAX / size || posix_memalign(&p, align, n * size) != 0)
        msg_fatal("out of memory");
    return memset(p, 0, n * size);
}

void *xreallocarray(void *p, size_t n, size_t size)
{
    if ((p = reallocarray(p, n ? n : 1, size ? size : 1)) == NULL)
        msg_fatal("out of memory");
    return p;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        msg_fatal("out of memory");
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (p == NULL)
        msg_fatal("out of memory");
    return p;
}
