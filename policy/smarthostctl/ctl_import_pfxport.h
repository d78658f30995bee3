/* ctl_import_pfxport.h - a master.cf transport as `import postfix` judges it. */
#ifndef SH_CTL_IMPORT_PFXPORT_H
#define SH_CTL_IMPORT_PFXPORT_H

#include <stdbool.h>

#define PF_XPORT_VALUE 4096

/* What Postfix's delivery through transport NAME depends on that smarthostd can express. */
struct pf_xport {
    char name[64];
    bool defined;                  /* NAME/unix is in master.cf */
    bool smtp;                     /* its command is smtp(8) (not lmtp, pipe, ...) */
    bool implicit;                 /* smtp_tls_wrappermode, its -o or main.cf's */
    char level[16];                /* smtp_tls_security_level, its -o or main.cf's */
    char fallback[PF_XPORT_VALUE]; /* smtp_fallback_relay, its -o or main.cf's */
    char other[128]; /* the first of its -o settings no smarthostd relay setting matches */
};

/* NAME's master.cf entry in DIR through postconf -M/-P; LEVEL, WRAPPER and FALLBACK are
 * main.cf's values, which its -o settings override. False (said why) when postconf fails. */
bool pf_xport_read(const char *dir, const char *name, const char *level, bool wrapper,
                   const char *fallback, struct pf_xport *x);

#endif
