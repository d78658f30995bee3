/* canon.h - an envelope address as Postfix will deliver it: the one form every rule judges.
 *
 * The policy service sees MAIL FROM and RCPT TO as smtpd parsed them (internal
 * form); the milter sees the client's text (external form). Postfix then
 * rewrites both before anything is delivered or routed, and a rule that
 * judges the text it was shown judges a different address:
 *   - cleanup(8) rewrites the sender in the local context (cleanup_addr.c,
 *     trivial-rewrite/rewrite.c): a source route @a,@b:u@c is dropped, an
 *     address without @ gets domain!user -> user@domain (swap_bangpath), else
 *     user%domain -> user@domain (allow_percent_hack), else @$myorigin
 *     (append_at_myorigin); a domain without a dot gets .$mydomain
 *     (append_dot_mydomain); one trailing dot goes; mailer-daemon@$myorigin
 *     becomes the null sender. "<>" and "a b" are local parts like any other.
 *   - smtpd's relay check rewrites a recipient the same way and then resolves
 *     it (smtpd_resolve.c, trivial-rewrite/resolve.c): each local domain is
 *     stripped and what is left is rewritten again, so user%remote@local and
 *     remote!user@local go to remote; a quoted local part is opened up for
 *     @ % ! (resolve_dequoted_address).
 * The canonical key is then lowercase (ASCII), its domain in A-label form
 * (libidn2, UTS 46 non-transitional, as Postfix's ICU code does), so
 * boss@bücher.test and boss@xn--bcher-kva.test are one address, and rules are
 * loaded in that form too. What cannot be mirrored for sure (a form outside
 * addr822.h's subset, a bad IDN, a setting needed but not known) is
 * SH_CANON_UNJUDGEABLE: the caller refuses it.
 */
#ifndef SH_CANON_H
#define SH_CANON_H

#include <stdbool.h>
#include <stddef.h>

#define SH_CANON_MAX_NAME 255

/* The Postfix settings the rewriting depends on (postconf(5) names). An empty
 * myorigin, mydomain or myhostname is "not known": an address that would need
 * it cannot be judged. */
struct sh_canon {
    bool allow_percent_hack;       /* Postfix default yes */
    bool swap_bangpath;            /* yes */
    bool append_at_myorigin;       /* yes */
    bool append_dot_mydomain;      /* no (compatibility_level >= 1) */
    bool resolve_dequoted_address; /* yes */
    char myorigin[SH_CANON_MAX_NAME + 1];
    char mydomain[SH_CANON_MAX_NAME + 1];
    char myhostname[SH_CANON_MAX_NAME + 1];
};

/* Postfix's defaults, with myorigin, mydomain and myhostname not known. */
void sh_canon_defaults(struct sh_canon *c);

enum sh_canon_result {
    SH_CANON_OK,
    SH_CANON_NULL,        /* the null sender (or no recipient) */
    SH_CANON_UNJUDGEABLE, /* refuse: *why says why */
};

enum sh_canon_form {
    SH_CANON_INTERNAL, /* as smtpd hands it on: the policy service's sender= and recipient= */
    SH_CANON_EXTERNAL, /* as the client wrote it, <> optional: the milter's MAIL FROM argument */
};

/* The sender IN[0..LEN) as cleanup(8) will write it to the queue file, as a
 * canonical key into OUT (SH_MAX_KEY + 1 bytes). */
enum sh_canon_result sh_canon_sender(const struct sh_canon *c, const char *in, size_t len,
                                     enum sh_canon_form form, char *out, const char **why);

/* The recipient IN[0..LEN) as smtpd's relay check resolves it: OUT gets the
 * rewritten address as a canonical key (what cleanup will queue), *LOCAL
 * whether it resolves to a domain IS_LOCAL(CTX, canonical domain) accepts,
 * after Postfix has stripped every local domain and rewritten what was left. */
enum sh_canon_result sh_canon_recipient(const struct sh_canon *c, const char *in, size_t len,
                                        enum sh_canon_form form,
                                        bool (*is_local)(void *ctx, const char *domain), void *ctx,
                                        char *out, bool *local, const char **why);

/* A domain name as rules compare it: lowercase, one trailing dot dropped,
 * U-labels as A-labels. false for a name libidn2 refuses or that does not fit
 * OUT (CAP bytes). A domain literal ([...]) is only lowercased. */
bool sh_canon_domain(const char *in, size_t len, char *out, size_t cap);

/* The length of the local part of ADDR (up to its last @) without its
 * extension, or 0 when Postfix would not split it (split_addr.c): no
 * delimiter, a delimiter first, postmaster, mailer-daemon, double-bounce, and
 * with '-' among DELIMS owner-* and *-request (owner_request_special). */
size_t sh_canon_noext(const char *addr, size_t len, const char *delims);

#endif
