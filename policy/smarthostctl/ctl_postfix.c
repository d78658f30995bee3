/* ctl_postfix.c - `smarthostctl postfix-conf [ADDR [QUEUE_DIRECTORY]]`: the lines
 * that hook Postfix up to smarthostd. ADDR is the daemon's --socketmap address.
 * The lines themselves are tables shared with `postfix-setup` (ctl_setup.c). */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "ctl_postfix.h"
#include "ctl_usage.h"

#define DEFAULT_SPOOL_SOCKET "unix:" CTL_PF_QUEUE_DIRECTORY "/private/smarthostd"

const struct ctl_pf_param ctl_pf_main[] = {
    {"relayhost", NULL, ""},
    {"sender_dependent_relayhost_maps", "relay", NULL},
    {"sender_dependent_default_transport_maps", "sender_transport", NULL},
    {"smtp_sasl_auth_enable", NULL, "yes"},
    {"smtp_sender_dependent_authentication", NULL, "yes"},
    {"smtp_sasl_password_maps", "sasl", NULL},
    {"smtp_sasl_security_options", NULL, "noanonymous"},
    {"smtp_sasl_tls_security_options", NULL, "noanonymous"},
    {"smtp_tls_security_level", NULL, "may"},
    {"smtp_tls_policy_maps", "tls", NULL},
    {"transport_maps", "transport", NULL},
};
const size_t ctl_pf_nmain = sizeof(ctl_pf_main) / sizeof(ctl_pf_main[0]);

const char *const ctl_pf_smtps_opts[] = {
    "smtp_tls_wrappermode=yes",
    "smtp_tls_security_level=encrypt",
    NULL,
};

const char *ctl_pf_relative(const char *addr, const char *queue, char *buf, size_t cap)
{
    size_t qlen = strlen(queue);

    /* Postfix daemons run in (and may be chrooted to) the queue directory:
     * name a socket under it relative to it so it resolves either way. */
    while (qlen > 1 && queue[qlen - 1] == '/')
        qlen--;
    if (strncmp(addr, "unix:", 5) == 0 && strncmp(addr + 5, queue, qlen) == 0 &&
        addr[5 + qlen] == '/') {
        if ((size_t)snprintf(buf, cap, "unix:%s", addr + 5 + qlen + 1) < cap)
            return buf;
    }
    return addr;
}

const char *ctl_pf_value(const struct ctl_pf_param *p, const char *map_addr, char *buf, size_t cap)
{
    if (p->map == NULL)
        return p->value;
    snprintf(buf, cap, "socketmap:%s:%s", map_addr, p->map);
    return buf;
}

const char *ctl_pf_transport(const char *path, char *buf, size_t cap)
{
    struct sh_error err;
    struct sh_snapshot *s = sh_config_load(path, &err);

    if (s == NULL) {
        ctl_warn("%s (using defaults)", err.text);
        snprintf(buf, cap, "smarthost-smtps");
        return buf;
    }
    snprintf(buf, cap, "%s", s->implicit_tls_transport);
    sh_snapshot_free(s);
    return buf;
}

void ctl_postfix_conf_usage(FILE *out)
{
    fprintf(out, "usage: smarthostctl [-c FILE] postfix-conf "
                 "[unix:PATH|inet:HOST:PORT [QUEUE_DIRECTORY]]\n"
                 "  ADDR: smarthostd's --socketmap address (default " DEFAULT_SPOOL_SOCKET ")\n");
}

int ctl_postfix_conf(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : DEFAULT_SPOOL_SOCKET;
    const char *queue = argc > 2 ? argv[2] : CTL_PF_QUEUE_DIRECTORY;
    char rel[512], value[600], transport[128];
    const char *map;

    if (argc > 3) {
        ctl_postfix_conf_usage(stderr);
        return CTL_USAGE;
    }
    map = ctl_pf_relative(addr, queue, rel, sizeof(rel));
    ctl_pf_transport(ctx->config_path, transport, sizeof(transport));
    printf("# main.cf (apply with postconf -e, or `smarthostctl postfix-setup`)\n");
    for (size_t i = 0; i < ctl_pf_nmain; i++) {
        const char *v = ctl_pf_value(&ctl_pf_main[i], map, value, sizeof(value));
        printf("%s =%s%s\n", ctl_pf_main[i].name, *v ? " " : "", v);
    }
    printf("\n# master.cf: the implicit-TLS (port 465) transport\n%s " CTL_PF_SMTPS_FIELDS "\n",
           transport);
    for (size_t i = 0; ctl_pf_smtps_opts[i]; i++)
        printf("  -o %s\n", ctl_pf_smtps_opts[i]);
    return CTL_OK;
}
