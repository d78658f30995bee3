/* ctl_report.h - the delivery tally behind `smarthostctl report`: Postfix log records
 * joined by queue id and counted per configured relay, deferral reason and sender domain;
 * and where the log comes from. */
#ifndef SH_CTL_REPORT_H
#define SH_CTL_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "maillog.h"
#include "snapshot.h"

/* Every table is bounded; what does not fit is counted in `dropped` and reported. */
#define REPORT_MAX_QIDS 100000 /* messages tracked at once (until qmgr logs "removed") */
/* When that table is full, messages first seen this long before a new one are forgotten:
 * twice Postfix's default maximal_queue_lifetime (5d), so only lost "removed" lines go. */
#define REPORT_QID_MAX_AGE (10L * 86400)
#define REPORT_MAX_ROWS    256   /* relay rows, configured relays included */
#define REPORT_MAX_REASONS 1000  /* distinct (relay, normalized deferral reason) */
#define REPORT_MAX_DOMAINS 10000 /* distinct (sender domain, relay) */

struct report_row {
    char name[MAILLOG_MAX_RELAY + 1]; /* relay name, "direct", or the host Postfix logged */
    const struct sh_relay *relay;     /* NULL unless a configured relay */
    size_t config_index;              /* its place in the config (relay != NULL) */
    uint64_t sent, deferred, bounced; /* deferred: messages deferred at least once */
    uint64_t deferrals;               /* deferred delivery attempts */
};

struct report_reason {
    char relay[MAILLOG_MAX_RELAY + 1]; /* the row's name */
    char text[MAILLOG_MAX_REASON + 1];
    uint64_t count;
};

struct report_domain {
    char name[MAILLOG_MAX_ADDR + 1];   /* lowercase; "<>" for the null sender */
    char relay[MAILLOG_MAX_RELAY + 1]; /* the row's name */
    uint64_t sent, deferred, bounced;
};

struct report_dropped {
    uint64_t qids;    /* deliveries whose message did not fit the queue id table */
    uint64_t rows;    /* deliveries counted in the "(other)" row */
    uint64_t reasons; /* deferrals whose reason did not fit */
    uint64_t domains; /* deliveries missing from the sender domain table */
};

struct report;

struct report *report_new(const struct sh_snapshot *s);
void report_free(struct report *rp);

/* Feed one parsed line; returns true when it was a delivery status that was counted. */
bool report_add(struct report *rp, const struct maillog_rec *r);

/* Views for printing, sorted (so call them after the last report_add): rows in config
 * order then by name, reasons by count, domains by name then relay. */
size_t report_rows(struct report *rp, const struct report_row **rows);
size_t report_reasons(struct report *rp, const struct report_reason **reasons);
size_t report_domains(struct report *rp, const struct report_domain **domains);
const struct report_dropped *report_dropped(const struct report *rp);
/* The rows in the order they were made, unsorted: their indices stay valid for further
 * report_add calls (what `report --follow` needs between two feeds). */
size_t report_rows_made(const struct report *rp, const struct report_row **rows);

/* Reading the log. */
#define CTL_REPORT_DEFAULT_LOG "/var/log/mail.log"
bool ctl_journalctl_found(void);
/* journalctl's stdout as a stream; *PID to wait for. short-iso keeps the time stamp and
 * host, so the same line parser reads it. SINCE 0: from the start; FOLLOW: from now on,
 * as it grows (-f -n 0). */
FILE *ctl_open_journal(time_t since, bool follow, pid_t *pid);
/* `report --follow`: feeds CONTROL (a smarthostd control socket) from FILE ("-": stdin;
 * NULL: the default log, or the journal). Takes S (loaded from CONFIG_PATH). */
int ctl_report_follow(const char *config_path, struct sh_snapshot *s, const char *file,
                      const char *control);

#endif
