/* peercred.c - peer uid of unix (SO_PEERCRED) and loopback TCP (sock_diag) connections. */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peercred.h"

/* One side of a TCP connection, in the byte order inet_diag wants (network). */
struct tcp_end {
    int family; /* AF_INET or AF_INET6 */
    uint32_t addr[4];
    uint16_t port;
};

/* A sockaddr as a tcp_end; an IPv4-mapped IPv6 address becomes the IPv4 one,
 * since the client on the other side of a dual-stack socket is an AF_INET socket. */
static bool tcp_end(const struct sockaddr_storage *ss, struct tcp_end *e)
{
    memset(e, 0, sizeof(*e));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        e->family = AF_INET;
        e->addr[0] = sin->sin_addr.s_addr;
        e->port = sin->sin_port;
        return true;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        e->port = sin6->sin6_port;
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            e->family = AF_INET;
            memcpy(&e->addr[0], &sin6->sin6_addr.s6_addr[12], 4);
        } else {
            e->family = AF_INET6;
            memcpy(e->addr, &sin6->sin6_addr, 16);
        }
        return true;
    }
    return false;
}

static bool loopback(const struct tcp_end *e)
{
    static const uint32_t v6_loopback[4] = {0, 0, 0, 0};
    const unsigned char *b = (const unsigned char *)e->addr;

    if (e->family == AF_INET)
        return b[0] == 127;
    return memcmp(e->addr, v6_loopback, 12) == 0 && b[12] == 0 && b[13] == 0 && b[14] == 0 &&
           b[15] == 1; /* ::1 */
}

/* The states of a socket that is still one end of a live connection. A
 * TIME_WAIT or FIN_WAIT2 "socket" the client closed is a mini socket that
 * reports uid 0; a lookup that found a listener or a half-open request socket
 * is not the client either. */
static bool live_state(unsigned char state)
{
    return state == TCP_ESTABLISHED || state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 ||
           state == TCP_CLOSE_WAIT;
}

/* Ask the kernel for the TCP socket whose local end is PEER and remote end is
 * SELF: the client's socket, whose owner is the user who connected to us. */
static bool diag_uid(const struct tcp_end *peer, const struct tcp_end *self, uid_t *uid)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } rq;
    union {
        struct nlmsghdr nlh;
        char buf[1024];
    } rp;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    const struct inet_diag_msg *m;
    ssize_t n;
    int fd;

    memset(&rq, 0, sizeof(rq));
    rq.nlh.nlmsg_len = sizeof(rq);
    rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    rq.nlh.nlmsg_flags = NLM_F_REQUEST; /* one exact socket, not a dump */
    rq.nlh.nlmsg_seq = 1;
    rq.req.sdiag_family = (uint8_t)peer->family;
    rq.req.sdiag_protocol = IPPROTO_TCP;
    rq.req.idiag_states = ~0U;
    rq.req.id.idiag_sport = peer->port;
    rq.req.id.idiag_dport = self->port;
    memcpy(rq.req.id.idiag_src, peer->addr, sizeof(peer->addr));
    memcpy(rq.req.id.idiag_dst, self->addr, sizeof(self->addr));
    rq.req.id.idiag_cookie[0] = rq.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) < 0)
        return false;
    if (sendto(fd, &rq, sizeof(rq), 0, (struct sockaddr *)&kernel, sizeof(kernel)) !=
        (ssize_t)sizeof(rq)) {
        close(fd);
        return false;
    }
    /* The kernel answers while sendto() runs: the reply is queued already, so a
     * worker thread never blocks here. */
    do
        n = recv(fd, &rp, sizeof(rp), MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    close(fd);

    if (n < (ssize_t)sizeof(struct nlmsghdr) || !NLMSG_OK(&rp.nlh, (unsigned)n) ||
        rp.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY || rp.nlh.nlmsg_seq != 1 ||
        rp.nlh.nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
        return false; /* NLMSG_ERROR (no such socket), short or foreign reply */
    m = NLMSG_DATA(&rp.nlh);
    /* The socket found must be exactly the one asked for, alive and attached
     * to a file (idiag_inode 0: orphaned, timewait or request socket). */
    if (m->idiag_family != peer->family || m->id.idiag_sport != peer->port ||
        m->id.idiag_dport != self->port ||
        memcmp(m->id.idiag_src, peer->addr, peer->family == AF_INET ? 4 : 16) != 0 ||
        memcmp(m->id.idiag_dst, self->addr, self->family == AF_INET ? 4 : 16) != 0 ||
        !live_state(m->idiag_state) || m->idiag_inode == 0)
        return false;
    *uid = (uid_t)m->idiag_uid;
    return true;
}

bool sh_peer_uid(int fd, uid_t *uid)
{
    struct sockaddr_storage local, remote;
    socklen_t llen = sizeof(local), rlen = sizeof(remote);
    struct tcp_end self, peer;

    if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0)
        return false;
    if (local.ss_family == AF_UNIX) {
        struct ucred cr;
        socklen_t len = sizeof(cr);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr) ||
            cr.uid == (uid_t)-1) /* -1: the kernel has no credentials for this socket */
            return false;
        *uid = cr.uid;
        return true;
    }
    if (getpeername(fd, (struct sockaddr *)&remote, &rlen) < 0 || !tcp_end(&local, &self) ||
        !tcp_end(&remote, &peer) || self.family != peer.family)
        return false;
    /* Only a loopback peer is a local process the kernel can name; the same
     * address tuple on another host says nothing about a local user. */
    if (!loopback(&peer) || !loopback(&self))
        return false;
    return diag_uid(&peer, &self, uid);
}
