/* ctl_postfix.c - `smarthostctl postfix-conf [ADDR]`: the lines that hook
 * Postfix up to smarthostd. ADDR is the daemon's --socketmap address. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"

#define DEFAULT_SPOOL_SOCKET "unix:/var/spool/postfix/private/smarthostd"

int ctl_postfix_conf(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : DEFAULT_SPOOL_SOCKET, *map = addr;
    const char *transport = "smarthost-smtps";
    char rel[512];
    struct sh_snapshot *s;
    struct sh_error err;

    if (argc > 2) {
        fprintf(stderr, "usage: smarthostctl [-c FILE] postfix-conf [unix:PATH|inet:HOST:PORT]\n");
        return CTL_USAGE;
    }
    /* Postfix daemons run in (and may be chrooted to) the queue directory:
     * name a socket under it relative to it so it resolves either way. */
    if (strncmp(addr, "unix:/var/spool/postfix/", 24) == 0) {
        snprintf(rel, sizeof(rel), "unix:%s", addr + 24);
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
