/* fuzz_probe.c - fuzz target for `smarthostctl probe`'s SMTP reply reader: a loopback
 * server thread sends the input (after its first byte) as the relay's whole side of the
 * dialogue, then closes; ctl_probe_relay() talks to it as it would to a real relay.
 * The first byte picks the relay: bits 0-1 the tls level (none, may, encrypt, verify),
 * bit 2 a credential, bit 3 implicit TLS. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_managed.h"
#include "fuzz_util.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int listener;
static unsigned port;

struct serve {
    const uint8_t *data;
    size_t size;
};

/* One connection: the input out, then EOF; whatever the client says is drained. */
static void *serve(void *arg)
{
    struct serve *s = arg;
    char sink[4096];
    int fd = accept(listener, NULL, NULL);

    if (fd < 0)
        return NULL;
    for (size_t off = 0; off < s->size;) {
        ssize_t n = send(fd, s->data + off, s->size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    while (recv(fd, sink, sizeof(sink), 0) > 0)
        ;
    close(fd);
    return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);

    (void)argc, (void)argv;
    signal(SIGPIPE, SIG_IGN);
    if ((listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind(listener, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(listener, 4) != 0 ||
        getsockname(listener, (struct sockaddr *)&sa, &len) != 0)
        abort();
    port = ntohs(sa.sin_port);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum sh_tls_level levels[] = {SH_TLS_NONE, SH_TLS_MAY, SH_TLS_ENCRYPT,
                                               SH_TLS_VERIFY};
    char user[] = "fuzz-user", password[] = "fuzz-password", name[] = "fuzz";
    char host[] = "127.0.0.1", nexthop[] = "[127.0.0.1]";
    struct sh_cred cred = {.name = name, .user = user, .password = password};
    struct sh_relay r = {.name = name, .host = host, .nexthop = nexthop, .nexthops = nexthop};
    struct serve s = {.data = data + (size > 0), .size = size ? size - 1 : 0};
    uint8_t flags = size ? data[0] : 0;
    struct ctl_probe_opts opts = {0}; /* Postfix's built-in smtp_tls_* values */
    pthread_t t;

    if (s.size > 32768) /* the reader stops at 100 lines of 512 bytes anyway */
        s.size = 32768;
    r.port = port;
    r.tls = levels[flags & 3];
    r.cred = flags & 4 ? &cred : NULL;
    r.implicit_tls = (flags & 8) != 0;
    if (pthread_create(&t, NULL, serve, &s) != 0)
        abort();
    fuzz_quiet();
    (void)ctl_probe_relay(&r, r.cred, &opts);
    fuzz_loud();
    pthread_join(t, NULL);
    return 0;
}
