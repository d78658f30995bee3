/* addr822.h - RFC 822 address text as Postfix's tok822 scanner and quote_822_local see it.
 *
 * A mail address travels in two forms (Postfix global/quote_822_local.c):
 * external (quoted: "a b"@x, as in MAIL FROM) and internal (unquoted: a b@x,
 * as smtpd hands it to the policy service and cleanup). Postfix's address
 * rewriting works on tokens of the external form (global/tok822_parse.c).
 * This codec gives the same tokens for the subset of forms an envelope
 * address can take: atoms, quoted strings, domain literals and the operators
 * @ % ! . : , (the last two only in a source route). Anything else (comments,
 * white space or a backslash outside quotes, angle brackets, an unbalanced
 * quote or bracket, two words side by side) is refused: Postfix would
 * re-space or re-quote it in ways a rule cannot be sure of.
 */
#ifndef SH_ADDR822_H
#define SH_ADDR822_H

#include <stdbool.h>
#include <stddef.h>

enum { A822_ATOM = 256, A822_QSTRING, A822_DOMLIT };

/* One token: an operator character, or a word whose text is P[0..LEN) (a
 * quoted string's or domain literal's content, escapes kept, without its
 * quotes or brackets). P points into the scanned text or a caller's string. */
struct a822_tok {
    int type;
    const char *p;
    size_t len;
};

/* Tokens of the external form S[0..LEN) into T (CAP slots); false when S is
 * not of the subset above or has more than CAP tokens. */
bool a822_scan(const char *s, size_t len, struct a822_tok *t, size_t cap, size_t *n);

/* T[0..N) back to external text (tok822_externalize) into OUT (CAP bytes,
 * NUL-terminated); -1 when it does not fit. */
int a822_externalize(const struct a822_tok *t, size_t n, char *out, size_t cap);

/* quote_822_local(): the internal address IN as external text (the local part
 * quoted when it is not a dot-string; 8-bit bytes left alone); -1 when it
 * does not fit in OUT (CAP bytes). */
int a822_quote_local(const char *in, char *out, size_t cap);

/* unquote_822_local(): external IN to internal text; -1 when it does not fit. */
int a822_unquote_local(const char *in, char *out, size_t cap);

#endif
