/* ctl_setup_lanes.c - master.cf transports for the config's lanes, never offering a sender's
 * password.
 *
 * Where smtp_sender_dependent_authentication is on (the hookup turns it on for the relay
 * transports only), Postfix's smtp(8) looks the SENDER up in smtp_sasl_password_maps
 * first and offers the answer to whatever server it is connected to, once that server
 * advertises AUTH. A lane sends mail to its own nexthop, so a lane server would be
 * handed the password of the sender's relay. A lane transport defined here keeps it
 * off even if main.cf turns it on: AUTH off for a lane server, or (when every nexthop
 * of the lane is one of our relays) credentials looked up by nexthop only, which
 * smarthostd answers with that relay's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "ctl_postconf.h"
#include "ctl_setup.h"
#include "snapshot.h"

#define MAX_NAME 64

/* The transport name of "name:nexthop" into BUF; false when too long. */
static bool lane_name(const char *transport, char *buf)
{
    size_t n = strcspn(transport, ":");

    if (n >= MAX_NAME)
        return false;
    memcpy(buf, transport, n);
    buf[n] = 0;
    return true;
}

static bool is_relay_nexthop(const struct sh_snapshot *snap, const char *nexthop)
{
    for (size_t i = 0; i < snap->nrelays; i++)
        if (strcasecmp(snap->relays[i]->nexthop, nexthop) == 0)
            return true;
    return false;
}

/* Does every lane with transport NAME go to one of our relays? */
static bool all_to_relays(const struct sh_snapshot *snap, const char *name)
{
    char other[MAX_NAME];

    for (size_t i = 0; i < snap->ntransports; i++) {
        const char *t = snap->transports[i].transport;
        if (lane_name(t, other) && strcmp(other, name) == 0 &&
            !is_relay_nexthop(snap, strchr(t, ':') + 1))
            return false;
    }
    return true;
}

/* master.cf's entry NAME/unix, judged: true when it is not an smtp(8) client, or has
 * AUTH off, or does not turn sender-dependent AUTH on (main.cf has it off: the hookup).
 * *EXISTS false when there is none. */
static bool judge_existing(const struct setup *s, const char *name, bool *exists)
{
    char service[MAX_NAME + 8], *out = NULL, cmd[64] = "";
    const char *args[] = {"-M", service, NULL};
    bool safe;

    snprintf(service, sizeof(service), "%s/unix", name);
    if (ctl_postconf(s->dir, args, &out) != 0) {
        free(out);
        *exists = false;
        return false;
    }
    if (!(*exists = strspn(out, " \t\n") != strlen(out))) {
        free(out);
        return false;
    }
    /* name type private unpriv chroot wakeup maxproc command args... */
    sscanf(out, "%*s %*s %*s %*s %*s %*s %*s %63s", cmd);
    safe = strcmp(cmd, "smtp") != 0 || strstr(out, "smtp_sasl_auth_enable=no") != NULL ||
           strstr(out, "smtp_sender_dependent_authentication=yes") == NULL;
    free(out);
    return safe;
}

bool setup_lanes(struct setup *s, const struct sh_snapshot *snap)
{
    char name[MAX_NAME], seen[MAX_NAME];

    for (size_t i = 0; i < snap->ntransports; i++) {
        bool exists, dup = false;
        if (!lane_name(snap->transports[i].transport, name)) {
            ctl_warn("lane \"%.80s\": transport name too long", snap->transports[i].transport);
            continue;
        }
        for (size_t j = 0; j < i && !dup; j++)
            dup = lane_name(snap->transports[j].transport, seen) && strcmp(seen, name) == 0;
        if (dup || strcmp(name, snap->implicit_tls_transport) == 0 ||
            strcmp(name, snap->smarthost_transport) == 0)
            continue;
        if (judge_existing(s, name, &exists)) {
            printf("master.cf %s/unix    (kept: the admin's; no sender password goes to its "
                   "servers)\n",
                   name);
            continue;
        }
        if (exists) {
            ctl_warn("lane transport \"%s\" (master.cf) offers the sender's relay password to "
                     "any lane server that advertises AUTH: add -o smtp_sasl_auth_enable=no "
                     "to it, or give the lane a transport of its own that postfix-setup defines",
                     name);
            continue;
        }
        char syslog[MAX_NAME + 32];
        const char *opts[] = {syslog,
                              all_to_relays(snap, name) ? "smtp_sender_dependent_authentication=no"
                                                        : "smtp_sasl_auth_enable=no",
                              NULL};
        snprintf(syslog, sizeof(syslog), "syslog_name=postfix/%s", name);
        if (!setup_master_entry(s, name, opts))
            return false;
    }
    return true;
}
