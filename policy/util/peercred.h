/* peercred.h - the user id behind the other end of a local stream connection.
 *
 * Unix sockets: SO_PEERCRED. Loopback TCP: the kernel's socket table through
 * NETLINK_SOCK_DIAG (inet_diag), asked for the peer's own socket by its exact
 * address tuple; its owner is the local user who opened the connection.
 * Anything else (a remote peer, an unknown family, a peer socket already closed
 * or owned by nobody the kernel names) has no uid: the caller refuses it.
 */
#ifndef SH_PEERCRED_H
#define SH_PEERCRED_H

#include <stdbool.h>
#include <sys/types.h>

/* FD: an accepted, connected stream socket. true with *UID set, or false when
 * the peer's uid cannot be known for sure (errno is not meaningful then). */
bool sh_peer_uid(int fd, uid_t *uid);

#endif
