/* ctl_setup.h - `postfix-setup`: what it sets, the probes it runs first, the state it keeps. */
#ifndef SH_CTL_SETUP_H
#define SH_CTL_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_postfix.h"

#define SOCK_DIR          CTL_PF_QUEUE_DIRECTORY "/smarthostd"
#define DEFAULT_SOCKETMAP "unix:" SOCK_DIR "/socketmap"
#define DEFAULT_POLICY    "unix:" SOCK_DIR "/policy"
#define DEFAULT_MILTER    "unix:" SOCK_DIR "/milter"
#define DEFAULT_STATE     "/var/lib/smarthostd/postfix-setup.state"

#define MAX_PARAMS  24
#define MAX_VALUE   8192 /* one main.cf value we save or set */

struct param {
    const char *name;
    char *old; /* NULL: not set in main.cf */
    char *new;
};

struct setup {
    const char *dir, *state, *socketmap, *policy, *milter;
    char queue[1024];
    char service[160]; /* master.cf "NAME/unix" */
    char *master_old;  /* NULL: no such entry */
    char master_new[512];
    struct param p[MAX_PARAMS];
    size_t np;
};

/* The plan (ctl_setup_plan.c): every parameter with its new value and the value
 * main.cf sets now, and the master.cf entry; false with the reason printed. */
bool setup_plan(struct setup *s, const char *config_path);

/* libmilter's local:PATH and inet:PORT@HOST in Postfix notation (unix:PATH,
 * inet:HOST:PORT); anything else as it is. */
const char *setup_postfix_notation(const char *spec, char *buf, size_t cap);

/* Whether every configured daemon socket answers (ctl_setup_probe.c), printed. */
bool setup_probe_all(const struct setup *s);

/* The state file (ctl_setup_state.c): the previous values, written before any
 * change, read back by --undo. false with the reason printed. */
bool setup_write_state(const struct setup *s);
bool setup_read_state(struct setup *s);

#endif
