/* ctl_report_tally.c - count Postfix deliveries per relay of the loaded config, per
 * deferral reason and per sender domain; every table bounded. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_report.h"
#include "resolve.h"
#include "strmap.h"
#include "xalloc.h"

#define QID_SLOTS       262144 /* power of two, > 2 * REPORT_MAX_QIDS */
#define QID_SWEEP_EVERY 1024

/* A message between qmgr's "from=" and its "removed". */
struct qent {
    char qid[MAILLOG_MAX_QID + 1]; /* "": free slot */
    int domain;                    /* index into the domain name table, -1 unknown */
    bool route_known;              /* the sender's route in the loaded config: */
    const struct sh_relay *route;  /* NULL = direct */
    int deferred_row;              /* row it was last counted deferred on, -1 none */
    time_t seen;                   /* its from= line's time stamp, 0 unknown */
};

struct report {
    const struct sh_snapshot *snap;
    time_t now;          /* for stamps without a year */
    time_t min_seen;     /* no tracked message was first seen before (0: none tracked yet) */
    unsigned sweep_wait; /* full-table arrivals before the next sweep may run */
    struct qent *qids;
    size_t nqids;
    struct report_row *rows;
    size_t nrows;
    struct report_reason *reasons;
    size_t nreasons;
    struct strmap *reason_index; /* "row\x1ftext" -> struct report_reason */
    struct report_domain *domains;
    size_t ndomains;
    struct strmap *domain_index; /* "row\x1fdomain" -> struct report_domain */
    char **names;                /* sender domains seen, interned */
    size_t nnames;
    struct strmap *name_index; /* domain -> index + 1 (as a pointer) */
    struct report_dropped dropped;
};

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static struct qent *qid_find(struct report *rp, const char *qid)
{
    for (size_t i = hash(qid) & (QID_SLOTS - 1);; i = (i + 1) & (QID_SLOTS - 1))
        if (rp->qids[i].qid[0] == 0 || strcmp(rp->qids[i].qid, qid) == 0)
            return &rp->qids[i];
}

/* Linear probing with backward-shift deletion: no tombstones, so the table never fills
 * with dead slots however many messages pass through. */
static void qid_remove(struct report *rp, struct qent *e)
{
    size_t i = (size_t)(e - rp->qids), j = i;

    if (e->qid[0] == 0)
        return;
    e->qid[0] = 0;
    rp->nqids--;
    for (;;) {
        j = (j + 1) & (QID_SLOTS - 1);
        if (rp->qids[j].qid[0] == 0)
            return;
        size_t home = hash(rp->qids[j].qid) & (QID_SLOTS - 1);
        /* move j back to i unless its home lies cyclically in (i, j] */
        if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
            rp->qids[i] = rp->qids[j];
            rp->qids[j].qid[0] = 0;
            i = j;
        }
    }
}

static int add_row(struct report *rp, const char *name, const struct sh_relay *relay)
{
    struct report_row *row = &rp->rows[rp->nrows];

    snprintf(row->name, sizeof(row->name), "%s", name);
    row->relay = relay;
    row->config_index = rp->nrows;
    return (int)rp->nrows++;
}

struct report *report_new(const struct sh_snapshot *s)
{
    struct report *rp = xcalloc(1, sizeof(*rp));

    rp->snap = s;
    rp->now = time(NULL);
    rp->qids = xcalloc(QID_SLOTS, sizeof(*rp->qids));
    rp->rows = xcalloc(REPORT_MAX_ROWS, sizeof(*rp->rows));
    rp->reasons = xcalloc(REPORT_MAX_REASONS, sizeof(*rp->reasons));
    rp->domains = xcalloc(REPORT_MAX_DOMAINS, sizeof(*rp->domains));
    rp->names = xcalloc(REPORT_MAX_DOMAINS, sizeof(*rp->names));
    rp->reason_index = strmap_new(64);
    rp->domain_index = strmap_new(64);
    rp->name_index = strmap_new(64);
    /* Configured relays first, in config order (at most REPORT_MAX_ROWS - 2 of them: one
     * row stays for "direct" and one for "(other)"). */
    for (size_t i = 0; i < s->nrelays && rp->nrows < REPORT_MAX_ROWS - 2; i++)
        add_row(rp, s->relays[i]->name, s->relays[i]);
    return rp;
}

void report_free(struct report *rp)
{
    if (rp == NULL)
        return;
    for (size_t i = 0; i < rp->nnames; i++)
        free(rp->names[i]);
    strmap_free(rp->reason_index);
    strmap_free(rp->domain_index);
    strmap_free(rp->name_index);
    free(rp->names);
    free(rp->domains);
    free(rp->reasons);
    free(rp->rows);
    free(rp->qids);
    free(rp);
}

static int row_by_name(struct report *rp, const char *name)
{
    for (size_t i = 0; i < rp->nrows; i++)
        if (rp->rows[i].relay == NULL && strcmp(rp->rows[i].name, name) == 0)
            return (int)i;
    if (rp->nrows < REPORT_MAX_ROWS - 1)
        return add_row(rp, name, NULL);
    rp->dropped.rows++;
    for (size_t i = 0; i < rp->nrows; i++)
        if (strcmp(rp->rows[i].name, "(other)") == 0)
            return (int)i;
    return add_row(rp, "(other)", NULL); /* the one slot kept for it */
}

static int row_of_relay(struct report *rp, const struct sh_relay *relay)
{
    for (size_t i = 0; i < rp->nrows; i++)
        if (rp->rows[i].relay == relay)
            return (int)i;
    return row_by_name(rp, relay->name); /* beyond the configured rows kept */
}

static bool on_route(const struct sh_relay *route, const struct sh_relay *r)
{
    if (route == r)
        return true;
    for (size_t i = 0; route && i < route->nfailover; i++)
        if (route->failover[i] == r)
            return true;
    return false;
}

/* relay=host[addr]:port (or the peer of "connect to ..." when relay=none) -> its row: the
 * configured relay at that host and port (the message's own route first when several
 * share it), "direct" when the sender's route is direct, else the host as logged. */
static int row_for(struct report *rp, const struct maillog_rec *r, const struct qent *q)
{
    char peer[MAILLOG_MAX_RELAY + 1], host[MAILLOG_MAX_RELAY + 1], addr[MAILLOG_MAX_RELAY + 1];
    const char *relay = r->relay;
    const struct sh_relay *match = NULL;
    bool direct = q && q->route_known && q->route == NULL;
    unsigned port;

    if (strcmp(relay, "none") == 0 && maillog_reason_peer(r->reason, peer))
        relay = peer;
    if (!maillog_relay_split(relay, host, addr, &port))
        return row_by_name(rp, direct && strcmp(relay, "none") == 0 ? "direct" : relay);
    for (size_t i = 0; i < rp->snap->nrelays; i++) {
        const struct sh_relay *c = rp->snap->relays[i];
        if (c->port != port || (strcasecmp(c->host, host) != 0 && strcasecmp(c->host, addr) != 0))
            continue;
        if (match == NULL || (q && q->route_known && on_route(q->route, c)))
            match = c;
    }
    if (match)
        return row_of_relay(rp, match);
    return row_by_name(rp, direct ? "direct" : host);
}

/* The sender's domain, interned: index, or -1 when the table is full. */
static int domain_of(struct report *rp, const struct maillog_rec *r)
{
    char name[MAILLOG_MAX_ADDR + 1];
    const char *at = strrchr(r->from, '@');
    void *v;

    if (r->fields & MAILLOG_TRUNCATED)
        snprintf(name, sizeof(name), "(too long)");
    else if (r->from[0] == 0)
        snprintf(name, sizeof(name), "<>");
    else if (at == NULL || at[1] == 0)
        snprintf(name, sizeof(name), "(no domain)");
    else
        snprintf(name, sizeof(name), "%s", at + 1);
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if ((v = strmap_get(rp->name_index, name, strlen(name))) != NULL)
        return (int)((uintptr_t)v - 1);
    if (rp->nnames >= REPORT_MAX_DOMAINS)
        return -1;
    rp->names[rp->nnames] = xstrdup(name);
    strmap_put(rp->name_index, rp->names[rp->nnames], (void *)(uintptr_t)(rp->nnames + 1));
    return (int)rp->nnames++;
}

/* Forget messages first seen before CUT: their "removed" line was lost (a syslog daemon
 * that dropped lines, a log that was cut), as no message stays queued that long. A removal
 * shifts a later entry into slot i, so i is looked at again. */
static void qid_evict(struct report *rp, time_t cut)
{
    time_t min = 0;

    if (rp->min_seen == 0 || rp->min_seen >= cut)
        return;               /* nothing that old: a sweep would find nothing */
    if (rp->sweep_wait > 0) { /* a sweep is O(table): at most one per QID_SWEEP_EVERY arrivals */
        rp->sweep_wait--;
        return;
    }
    rp->sweep_wait = QID_SWEEP_EVERY;
    for (size_t i = 0; i < QID_SLOTS;) {
        struct qent *e = &rp->qids[i];
        if (e->qid[0] != 0 && e->seen != 0 && e->seen < cut) {
            qid_remove(rp, e);
            continue;
        }
        if (e->qid[0] != 0 && e->seen != 0 && (min == 0 || e->seen < min))
            min = e->seen;
        i++;
    }
    rp->min_seen = min;
}

/* qmgr's "QID: from=<sender>, size=..., nrcpt=N (queue active)": remember the sender's
 * domain and route until "QID: removed". */
static void track(struct report *rp, const struct maillog_rec *r)
{
    struct qent *e = qid_find(rp, r->queue_id);
    struct sh_decision d;
    const char *key = r->from[0] ? r->from : "<>";
    time_t t;

    if (e->qid[0] != 0)
        return; /* the first from= line of a message wins; later ones say the same */
    if (!maillog_time(&r->stamp, rp->now, &t))
        t = 0;
    if (rp->nqids >= REPORT_MAX_QIDS && t > REPORT_QID_MAX_AGE) {
        qid_evict(rp, t - REPORT_QID_MAX_AGE);
        e = qid_find(rp, r->queue_id); /* the slots have moved */
    }
    if (rp->nqids >= REPORT_MAX_QIDS)
        return; /* counted as dropped when its deliveries come */
    e->seen = t;
    if (t != 0 && (rp->min_seen == 0 || t < rp->min_seen))
        rp->min_seen = t;
    snprintf(e->qid, sizeof(e->qid), "%s", r->queue_id);
    rp->nqids++;
    e->domain = domain_of(rp, r);
    e->deferred_row = -1;
    e->route_known = !(r->fields & MAILLOG_TRUNCATED) &&
                     sh_resolve_sender(rp->snap, key, strlen(key), &d) == SH_FOUND;
    e->route = e->route_known ? d.relay : NULL;
}

static struct report_domain *domain_row(struct report *rp, int domain, int row)
{
    char key[32];
    struct report_domain *d;

    if (domain < 0)
        return NULL;
    snprintf(key, sizeof(key), "%d\x1f%d", row, domain);
    if ((d = strmap_get(rp->domain_index, key, strlen(key))) != NULL)
        return d;
    if (rp->ndomains >= REPORT_MAX_DOMAINS)
        return NULL;
    d = &rp->domains[rp->ndomains++];
    snprintf(d->name, sizeof(d->name), "%s", rp->names[domain]);
    snprintf(d->relay, sizeof(d->relay), "%s", rp->rows[row].name);
    strmap_put(rp->domain_index, key, d);
    return d;
}

static void count_reason(struct report *rp, int row, const char *reason)
{
    char text[MAILLOG_MAX_REASON + 1], key[MAILLOG_MAX_REASON + 16];
    struct report_reason *e;

    maillog_reason_normalize(reason, text, sizeof(text));
    snprintf(key, sizeof(key), "%d\x1f%s", row, text);
    if ((e = strmap_get(rp->reason_index, key, strlen(key))) == NULL) {
        if (rp->nreasons >= REPORT_MAX_REASONS) {
            rp->dropped.reasons++;
            return;
        }
        e = &rp->reasons[rp->nreasons++];
        snprintf(e->relay, sizeof(e->relay), "%s", rp->rows[row].name);
        snprintf(e->text, sizeof(e->text), "%s", text);
        strmap_put(rp->reason_index, key, e);
    }
    e->count++;
}

bool report_add(struct report *rp, const struct maillog_rec *r)
{
    bool sent, deferred, bounced;
    struct report_domain *dom;
    struct report_row *row;
    struct qent *q;
    int ri;

    if (r->queue_id[0] == 0)
        return false;
    if ((r->fields & MAILLOG_FROM) && !(r->fields & MAILLOG_TO)) {
        size_t n = strlen(r->program);
        if (n >= 5 && strcmp(r->program + n - 5, "/qmgr") == 0)
            track(rp, r);
        return false;
    }
    if (r->fields & MAILLOG_REMOVED) {
        size_t n = strlen(r->program);
        /* the message has left the queue: delivered (qmgr) or deleted (`postsuper -d`) */
        if ((n >= 5 && strcmp(r->program + n - 5, "/qmgr") == 0) ||
            (n >= 10 && strcmp(r->program + n - 10, "/postsuper") == 0)) {
            q = qid_find(rp, r->queue_id);
            qid_remove(rp, q);
        }
        return false;
    }
    if (!(r->fields & MAILLOG_TO) || !(r->fields & MAILLOG_STATUS) || !(r->fields & MAILLOG_RELAY))
        return false;
    sent = strcmp(r->status, "sent") == 0;
    deferred = strcmp(r->status, "deferred") == 0;
    bounced = strcmp(r->status, "bounced") == 0 || strcmp(r->status, "expired") == 0;
    if (!sent && !deferred && !bounced)
        return false; /* address verification ("deliverable") and the like */
    q = qid_find(rp, r->queue_id);
    if (q->qid[0] == 0) {
        q = NULL;
        rp->dropped.qids++;
    }
    ri = row_for(rp, r, q);
    row = &rp->rows[ri];
    dom = domain_row(rp, q ? q->domain : -1, ri);
    if (dom == NULL && q != NULL)
        rp->dropped.domains++;
    if (sent) {
        row->sent++;
        if (dom)
            dom->sent++;
    } else if (bounced) {
        row->bounced++;
        if (dom)
            dom->bounced++;
    } else {
        row->deferrals++;
        if (q == NULL || q->deferred_row != ri) {
            row->deferred++;
            if (dom)
                dom->deferred++;
            if (q)
                q->deferred_row = ri;
        }
        count_reason(rp, ri, (r->fields & MAILLOG_REASON) ? r->reason : "(no reason logged)");
    }
    return true;
}

static int cmp_rows(const void *a, const void *b)
{
    const struct report_row *x = a, *y = b;

    if ((x->relay != NULL) != (y->relay != NULL))
        return x->relay ? -1 : 1;
    if (x->relay)
        return x->config_index < y->config_index ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_reasons(const void *a, const void *b)
{
    const struct report_reason *x = a, *y = b;
    int c;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if ((c = strcmp(x->relay, y->relay)) != 0)
        return c;
    return strcmp(x->text, y->text);
}

static int cmp_domains(const void *a, const void *b)
{
    const struct report_domain *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->relay, y->relay);
}

size_t report_rows(struct report *rp, const struct report_row **rows)
{
    qsort(rp->rows, rp->nrows, sizeof(*rp->rows), cmp_rows);
    *rows = rp->rows;
    return rp->nrows;
}

size_t report_reasons(struct report *rp, const struct report_reason **reasons)
{
    qsort(rp->reasons, rp->nreasons, sizeof(*rp->reasons), cmp_reasons);
    *reasons = rp->reasons;
    return rp->nreasons;
}

size_t report_domains(struct report *rp, const struct report_domain **domains)
{
    qsort(rp->domains, rp->ndomains, sizeof(*rp->domains), cmp_domains);
    *domains = rp->domains;
    return rp->ndomains;
}

size_t report_rows_made(const struct report *rp, const struct report_row **rows)
{
    *rows = rp->rows;
    return rp->nrows;
}

const struct report_dropped *report_dropped(const struct report *rp)
{
    return &rp->dropped;
}
