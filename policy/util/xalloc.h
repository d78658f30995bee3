/* xalloc.h - allocation that cannot fail: the one out-of-memory policy.
 *
 * Out of memory is fatal (msg_fatal): a daemon that cannot allocate cannot
 * answer correctly, and exiting makes Postfix tempfail and the service manager
 * restart it, which is safer than a half-built snapshot or a half-sent reply.
 */
#ifndef SH_XALLOC_H
#define SH_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
/* N zeroed objects of SIZE aligned to ALIGN (a power of two), for free(). */
void *xaligned_calloc(size_t align, size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
