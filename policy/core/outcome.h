/* outcome.h - the one result type of every lookup in the core.
 *
 * Each daemon translates it to its wire in exactly one function
 * (socketmap OK/NOTFOUND/TEMP/PERM, policy action=, milter SMFIS_*).
 * NOTFOUND is not an error and FOUND may carry an empty answer: keep them apart.
 */
#ifndef SH_OUTCOME_H
#define SH_OUTCOME_H

enum sh_outcome {
    SH_FOUND,    /* answer present (may be empty) */
    SH_NOTFOUND, /* no entry: the client uses its default */
    SH_TEMP,     /* internal trouble: the client must retry later, never bounce */
    SH_PERM,     /* the request itself is invalid */
};

const char *sh_outcome_name(enum sh_outcome o);

#endif
