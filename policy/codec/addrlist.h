/* addrlist.h - RFC 5322 address lists (From, Sender, Reply-To, ...) as mailboxes with positions.
 *
 * The parser follows RFC 5322 section 3.4 with the obsolete forms of section 4.4 that real
 * mail still carries: obs-route in an angle-addr, obs-local-part and obs-domain with CFWS
 * between their words, obs-phrase (dots in a display name), empty list elements. Groups
 * (RFC 6854 allows them in From) are reported with their members. Like Postfix
 * (tok822_parse.c) it treats 8-bit bytes as text and leaves encoded words (RFC 2047) as
 * they are: they are atoms of a display name, and a `<` inside one ends the atom, so
 * `=?utf-8?Q?<c@x>?= <a@x>` is refused, not read as either address.
 *
 * Where Postfix repairs (it supplies missing commas, reads an unterminated quote or comment
 * to the end, takes the right-most <> as the address), this parser refuses: its callers
 * rewrite an address, and a value that Postfix, a relay and an MUA could each read as a
 * different address must not be rewritten as one of them. Accepted beyond RFC 5322, as
 * Postfix and MUAs do: `@` in an unquoted display name (`a@x <a@x>`, the name ends at `<`)
 * and empty or repeated dots in a local part (`john..doe@x`).
 *
 * Positions are byte offsets into the value, so a caller can replace exactly the addr-spec
 * and keep display names, comments and folding as written.
 */
#ifndef SH_ADDRLIST_H
#define SH_ADDRLIST_H

#include <stdbool.h>
#include <stddef.h>

#define SH_ADDRLIST_MAX_MAILBOXES 128 /* per header value */
#define SH_ADDRLIST_MAX_GROUPS    16  /* per header value */

struct sh_span {
    size_t off, len;
};

struct sh_mailbox {
    struct sh_span whole; /* the mailbox, first to last token (CFWS around it excluded) */
    struct sh_span name;  /* display name as written; len 0: none */
    struct sh_span
        inside;           /* between `<` and `>`: obs-route, addr-spec and CFWS; len 0 without <> */
    struct sh_span route; /* obs-route `@a,@b:` as written; len 0: none */
    struct sh_span
        spec; /* addr-spec, first to last token: what a rewrite of a bare address replaces */
    struct sh_span local;  /* local part as written (may hold CFWS in obsolete forms) */
    struct sh_span domain; /* domain as written */
    bool angle;            /* name-addr / angle-addr form */
    int group;             /* index into groups, -1 outside any */
};

struct sh_group {
    struct sh_span name; /* display name before the `:` */
    size_t first, n;     /* its mailboxes: mbox[first .. first + n) */
};

struct sh_addrlist {
    struct sh_mailbox mbox[SH_ADDRLIST_MAX_MAILBOXES];
    size_t n;
    struct sh_group group[SH_ADDRLIST_MAX_GROUPS];
    size_t ngroups;
};

/* Parse the LEN bytes at S (a header value, maybe folded). True with OUT filled; false with
 * *WHY (static text) and *AT (the byte offset where the trouble was found). An empty value,
 * or one with only CFWS, parses to no mailboxes. */
bool sh_addrlist_parse(const char *s, size_t len, struct sh_addrlist *out, const char **why,
                       size_t *at);

/* The text of SPAN without CFWS: comments and white space outside quoted strings dropped,
 * folding inside them unfolded (`john (x) . doe` -> `john.doe`, `"a\r\n b"` -> `"a b"`).
 * False when it does not fit in CAP bytes with its NUL. */
bool sh_addrlist_text(const char *s, struct sh_span span, char *out, size_t cap);

#endif
