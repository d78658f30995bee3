/* ctl_postfix.c - `smarthostctl postfix-conf [ADDR [QUEUE_DIRECTORY]]`: the lines
 * that hook Postfix up to smarthostd (ADDR is the daemon's --socketmap address), and
 * `smarthostctl defaults`: the packaged sockets, files and lines, one per line. Both
 * print core/hookup.h's table, which `postfix-setup` applies (ctl_setup.c). */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "ctl_postfix.h"
#include "ctl_usage.h"
#include "maps.h"

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

const char *ctl_pf_value(const struct sh_hookup_param *p, const char *map_addr, char *buf,
                         size_t cap)
{
    if (p->map == SH_HOOKUP_NO_MAP)
        return p->value;
    snprintf(buf, cap, "socketmap:%s:%s", map_addr, sh_map_name((enum sh_map)p->map));
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

const char *ctl_pf_relay_transport(const char *path, char *buf, size_t cap)
{
    struct sh_error err;
    struct sh_snapshot *s = sh_config_load(path, &err);

    snprintf(buf, cap, "%s", s ? s->smarthost_transport : "smarthost");
    if (s)
        sh_snapshot_free(s);
    return buf;
}

void ctl_postfix_conf_usage(FILE *out)
{
    fprintf(out, "usage: smarthostctl [-c FILE] postfix-conf "
                 "[unix:PATH|inet:HOST:PORT [QUEUE_DIRECTORY]]\n"
                 "  ADDR: smarthostd's --socketmap address (default " SH_HOOKUP_SOCKETMAP ")\n");
}

int ctl_postfix_conf(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : SH_HOOKUP_SOCKETMAP;
    const char *queue = argc > 2 ? argv[2] : SH_HOOKUP_QUEUE_DIRECTORY;
    char rel[512], value[600], transport[128], relayed[128];
    const char *map;

    if (argc > 3) {
        ctl_postfix_conf_usage(stderr);
        return CTL_USAGE;
    }
    map = ctl_pf_relative(addr, queue, rel, sizeof(rel));
    ctl_pf_transport(ctx->config_path, transport, sizeof(transport));
    printf("# main.cf (apply with postconf -e, or `smarthostctl postfix-setup`)\n");
    for (size_t i = 0; i < sh_hookup_nmain; i++) {
        const char *v = ctl_pf_value(&sh_hookup_main[i], map, value, sizeof(value));
        printf("%s =%s%s\n", sh_hookup_main[i].name, *v ? " " : "", v);
    }
    ctl_pf_relay_transport(ctx->config_path, relayed, sizeof(relayed));
    printf("\n# master.cf: the relay transport (sender-dependent AUTH here only)\n"
           "%s " SH_HOOKUP_SMTPS_FIELDS "\n",
           relayed);
    for (size_t i = 0; sh_hookup_relay_opts[i]; i++)
        printf("  -o %s\n", sh_hookup_relay_opts[i]);
    printf("\n# master.cf: the implicit-TLS (port 465) relay transport\n%s " SH_HOOKUP_SMTPS_FIELDS
           "\n",
           transport);
    for (size_t i = 0; sh_hookup_smtps_opts[i]; i++)
        printf("  -o %s\n", sh_hookup_smtps_opts[i]);
    return CTL_OK;
}

void ctl_defaults_usage(FILE *out)
{
    fprintf(out, "usage: smarthostctl defaults\n"
                 "  the packaged daemons' sockets, control sockets, pidfiles and the Postfix\n"
                 "  hookup, one \"KEY VALUE\" a line (the units and postfix-conf use these)\n");
}

int ctl_defaults(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct {
        const char *key, *value;
    } paths[] = {
        {"queue_directory", SH_HOOKUP_QUEUE_DIRECTORY},
        {"socket_dir", SH_HOOKUP_SOCKET_DIR},
        {"socketmap", SH_HOOKUP_SOCKETMAP},
        {"policy", SH_HOOKUP_POLICY},
        {"milter", SH_HOOKUP_MILTER},
        {"control", SH_HOOKUP_CONTROL},
        {"pidfile", SH_HOOKUP_PIDFILE},
        {"milter_control", SH_HOOKUP_MILTER_CONTROL},
        {"milter_pidfile", SH_HOOKUP_MILTER_PIDFILE},
        {"setup_state", SH_HOOKUP_SETUP_STATE},
    };
    char rel[512], value[600], transport[128], relayed[128];
    const char *map;

    (void)argv;
    if (argc > 1) {
        ctl_defaults_usage(stderr);
        return CTL_USAGE;
    }
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        printf("%s %s\n", paths[i].key, paths[i].value);
    /* The sockets as main.cf names them: relative to the queue directory. */
    printf("socketmap_main_cf %s\n",
           ctl_pf_relative(SH_HOOKUP_SOCKETMAP, SH_HOOKUP_QUEUE_DIRECTORY, rel, sizeof(rel)));
    printf("policy_main_cf %s\n",
           ctl_pf_relative(SH_HOOKUP_POLICY, SH_HOOKUP_QUEUE_DIRECTORY, rel, sizeof(rel)));
    printf("milter_main_cf %s\n",
           ctl_pf_relative(SH_HOOKUP_MILTER, SH_HOOKUP_QUEUE_DIRECTORY, rel, sizeof(rel)));
    map = ctl_pf_relative(SH_HOOKUP_SOCKETMAP, SH_HOOKUP_QUEUE_DIRECTORY, rel, sizeof(rel));
    for (size_t i = 0; i < sh_hookup_nmain; i++) {
        const char *v = ctl_pf_value(&sh_hookup_main[i], map, value, sizeof(value));
        printf("main.cf %s =%s%s\n", sh_hookup_main[i].name, *v ? " " : "", v);
    }
    for (size_t i = 0; sh_hookup_milter_params[i]; i++)
        printf("milter.cf %s = %s\n", sh_hookup_milter_params[i],
               ctl_pf_relative(SH_HOOKUP_MILTER, SH_HOOKUP_QUEUE_DIRECTORY, rel, sizeof(rel)));
    ctl_pf_relay_transport(ctx->config_path, relayed, sizeof(relayed));
    printf("master.cf %s " SH_HOOKUP_SMTPS_FIELDS, relayed);
    for (size_t i = 0; sh_hookup_relay_opts[i]; i++)
        printf(" -o %s", sh_hookup_relay_opts[i]);
    printf("\n");
    ctl_pf_transport(ctx->config_path, transport, sizeof(transport));
    printf("master.cf %s " SH_HOOKUP_SMTPS_FIELDS, transport);
    for (size_t i = 0; sh_hookup_smtps_opts[i]; i++)
        printf(" -o %s", sh_hookup_smtps_opts[i]);
    printf("\n");
    return CTL_OK;
}
