/* ctl_setup.h - `postfix-setup`: what it sets, the probes it runs first, the state it keeps. */
#ifndef SH_CTL_SETUP_H
#define SH_CTL_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_postfix.h"

#define MAX_PARAMS  24
#define MAX_MASTER  18            /* the two relay transports and up to 16 lane transports */
#define MAX_VALUE   8192          /* one main.cf value we save or set */
#define MAX_CF_TEXT (1024 * 1024) /* main.cf or master.cf kept whole in the state */

/* The marker lines around everything postfix-setup writes into main.cf and master.cf. */
#define SETUP_MARK_BEGIN "# smarthostd: begin (smarthostctl postfix-setup; --undo removes it)"
#define SETUP_MARK_END   "# smarthostd: end"

struct param {
    const char *name;
    char *old; /* NULL: not set in main.cf */
    char *new;
    const char *note; /* how NEW relates to OLD, for the listing; NULL: replaced */
};

struct master_entry {
    char service[160]; /* "NAME/unix" */
    char *old;         /* NULL: no such entry */
    char *new;         /* "NAME/unix = NAME unix ... -o ..." */
};

/* A config file's text, before --apply and as --apply left it (NULL: not known). */
struct cf_text {
    char *before, *after;
    size_t before_len, after_len;
};

struct setup {
    const char *dir, *state, *socketmap, *policy, *milter;
    char queue[1024];
    struct master_entry m[MAX_MASTER];
    size_t nm;
    struct param p[MAX_PARAMS];
    size_t np;
    struct cf_text main_cf, master_cf;
};

/* The plan (ctl_setup_plan.c): every parameter with its new value and the value
 * main.cf sets now, and the master.cf entries; the milter and the policy service
 * only when the config at CONFIG_PATH has rules for them (S->milter, S->policy
 * set to NULL otherwise, with the reason printed). false with the reason printed. */
bool setup_plan(struct setup *s, const char *config_path);

/* A master.cf smtp transport NAME (SH_HOOKUP_SMTPS_FIELDS) with "-o OPT" for each of
 * OPTS (NULL-terminated) into s->m[], with the entry master.cf has now. */
struct sh_snapshot;
bool setup_master_entry(struct setup *s, const char *name, const char *const *opts);

/* The lane transports the config's `transports` name (ctl_setup_lanes.c): each one
 * master.cf lacks is defined so that it never offers a sender's relay password;
 * the ones it has are judged, with a warning printed when they would. */
bool setup_lanes(struct setup *s, const struct sh_snapshot *snap);

/* libmilter's local:PATH and inet:PORT@HOST in Postfix notation (unix:PATH,
 * inet:HOST:PORT); anything else as it is. */
const char *setup_postfix_notation(const char *spec, char *buf, size_t cap);

/* Whether every configured daemon socket answers (ctl_setup_probe.c), printed. */
bool setup_probe_all(const struct setup *s);

/* The state file (ctl_setup_state.c): the previous values and file texts, written
 * before any change and again after it, read back by --undo. false with the reason
 * printed. */
bool setup_write_state(const struct setup *s);
bool setup_read_state(struct setup *s);

/* The config files themselves (ctl_setup_files.c). */
bool setup_read_cf(const struct setup *s, const char *file, char **text, size_t *len);
bool setup_write_cf(const struct setup *s, const char *file, const char *text, size_t len);
/* TEXT with everything between the marker lines (inclusive) removed, into *OUT. */
void setup_strip_block(const char *text, size_t len, char **out, size_t *outlen);
/* Append LINES (each ending in '\n') between the marker lines to FILE in s->dir. */
bool setup_append_block(const struct setup *s, const char *file, const char *lines);

void setup_free(struct setup *s, bool names_owned);

#endif
