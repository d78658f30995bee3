/* ctl_postfix.c - `smarthostctl postfix-conf [ADDR [QUEUE_DIRECTORY]]`: the lines
 * that hook Postfix up to smarthostd. ADDR is the daemon's --socketmap address. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"

#define DEFAULT_QUEUE_DIRECTORY "/var/spool/postfix"
#define DEFAULT_SPOOL_SOCKET    "unix:" DEFAULT_QUEUE_DIRECTORY "/private/smarthostd"

int ctl_postfix_conf(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : DEFAULT_SPOOL_SOCKET, *map = addr;
    const char *queue = argc > 2 ? argv[2] : DEFAULT_QUEUE_DIRECTORY;
    const char *transport = "smarthost-smtps";
    size_t qlen = strlen(queue);
    char rel[512];
    struct sh_snapshot *s;
    struct sh_error err;

    if (argc > 3) {
        fprintf(stderr, "usage: smarthostctl [-c FILE] postfix-conf "
                        "[unix:PATH|inet:HOST:PORT [QUEUE_DIRECTORY]]\n");
        return CTL_USAGE;
    }
    /* Postfix daemons run in (and may be chrooted to) the queue directory:
     * name a socket under it relative to it so it resolves either way. */
    while (qlen > 1 && queue[qlen - 1] == '/')
        qlen--;
    if (strncmp(addr, "unix:", 5) == 0 && strncmp(addr + 5, queue, qlen) == 0 &&
        addr[5 + qlen] == '/') {
        snprintf(rel, sizeof(rel), "unix:%s", addr + 5 + qlen + 1);
        map = rel;
    }
    if ((s = sh_config_load(ctx->config_path, &err)) != NULL) {
        transport = s->implicit_tls_transport;
    } else {
        fprintf(stderr, "warning: %s (using defaults)\n", err.text);
    }
    printf("# main.cf (apply with postconf -e, or `smarthostctl postfix-setup` later)\n"
           "relayhost =\n"
           "sender_dependent_relayhost_maps = socketmap:%s:relay\n"
           "sender_dependent_default_transport_maps = socketmap:%s:sender_transport\n"
           "smtp_sasl_auth_enable = yes\n"
           "smtp_sender_dependent_authentication = yes\n"
           "smtp_sasl_password_maps = socketmap:%s:sasl\n"
           "smtp_sasl_security_options = noanonymous\n"
           "smtp_sasl_tls_security_options = noanonymous\n"
           "smtp_tls_security_level = may\n"
           "smtp_tls_policy_maps = socketmap:%s:tls\n"
           "transport_maps = socketmap:%s:transport\n"
           "\n# master.cf: the implicit-TLS (port 465) transport\n"
           "%s unix - - n - - smtp\n"
           "  -o smtp_tls_wrappermode=yes\n"
           "  -o smtp_tls_security_level=encrypt\n",
           map, map, map, map, map, transport);
    if (s)
        sh_snapshot_free(s);
    return CTL_OK;
}
