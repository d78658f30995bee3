/* milter_conf.h - the `milter` group: header rules for smarthostd-milter.
 *
 * Only data and its loader live here (the core knows no libmilter); the
 * engine that applies these rules to a message is milter/headers.c.
 */
#ifndef SH_MILTER_CONF_H
#define SH_MILTER_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <libconfig.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "cidr.h"
#include "config.h"
#include "senderset.h"

/* Bounds on what one message may carry to the milter (Postfix's own
 * header_size_limit is 100 KiB per header). Beyond them: reject, never pass. */
#define SH_MILTER_MAX_HEADERS      1000
#define SH_MILTER_MAX_HEADER       (100 * 1024)  /* name + value of one header */
#define SH_MILTER_MAX_HEADER_BYTES (1024 * 1024) /* all headers of a message */
#define SH_MILTER_MAX_HC_FILE      (4 * 1024 * 1024)

/* What to answer when the milter itself is in trouble (OpenDKIM On-InternalError). */
enum sh_milter_default {
    SH_MDEF_TEMPFAIL,
    SH_MDEF_ACCEPT,
    SH_MDEF_REJECT,
};

/* The policy service's SMTP-time rules and mail from sendmail(1)/pickup,
 * which has no SASL login and no TLS to show. */
enum sh_local_submission {
    SH_LOCAL_TRUST,   /* a local user is authenticated by the system: rules not applied */
    SH_LOCAL_ENFORCE, /* apply them as to SMTP mail, at end of message */
};

enum sh_hdr_op {
    SH_HDR_REMOVE,  /* drop the header (header_checks IGNORE) */
    SH_HDR_REPLACE, /* config: new value; header_checks: a whole new header line */
    SH_HDR_PREPEND, /* header_checks: insert a header line before it */
    SH_HDR_ADD,     /* config: append NAME: VALUE to every message */
    SH_HDR_DUNNO,   /* header_checks DUNNO/OK: stop looking, keep it */
    SH_HDR_WARN,    /* header_checks WARN/INFO: log, keep it */
};

struct sh_hdr_rule {
    enum sh_hdr_op op;
    char *name;                   /* exact header name (case-insensitive), or NULL */
    pcre2_code *re;               /* config: on the name; header_checks: on "Name: value" */
    bool whole;                   /* header_checks rule: RE sees "Name: value", TEXT may use $1 */
    bool negate;                  /* header_checks "!/re/" */
    char *text;                   /* REPLACE/ADD value, or header_checks "Name: value" template */
    const struct sh_relay *relay; /* only for mail routed to this relay; NULL: all */
    struct sh_sender_set senders; /* only for these senders (config rules); empty: all */
    struct sh_origin origin;
};

struct sh_unsub {
    struct sh_sender_set senders; /* `domain = "d"` is senders = [ "@d" ] */
    char *url;                    /* List-Unsubscribe value, "<https://...>, <mailto:...>" */
    bool one_click;
};

struct sh_rewrite {
    const struct sh_relay *relay;
    char *identity;   /* envelope sender (and From address) mail to RELAY must carry */
    bool from_header; /* rewrite From too, keeping the original in Reply-To */
};

struct sh_milter_conf {
    enum sh_milter_default on_error;
    enum sh_local_submission local_submission;
    char *hostname; /* right-hand side of Message-IDs we add */
    bool add_date, add_message_id;

    bool privacy; /* the privacy group is present */
    struct sh_cidr *nets;
    size_t nnets;
    char **host_patterns; /* fnmatch(3) globs, caseless */
    size_t nhost_patterns;
    bool remove_originating; /* X-Originating-IP, X-PHP-Originating-Script */
    bool remove_mailer;      /* X-Mailer, User-Agent */

    struct sh_hdr_rule *rules; /* `headers` rules first, then header_checks lines */
    size_t nrules;
    size_t nconfig_rules; /* rules[0..nconfig_rules) come from `headers` */

    struct sh_unsub *unsubs;
    size_t nunsubs;
    struct sh_rewrite *rewrites;
    size_t nrewrites;
};

/* Parse GROUP (the top-level `milter` setting) into s->milter; relays and
 * sender rules are already loaded. false with err->text = "FILE:LINE: ..." */
bool sh_milter_conf_load(struct sh_snapshot *s, const config_setting_t *group,
                         struct sh_error *err);
void sh_milter_conf_free(struct sh_milter_conf *p);

#endif
