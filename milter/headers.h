/* headers.h - the milter's header logic without libmilter: the headers of one
 * message (and its envelope sender) in, an ordered list of edits out.
 *
 * Edits come out in an order that is safe whatever the MTA does with indexes:
 * inserts by descending position, then changes/deletes by descending position
 * (so a delete never shifts a header we still have to address), then appends,
 * then the envelope sender change. CHANGE/DELETE indexes are 1-based among the
 * headers of the same name (smfi_chgheader); INSERT positions are 0-based among
 * all headers the milter saw (smfi_insheader). Postfix hides its own Received
 * header from milters and accounts for it itself.
 */
#ifndef SH_HEADERS_H
#define SH_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "outcome.h"
#include "snapshot.h"

struct sh_hdr {
    char *name;
    char *value;
};

struct sh_msg {
    struct sh_hdr *h;
    size_t n, cap;
    size_t bytes;  /* sum of name + value lengths */
    bool oversize; /* a bound was crossed: the message must not pass as is */
};

enum sh_edit_kind {
    SH_EDIT_INSERT,  /* smfi_insheader(idx, name, value) */
    SH_EDIT_CHANGE,  /* smfi_chgheader(name, idx, value); value NULL deletes */
    SH_EDIT_ADD,     /* smfi_addheader(name, value) */
    SH_EDIT_CHGFROM, /* smfi_chgfrom(value) */
};

struct sh_edit {
    enum sh_edit_kind kind;
    char *name;
    char *value;
    unsigned idx;
};

struct sh_plan {
    struct sh_edit *e;
    size_t n, cap;
    const char *why; /* static text, or why_text, when the outcome is not SH_FOUND */
    /* A header the sender rewrite must change cannot be parsed: the message is refused (as
     * default_action says, but tempfail where it says accept), never passed unrewritten. */
    bool unjudged;
    char why_text[300];
};

/* What the plan needs to know besides the headers. */
struct sh_msg_env {
    const char *sender; /* envelope sender as given at MAIL FROM, <> stripped or not */
    time_t now;
    const char *unique;   /* left part of a new Message-ID (queue id + random) */
    const char *hostname; /* used when the config names none */
};

void sh_msg_init(struct sh_msg *m);
void sh_msg_reset(struct sh_msg *m);
/* Record one header; false (and m->oversize) when a bound is crossed. */
bool sh_msg_add(struct sh_msg *m, const char *name, const char *value);

/* SH_FOUND: P holds the edits (maybe none). SH_PERM: the message must be
 * rejected (oversize, invalid sender). SH_TEMP: internal trouble. P->why says
 * why for both; P->unjudged marks a From or Sender that cannot be parsed. Callers free P with
 * sh_plan_free() in every case. */
enum sh_outcome sh_plan_build(const struct sh_snapshot *s, const struct sh_msg *m,
                              const struct sh_msg_env *env, struct sh_plan *p);
void sh_plan_free(struct sh_plan *p);

/* Does this Received value name an internal host or address of C? */
struct sh_milter_conf;
bool sh_received_internal(const struct sh_milter_conf *c, const char *value);

/* "<sender>" / "sender" -> sender without brackets, into OUT (cap bytes). */
bool sh_envelope_addr(const char *in, char *out, size_t cap);

#endif
