/* map_query.h - one map lookup as text ("OK value", "NOTFOUND", ...) and the
 * snapshot's warnings, for unit tests of the maps. */
#ifndef SH_MAP_QUERY_H
#define SH_MAP_QUERY_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "maps.h"

static inline const char *q(const struct sh_snapshot *s, enum sh_map m, const char *key)
{
    static char out[600];
    struct sh_answer a;

    switch (sh_map_lookup(s, m, key, strlen(key), &a)) {
    case SH_FOUND:
        snprintf(out, sizeof(out), "OK %s", a.value);
        return out;
    case SH_NOTFOUND:
        return "NOTFOUND";
    case SH_TEMP:
        return "TEMP";
    case SH_PERM:
        return "PERM";
    }
    return "?";
}

static inline bool has_warning(const struct sh_snapshot *s, const char *text)
{
    for (size_t i = 0; i < s->nwarnings; i++)
        if (strstr(s->warnings[i], text))
            return true;
    return false;
}

#endif
