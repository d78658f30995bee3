/* ctl_import_pf.h - what `import postfix` shares between reading Postfix's tables
 * (ctl_import_postfix.c) and replaying its per-sender route lookups (ctl_import_pfroute.c). */
#ifndef SH_CTL_IMPORT_PF_H
#define SH_CTL_IMPORT_PF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl_import_pfxport.h"
#include "ctl_managed.h"
#include "hostaddr.h"
#include "resolve.h"

#define MAX_ENTRIES 100000 /* per parameter, all its tables together */
#define MAX_RELAYS  10000
#define MAX_VALUE   4096
#define MAX_XPORTS  256 /* distinct transports the maps name */

struct entry {
    char *key, *value;
    char *where; /* "path:line", for messages */
    size_t vlen; /* the sasl map's values are split in place: wipe them whole */
};

struct table {
    const char *param;
    struct entry *e;
    size_t n, cap;
    struct strmap *index; /* key -> struct entry */
};

struct relay {
    char nexthop[SH_MAX_HOST + 10]; /* as written: "[host]" or "[host]:port" */
    char host[SH_MAX_HOST + 1];
    int port;
    const char *user, *password; /* borrowed from the sasl table; NULL: no AUTH */
    bool sender_cred;            /* user/password came from a sender key */
    char level[16], match[1024];
    char name[SH_MAX_HOST + 16];
    const struct pf_xport *xport; /* the transport that delivers to it */
    long cred_of;                 /* a failover relay: the relay whose login it shares, or -1 */
};

struct import {
    struct ctl_managed *m;
    const char *dir;
    struct table relaymap, sasl, policy, transport, xpmap;
    char delims[16], empty_key[256], empty_xp_key[256], default_level[16];
    char default_transport[MAX_VALUE], fallback[MAX_VALUE];
    bool sender_auth, auth, wrapper;
    struct pf_xport *xports;
    size_t nxports;
    size_t (*links)[2]; /* relay links[i][0] fails over to links[i][1], in order */
    size_t nlinks;
    struct relay *relays;
    size_t nrelays;
    struct relay relayhost; /* nexthop only; host[0] == 0: none (unmatched senders go direct) */
    bool encrypt_auth;      /* --encrypt-auth: may/none relays with a password -> encrypt */
};

#define RELAY_ERROR  (-1)
#define RELAY_DIRECT (-2)

/* "import postfix: WHAT "VALUE": WHY" on stderr; false. */
bool pf_refuse(const char *what, const char *value, const char *why);
const struct entry *pf_lookup_entry(const struct table *t, const char *key);
const char *pf_lookup(const struct table *t, const char *key);

/* "[host]" or "[host]:port" into R (a list or an unbracketed name is refused). */
bool pf_parse_nexthop(const char *what, const char *v, struct relay *r);
/* "user:password" -> pointers into the table's value (split in place once). */
bool pf_split_sasl(const char *key, char *value, const char **user, const char **pw);
/* Transport NAME's master.cf entry, read once; NULL (said why) when it cannot be read. */
const struct pf_xport *pf_xport_cached(struct import *im, const char *what, const char *name);
/* The relay (index into im->relays) SENDER's mail takes as Postfix routes it (NULL: a
 * sender no key matches); RELAY_DIRECT, or RELAY_ERROR after saying why. */
long pf_relay_for(struct import *im, const char *sender);
/* Relay P's failover relays from its transport's smtp_fallback_relay, into im->links. */
bool pf_add_failovers(struct import *im, size_t p);

#endif
