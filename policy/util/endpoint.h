/* endpoint.h - listening endpoints in Postfix notation: unix:PATH, inet:HOST:PORT.
 *
 * Knows sockets only, nothing of the protocol spoken on them.
 */
#ifndef SH_ENDPOINT_H
#define SH_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

#define SH_ENDPOINT_TEXT_MAX 300
#define SH_ENDPOINT_MAX_FDS  8    /* addresses bound for one inet host name */
#define SH_UNIX_SOCKET_MODE  0660 /* the sasl map carries secrets: owner + group only */

struct sh_endpoint {
    enum { SH_EP_UNIX, SH_EP_INET } kind;
    char text[SH_ENDPOINT_TEXT_MAX];                        /* as given, for logs */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix */
    char host[256]; /* inet: without brackets; "" = any address */
    char port[6];   /* inet: validated 1-65535 */
    int fds[SH_ENDPOINT_MAX_FDS];
    size_t nfds;
    bool bound_path; /* unix: we created PATH and must unlink it */
    mode_t mode;     /* unix: the socket's mode, set after parsing; 0: SH_UNIX_SOCKET_MODE */
};

/* Parse SPEC into EP. false with a message in ERR (ERRLEN bytes). */
bool sh_endpoint_parse(const char *spec, struct sh_endpoint *ep, char *err, size_t errlen);

/* Bind and listen (non-blocking, close-on-exec). unix: a stale socket at PATH
 * is removed first (a live one is an error), the new one gets ep->mode (0660 unless set) and
 * group GID unless GID is (gid_t)-1. false with ERR set; nothing left open. */
bool sh_endpoint_listen(struct sh_endpoint *ep, gid_t gid, char *err, size_t errlen);

/* A blocking, close-on-exec client socket connected to EP (parsed, not
 * listening); inet tries each address of the host. -1 with errno set. */
int sh_endpoint_connect(const struct sh_endpoint *ep);

/* A unix socket at PATH with MODE and group GID (unless (gid_t)-1), without a path race:
 * MAKE(TMP, CTX, ...) creates the socket at TMP, inside a fresh mode-0700 directory next
 * to PATH; there it gets its mode and group, then rename() puts it at PATH. */
bool sh_unix_socket_place(const char *path, mode_t mode, gid_t gid,
                          bool (*make)(const char *tmp, void *ctx, char *err, size_t errlen),
                          void *ctx, char *err, size_t errlen);

/* Before binding EP (unix): a stale socket at its path is removed; a live one (someone
 * accepts connections) or anything that is not a socket is an error. */
bool sh_unix_socket_remove_stale(const struct sh_endpoint *ep, char *err, size_t errlen);

/* Close the listening sockets; unlink a unix socket we created. */
void sh_endpoint_close(struct sh_endpoint *ep);

#endif
