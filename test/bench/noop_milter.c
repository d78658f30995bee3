/* noop_milter.c - the cheapest libmilter milter there is, as a floor for the
 * Postfix end-to-end benchmark: it asks the MTA to skip every step it can and
 * answers end of message with CONTINUE, so what remains is what any milter
 * costs Postfix (a connection, negotiation, the end-of-message round trip).
 *
 *   noop_milter [-c IGNORED] [-f] -p unix:PATH|inet:PORT@HOST
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static sfsistat noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                               unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                               unsigned long *pf2, unsigned long *pf3)
{
    const unsigned long skip = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT |
                               SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN |
                               SMFIP_NODATA;
    (void)ctx;
    (void)f0;
    (void)f2;
    (void)f3;
    *pf0 = 0;
    *pf1 = f1 & skip;
    *pf2 = *pf3 = 0;
    return SMFIS_CONTINUE;
}

static sfsistat noop_eom(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    .xxfi_name = "noop",
    .xxfi_version = SMFI_VERSION,
    .xxfi_eom = noop_eom,
    .xxfi_negotiate = noop_negotiate,
};

int main(int argc, char **argv)
{
    const char *sock = NULL;
    int ch;

    while ((ch = getopt(argc, argv, "c:fp:")) != -1)
        if (ch == 'p')
            sock = optarg;
    if (sock == NULL) {
        fprintf(stderr, "usage: noop_milter -p SOCKET\n");
        return 2;
    }
    umask(007);
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn((char *)sock) != MI_SUCCESS ||
        smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "noop_milter: cannot listen on %s\n", sock);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
