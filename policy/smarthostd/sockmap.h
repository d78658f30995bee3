/* sockmap.h - the socketmap protocol adapter: netstring "NAME KEY" -> core maps.
 *
 * The only place that knows both the wire (netstring, OK/NOTFOUND/TEMP/PERM)
 * and the core (maps, snapshots). One request, one reply, no state between.
 */
#ifndef SH_SOCKMAP_H
#define SH_SOCKMAP_H

#include <stddef.h>
#include "server.h"
#include "sockmap_codec.h"

/* The listener protocol; its wake value is the pinned struct sh_snapshot * (or NULL). */
extern const struct sh_proto sh_sockmap_proto;

/* The users (names, comma-separated) that may get a password from the sasl
 * map; NULL: root and postfix (Postfix's mail_owner), root alone where there is
 * no postfix user. An unknown name is fatal. Until called, root alone. Any other
 * peer, and a peer whose uid cannot be known, gets TEMP from the sasl map. */
void sockmap_sasl_users(const char *list);

/* Answer one request payload: the reply frame is queued on C (C may be NULL
 * for the fuzzer; the reply is then built and dropped). S may be NULL (no
 * configuration yet). false when the reply cannot be queued. */
struct sh_snapshot;
bool sockmap_answer(struct sh_conn *c, const struct sh_snapshot *s, const char *payload,
                    size_t len);

#endif
