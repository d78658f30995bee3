/* xalloc.c - allocation that exits through msg_fatal when memory runs out. */
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
