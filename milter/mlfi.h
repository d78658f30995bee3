/* mlfi.h - libmilter callbacks: thin glue between the MTA and milter/headers.c. */
#ifndef SH_MLFI_H
#define SH_MLFI_H

#include <libmilter/mfapi.h>

/* The filter description to hand to smfi_register(). */
extern struct smfiDesc sh_mlfi_desc;

/* Host name for Message-IDs when the config names none (set once at start). */
void sh_mlfi_set_hostname(const char *hostname);

/* Register the milter's verdict and edit counters (once, at start). */
void sh_mlfi_metrics_init(void);

#endif
