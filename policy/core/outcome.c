/* outcome.c - names for log lines; the wire mapping lives in each daemon. */
#include "outcome.h"

const char *sh_outcome_name(enum sh_outcome o)
{
    switch (o) {
    case SH_FOUND:
        return "found";
    case SH_NOTFOUND:
        return "notfound";
    case SH_TEMP:
        return "temp";
    case SH_PERM:
        return "perm";
    }
    return "unknown";
}
