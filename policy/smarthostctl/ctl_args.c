/* ctl_args.c - the CLI's argument checks, each naming the bad field. */
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_args.h"

#define RESOLVE_SECONDS 2 /* a relay host that takes longer is reported as not resolving */

bool ctl_bad(const char *field, const char *value, const char *why)
{
    ctl_err("%s \"%.80s\": %s", field, value, why);
    return false;
}

bool ctl_norm_domain(const char *in, char *out)
{
    size_t len;

    if (*in == '@')
        in++;
    len = strlen(in);
    if (len > SH_MAX_HOST || !sh_domain_valid(in, len))
        return ctl_bad("domain", in, "not a valid domain name");
    for (size_t i = 0; i <= len; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    return true;
}

void ctl_domain_relay_name(const char *domain, char *out)
{
    size_t i;

    out[0] = 'd', out[1] = '_';
    for (i = 0; domain[i] && i < SH_MAX_HOST; i++)
        out[i + 2] = domain[i] == '.' ? '_' : domain[i];
    out[i + 2] = 0;
}

/* "name:587" or "[name]:587": a port glued to the host (one colon, digits after it). */
static bool glued_port(const char *in)
{
    const char *colon = strrchr(in, ':');

    if (colon == NULL || colon[1] == 0 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return false;
    return in[0] == '[' ? colon > in && colon[-1] == ']' : strchr(in, ':') == colon;
}

bool ctl_parse_host(const char *in, char *canon)
{
    char buf[SH_MAX_HOST + 3];
    enum sh_host_kind kind;
    const char *why;
    size_t len = strlen(in);

    if (len > SH_MAX_HOST + 2)
        return ctl_bad("host", in, "too long");
    if (glued_port(in))
        return ctl_bad("host", in,
                       "give the port as its own argument (HOST PORT, e.g. smtp.example.com 587)");
    if (in[0] == '[' && len > 2 && in[len - 1] == ']') { /* Postfix's [host]: no MX lookup */
        snprintf(buf, sizeof(buf), "%.*s", (int)(len - 2), in + 1);
        in = buf;
    }
    return sh_host_parse(in, canon, &kind, &why) || ctl_bad("host", in, why);
}

bool ctl_parse_port(const char *in, int *port)
{
    char *end;
    long v;

    *port = 25;
    if (in == NULL)
        return true;
    v = strtol(in, &end, 10);
    if (*in == 0 || *end != 0 || v < 1 || v > 65535)
        return ctl_bad("port", in, "must be a number from 1 to 65535");
    *port = (int)v;
    return true;
}

bool ctl_user_valid(const char *u)
{
    size_t len = strlen(u);

    if (len == 0 || len > CTL_MAX_USER)
        return ctl_bad("user", u, "must be 1-256 characters");
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == ':')
            return ctl_bad("user", u, "no spaces, control characters or ':'");
    return true;
}

bool ctl_address_valid(const char *what, const char *addr, bool null_ok)
{
    const char *at = strrchr(addr, '@');
    size_t dlen;

    if (null_ok && strcmp(addr, "<>") == 0)
        return true;
    for (const char *p = addr; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return ctl_bad(what, addr, "not an address: no spaces or control characters");
    if (at == NULL || at == addr)
        return ctl_bad(what, addr,
                       null_ok ? "not an address: write user@domain, or <> for the "
                                 "null sender"
                               : "not an address: write user@domain");
    dlen = strlen(at + 1);
    if (dlen > 0 && at[dlen] == '.') /* a trailing dot, as in "example.com." */
        dlen--;
    if (dlen == 0 || !sh_domain_valid(at + 1, dlen))
        return ctl_bad(what, addr, "not an address: the part after '@' is not a domain");
    return true;
}

void ctl_warn_unresolvable(const char *canon, const char *relay)
{
    /* static: a lookup glibc cannot cancel may still write here after we return */
    static struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    static struct gaicb req;
    static char name[SH_MAX_HOST + 1];
    struct gaicb *list[1] = {&req};
    struct timespec limit = {.tv_sec = RESOLVE_SECONDS};
    enum sh_host_kind kind;
    char tmp[SH_MAX_HOST + 1];
    const char *why;
    int rc;

    if (!sh_host_parse(canon, tmp, &kind, &why) || kind != SH_HOST_NAME)
        return;
    snprintf(name, sizeof(name), "%s", canon);
    req = (struct gaicb){.ar_name = name, .ar_request = &hints};
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
        ctl_warn("host \"%s\": cannot look it up now; check it with: smarthostctl probe %s", canon,
                 relay);
        return;
    }
    rc = gai_suspend((const struct gaicb *const *)list, 1, &limit);
    if (rc != 0 && (rc = gai_error(&req)) == EAI_INPROGRESS) {
        gai_cancel(&req);
        ctl_warn("host \"%s\" did not resolve within %d s; saved anyway: check it with: "
                 "smarthostctl probe %s",
                 canon, RESOLVE_SECONDS, relay);
        return; /* a lookup glibc could not cancel ends with the process */
    }
    if ((rc = gai_error(&req)) != 0) {
        ctl_warn("host \"%s\" does not resolve now (%s); saved anyway: check it with: "
                 "smarthostctl probe %s",
                 canon, gai_strerror(rc), relay);
        return;
    }
    freeaddrinfo(req.ar_result);
}
