/* strmap.h - immutable-after-build string hash map (open addressing, seeded FNV-1a: hash.h).
 *
 * glibc's hsearch_r hashes only the first 8 bytes of a key, and our keys
 * (user@domain, @domain) share long prefixes, so it degrades to a list scan.
 * Keys are copied; values are borrowed and never NULL. Lookups on a built map are read-only
 * and safe from many threads at once.
 */
#ifndef SH_STRMAP_H
#define SH_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap;

struct strmap *strmap_new(size_t expected);
/* Insert key -> value. Returns the existing value (and changes nothing) when the
 * key is already present, NULL otherwise. Out of memory is fatal (xalloc.h): the
 * daemon exits rather than answer from a half-built map. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Replace the value of an existing key; false when the key is absent. */
bool strmap_update(struct strmap *m, const char *key, void *value);
void *strmap_get(const struct strmap *m, const char *key, size_t len);
size_t strmap_count(const struct strmap *m);
void strmap_free(struct strmap *m);

#endif
