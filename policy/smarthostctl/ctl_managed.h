/* ctl_managed.h - the machine-managed file smarthostctl writes (relay, import, key rotate).
 *
 * It lives next to the main config as "managed.conf" and holds one group,
 *   managed = { credentials = {...}; relays = {...}; senders = (...); default_relay = "..."; };
 * which the main config pulls in with `@include "managed.conf"`. The loader merges it
 * after the file's own settings; a name defined in both is an error. Every change
 * is written to a temp file (owner, group and mode of the file it replaces),
 * fsynced, validated with the daemon's own loader and only then renamed over the
 * old file: on any error nothing changes. */
#ifndef SH_CTL_MANAGED_H
#define SH_CTL_MANAGED_H

#include <libconfig.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "ctl.h"
#include "snapshot.h"

#define CTL_MANAGED_NAME "managed.conf"

struct ctl_managed {
    char config[PATH_MAX];    /* main config */
    char path[PATH_MAX];      /* managed.conf */
    char vault_key[PATH_MAX]; /* the main config's vault_key, or the default */
    config_t cf;              /* the managed file, edited in memory */
    config_setting_t *root;   /* its `managed` group */
    int lock_fd;              /* flock on managed.conf.lock: one writer at a time */
};

/* Open the managed file for editing (created empty when missing) and check that the
 * main config @includes it. false with a message printed. */
bool ctl_managed_open(struct ctl_managed *m, const struct ctl_ctx *ctx);
void ctl_managed_close(struct ctl_managed *m);

/* The member NAME of the managed group, created with TYPE when absent. */
config_setting_t *ctl_managed_section(struct ctl_managed *m, const char *name, int type);

/* Validate the edited tree with the loader, then replace the file atomically.
 * Prints the outcome and tells the daemon; returns CTL_OK or CTL_FAIL. */
int ctl_managed_commit(struct ctl_managed *m);
/* The same, with CHECK run on the validated snapshot before the rename (relay
 * --probe): false leaves the file as it was. */
int ctl_managed_commit_checked(struct ctl_managed *m,
                               bool (*check)(const struct sh_snapshot *, void *), void *ctx);

/* Talk to relay R as Postfix's smtp(8) would, logging in with CRED (NULL: no AUTH),
 * printing each step (ctl_probe.c). ca_file (NULL: Postfix's smtp_tls_CAfile/CApath)
 * stands in for smtp_tls_CAfile; postfix_dir is the Postfix whose smtp_tls_* settings
 * decide how a certificate is judged (NULL: Postfix's built-in values, no postconf). */
#define CTL_PROBE_POSTFIX_DIR "/etc/postfix"
struct ctl_probe_opts {
    const char *ca_file;
    const char *postfix_dir;
};
struct sh_relay;
struct sh_cred;
bool ctl_probe_relay(const struct sh_relay *r, const struct sh_cred *cred,
                     const struct ctl_probe_opts *o);

/* The tree as libconfig text (malloc'ed). */
char *ctl_managed_text(struct ctl_managed *m, size_t *len);

/* Tell the running daemons to reload: SIGHUP to the pid in $SMARTHOSTD_PIDFILE
 * (default /run/smarthostd/smarthostd.pid) and in $SMARTHOSTD_MILTER_PIDFILE
 * (default /run/smarthostd-milter/smarthostd-milter.pid), then wait (at most 10 s
 * each) for each verdict in PIDFILE.status. Prints them; false only when a daemon
 * rejected the reload. */
bool ctl_reload_daemon(void);

/* Test builds (-DSH_TEST_HOOKS): SIGKILL ourselves at step N of a multi-step
 * write when $SMARTHOSTCTL_CRASH_AT=N; a no-op otherwise. */
void ctl_crash_point(int step);

#endif
