/* sockmap.c - socketmap requests in, core lookups, socketmap replies out. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "metrics.h"
#include "msg.h"
#include "netstring.h"
#include "resolve.h"
#include "snapshot.h"
#include "sockmap.h"

/* The one place where an outcome becomes socketmap wire text. NOTFOUND carries
 * no text ("NOTFOUND " with its space, as Postfix expects); FOUND may carry an
 * empty value, which is not the same as NOTFOUND. */
static bool reply(struct sh_conn *c, enum sh_outcome o, const char *text)
{
    static const char *const status[] = {
        [SH_FOUND] = "OK ",
        [SH_NOTFOUND] = "NOTFOUND ",
        [SH_TEMP] = "TEMP ",
        [SH_PERM] = "PERM ",
    };
    char hdr[NETSTRING_HDR_MAX];
    const char *st;
    size_t slen, tlen, hlen;

    if ((unsigned)o >= sizeof(status) / sizeof(status[0]))
        o = SH_TEMP, text = "internal error";
    if (o == SH_NOTFOUND || text == NULL)
        text = "";
    st = status[o];
    slen = strlen(st);
    tlen = strlen(text);
    if (slen + tlen > NETSTRING_MAX_REPLY) {
        msg_warn("socketmap: answer longer than %d bytes", NETSTRING_MAX_REPLY);
        st = status[SH_TEMP], text = "answer too long";
        slen = strlen(st), tlen = strlen(text);
    }
    hlen = netstring_header(hdr, slen + tlen);
    if (c == NULL) /* fuzzing: built, not sent */
        return true;
    return sh_conn_send(c, hdr, hlen) && sh_conn_send(c, st, slen) && sh_conn_send(c, text, tlen) &&
           sh_conn_send(c, ",", 1);
}

/* What matched, for the lookup log: "via=domain rule=@x origin=f:12 relay=r". */
static void describe(const struct sh_snapshot *s, enum sh_map m, const struct sh_answer *a,
                     char *buf, size_t cap)
{
    buf[0] = 0;
    if (a->has_decision) {
        const struct sh_decision *d = &a->decision;
        const struct sh_origin *o = d->rule                    ? &d->rule->origin
                                    : d->via == SH_VIA_DEFAULT ? &s->default_origin
                                                               : NULL;
        snprintf(buf, cap, " via=%s rule=%s origin=%s:%d relay=%s", sh_via_name(d->via),
                 d->rule ? d->rule->key : "-", o && o->file ? o->file : "-", o ? o->line : 0,
                 d->relay ? d->relay->name : "direct");
    } else if (a->matched && m == SH_MAP_SASL) {
        const struct sh_cred *cr = a->matched;
        snprintf(buf, cap, " credentials=%s origin=%s:%d", cr->name, cr->origin.file,
                 cr->origin.line);
    } else if (a->matched && m == SH_MAP_TLS) {
        const struct sh_relay *r = a->matched;
        snprintf(buf, cap, " relay=%s origin=%s:%d", r->name, r->origin.file, r->origin.line);
    } else if (a->matched && m == SH_MAP_TRANSPORT) {
        const struct sh_transport_rule *t = a->matched;
        snprintf(buf, cap, " rule=%s origin=%s:%d", t->key, t->origin.file, t->origin.line);
    }
}

/* One info line per lookup. A secret value (sasl "user:password") is logged as
 * its user part only. */
static void log_lookup(const struct sh_snapshot *s, enum sh_map m, const char *key, size_t klen,
                       enum sh_outcome o, const struct sh_answer *a)
{
    char kbuf[SH_LOG_TEXT_MAX], vbuf[SH_LOG_TEXT_MAX], what[512];
    const char *vname = "value";
    const char *v = o == SH_FOUND ? a->value : a->why;
    size_t vlen = v ? strlen(v) : 0;

    if (o == SH_FOUND && a->secret) { /* never the password */
        const struct sh_cred *cred = m == SH_MAP_SASL ? a->matched : NULL;
        const char *colon = v ? memchr(v, ':', vlen) : NULL;
        vname = "sasl_user";
        if (cred)
            v = cred->user, vlen = strlen(v);
        else
            vlen = colon ? (size_t)(colon - v) : 0;
    } else if (o != SH_FOUND) {
        vname = "why";
    }
    describe(s, m, a, what, sizeof(what));
    msg_info("%s: key=<%s> %s %s=<%s>%s", sh_map_name(m),
             msg_printable(kbuf, sizeof(kbuf), key, klen), sh_outcome_name(o), vname,
             msg_printable(vbuf, sizeof(vbuf), v ? v : "", vlen), what);
}

/* Peers can send bad requests as fast as they like; the log must not follow. */
static struct msg_rate bad_input_rate = MSG_RATE_INIT;

static bool perm(struct sh_conn *c, const char *why, const char *payload, size_t len)
{
    char pbuf[SH_LOG_TEXT_MAX];

    msg_warn_rate(&bad_input_rate, "socketmap: %s: %s: %s", c ? sh_conn_peer(c) : "-", why,
                  msg_printable(pbuf, sizeof(pbuf), payload, len));
    return reply(c, SH_PERM, why);
}

/* Who may read passwords from the sasl map, on any listener. */
#define SASL_USERS_MAX     8
#define SASL_USERS_DEFAULT "root,postfix" /* root and Postfix's mail_owner */
static uid_t sasl_uids[SASL_USERS_MAX] = {0};
static size_t nsasl_uids = 1; /* until configured: root only */
static char sasl_names[128] = "root";

void sockmap_sasl_users(const char *list)
{
    char buf[256], *save = NULL, *name;
    bool dflt = list == NULL;

    if (dflt)
        list = SASL_USERS_DEFAULT;
    if (strlen(list) >= sizeof(buf))
        msg_fatal("--sasl-users: list too long");
    strcpy(buf, list);
    nsasl_uids = 0;
    sasl_names[0] = 0;
    for (name = strtok_r(buf, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
        struct passwd *pw;
        if (nsasl_uids == SASL_USERS_MAX)
            msg_fatal("--sasl-users: at most %d users", SASL_USERS_MAX);
        if ((pw = getpwnam(name)) == NULL) {
            if (dflt) /* no postfix user on this host: root alone */
                continue;
            msg_fatal("--sasl-users: %s: no such user", name);
        }
        sasl_uids[nsasl_uids++] = pw->pw_uid;
        snprintf(sasl_names + strlen(sasl_names), sizeof(sasl_names) - strlen(sasl_names), "%s%s",
                 sasl_names[0] ? "," : "", name);
    }
    if (nsasl_uids == 0)
        msg_fatal("--sasl-users: no user named");
}

/* Refused sasl lookups are logged, but a local user looping on them must not
 * flood the log. */
static struct msg_rate sasl_refused_rate = MSG_RATE_INIT;

/* May the peer of C read a password? Only a peer the kernel names (unix socket
 * or loopback TCP) whose uid is on the list; a remote or unknown peer never.
 * C == NULL is the fuzzer, which sends nothing anywhere. */
static bool sasl_peer_ok(struct sh_conn *c)
{
    uid_t uid;

    if (c == NULL)
        return true;
    if (!sh_conn_peer_uid(c, &uid)) {
        msg_warn_rate(&sasl_refused_rate,
                      "socketmap: %s: sasl lookup refused: the peer's uid is unknown (only a "
                      "local peer on a unix socket or loopback can be told apart)",
                      sh_conn_peer(c));
        return false;
    }
    for (size_t i = 0; i < nsasl_uids; i++)
        if (sasl_uids[i] == uid)
            return true;
    msg_warn_rate(&sasl_refused_rate,
                  "socketmap: %s: sasl lookup refused to uid %lu: only %s may read passwords",
                  sh_conn_peer(c), (unsigned long)uid, sasl_names);
    return false;
}

/* The lookup counters: per map and outcome; for the relay map the relay (or direct)
 * and the sender rule that decided; for the sasl map the credentials answered and
 * their relay. A direct route is a decision too, answered NOTFOUND. */
static void count(enum sh_map m, enum sh_outcome o, const char *key, size_t len,
                  const struct sh_answer *a)
{
    sh_ctr_inc(sh_mid.lookup[m][o]);
    if (m == SH_MAP_RELAY && a->has_decision && (o == SH_FOUND || o == SH_NOTFOUND)) {
        const struct sh_decision *d = &a->decision;
        /* mail_addr_find() asks the quoted form of an address first ("\"<>\"",
         * "\"a b\"@x") and the unquoted one when that is not found: count the
         * decision once, at the lookup Postfix acts on. */
        if (o == SH_NOTFOUND && memchr(key, '"', len))
            return;
        sh_ctr_inc(d->relay ? d->relay->ctr_routes : sh_mid.route_direct);
        if (d->rule)
            sh_metrics_rule_hit(d->rule);
        else if (d->via == SH_VIA_DEFAULT)
            sh_ctr_inc(sh_mid.rule_default);
    } else if (m == SH_MAP_SASL && o == SH_FOUND && a->matched && a->relay) {
        sh_ctr_inc(((const struct sh_cred *)a->matched)->ctr_answers);
        sh_ctr_inc(a->relay->ctr_creds);
    }
}

bool sockmap_answer(struct sh_conn *c, const struct sh_snapshot *s, const char *payload, size_t len)
{
    struct sockmap_request r;
    struct sh_answer a;
    char key[SH_MAX_KEY + 1];
    enum sh_outcome o;
    int m;

    switch (sockmap_parse(payload, len, SH_MAX_KEY, &r)) {
    case SOCKMAP_REQ_OK:
        break;
    case SOCKMAP_REQ_NO_SPACE:
        return perm(c, "malformed request: expected NAME KEY", payload, len);
    case SOCKMAP_REQ_EMPTY_NAME:
        return perm(c, "malformed request: empty map name", payload, len);
    case SOCKMAP_REQ_KEY_TOO_LONG:
        return perm(c, "key too long", payload, len);
    }
    if ((m = sh_map_by_name(r.name, r.name_len)) < 0)
        return perm(c, "unknown map", payload, len);
    if (s == NULL)
        return reply(c, SH_TEMP, "no configuration loaded");
    /* A refused peer gets TEMP, not NOTFOUND: NOTFOUND means "no credentials
     * for this sender or relay", and Postfix's smtp client would then send the
     * mail without AUTH (to a relay that may accept it by IP, or bounce it),
     * silently. TEMP makes Postfix defer the mail and log a table lookup error
     * that points at the cause, next to our warning that names the uid. */
    if (m == SH_MAP_SASL && !sasl_peer_ok(c))
        return reply(c, SH_TEMP, "sasl map: access denied for this client");
    memcpy(key, r.key, r.key_len); /* the core gets a terminated copy, bounded above */
    key[r.key_len] = 0;
    memset(&a, 0, sizeof(a));
    o = sh_map_lookup(s, (enum sh_map)m, key, r.key_len, &a);
    count((enum sh_map)m, o, key, r.key_len, &a);
    if (s->log_lookups)
        log_lookup(s, (enum sh_map)m, key, r.key_len, o, &a);
    return reply(c, o, o == SH_FOUND ? a.value : a.why);
}

static ssize_t sockmap_input(struct sh_conn *c, const char *buf, size_t len, void *wake)
{
    struct netstring_frame f;
    char pbuf[64];

    switch (netstring_decode(buf, len, NETSTRING_MAX_REQUEST, &f)) {
    case NETSTRING_NEED_MORE:
        return SH_INPUT_NEED_MORE;
    case NETSTRING_MALFORMED:
        msg_warn_rate(&bad_input_rate, "socketmap: %s: bad netstring (%s): %s; disconnecting",
                      sh_conn_peer(c), f.why, msg_printable(pbuf, sizeof(pbuf), buf, len));
        return SH_INPUT_CLOSE;
    case NETSTRING_COMPLETE:
        break;
    }
    return sockmap_answer(c, wake, f.data, f.len) ? (ssize_t)f.consumed : SH_INPUT_CLOSE;
}

const struct sh_proto sh_sockmap_proto = {
    .name = "socketmap",
    .max_input = NETSTRING_FRAME_MAX(NETSTRING_MAX_REQUEST),
    .max_reply = NETSTRING_FRAME_MAX(NETSTRING_MAX_REPLY),
    /* Postfix closes its idle socketmap connections after 10 s (dict_sockmap
     * max_idle) and every one after 100 s: the server default is ample. */
    .idle_timeout = SH_SERVER_DEFAULT_IDLE,
    .on_input = sockmap_input,
};
