/* ctl_import_pfxport.c - a master.cf transport as `import postfix` judges it: is it
 * smtp(8), does it speak implicit TLS, its default TLS level and fallback relays, and
 * which of its -o settings smarthostd has no equivalent for. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_import_pfxport.h"
#include "ctl_postconf.h"

/* -o settings a smarthostd relay reproduces: wrappermode is implicit_tls, the level
 * is the relay's tls (the policy table still wins, as in Postfix), the fallback relays
 * are its failover; a log name changes nothing about the route. */
static const char *const expressible[] = {"smtp_tls_wrappermode", "smtp_tls_security_level",
                                          "smtp_fallback_relay", "syslog_name", NULL};

static bool yes(const char *v)
{
    return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* One "NAME/unix/PARAM = VALUE" line of postconf -Px. */
static void apply(struct pf_xport *x, char *line)
{
    char *param = strchr(line, '/'), *eq, *v;
    size_t plen;

    if (param == NULL || (param = strchr(param + 1, '/')) == NULL ||
        (eq = strstr(param, " =")) == NULL)
        return;
    param++;
    plen = (size_t)(eq - param);
    v = eq + 2 + (eq[2] == ' '); /* an empty value has no space after "=" */
    if (plen == strlen("smtp_tls_wrappermode") && strncmp(param, "smtp_tls_wrappermode", plen) == 0)
        x->implicit = yes(v);
    else if (plen == strlen("smtp_tls_security_level") &&
             strncmp(param, "smtp_tls_security_level", plen) == 0)
        snprintf(x->level, sizeof(x->level), "%s", v);
    else if (plen == strlen("smtp_fallback_relay") &&
             strncmp(param, "smtp_fallback_relay", plen) == 0)
        snprintf(x->fallback, sizeof(x->fallback), "%s", v);
    for (size_t i = 0; expressible[i]; i++)
        if (plen == strlen(expressible[i]) && strncmp(param, expressible[i], plen) == 0)
            return;
    if (x->other[0] == 0)
        snprintf(x->other, sizeof(x->other), "%.*s", (int)plen, param);
}

bool pf_xport_read(const char *dir, const char *name, const char *level, bool wrapper,
                   const char *fallback, struct pf_xport *x)
{
    char service[80], field[96];
    const char *margs[] = {"-Fh", field, NULL}, *pargs[] = {"-Px", service, NULL};
    char *text = NULL, *save = NULL;

    memset(x, 0, sizeof(*x));
    snprintf(x->name, sizeof(x->name), "%s", name);
    snprintf(x->level, sizeof(x->level), "%s", level);
    snprintf(x->fallback, sizeof(x->fallback), "%s", fallback);
    x->implicit = wrapper;
    snprintf(service, sizeof(service), "%s/unix", name);
    snprintf(field, sizeof(field), "%s/unix/command", name);
    if (ctl_postconf(dir, margs, &text) != 0) {
        free(text);
        ctl_err("import postfix: postconf -c %s -Fh %s failed", dir, field);
        return false;
    }
    /* The command field: the program, then its -o settings (postconf -P reads those). */
    x->defined = text[0] != 0 && !isspace((unsigned char)text[0]);
    x->smtp = x->defined && strncmp(text, "smtp", 4) == 0 &&
              (text[4] == 0 || isspace((unsigned char)text[4]));
    free(text);
    text = NULL;
    if (!x->defined)
        return true;
    if (ctl_postconf(dir, pargs, &text) != 0) {
        free(text);
        ctl_err("import postfix: postconf -c %s -Px %s failed", dir, service);
        return false;
    }
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        apply(x, l);
    free(text);
    return true;
}
