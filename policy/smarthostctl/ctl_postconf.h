/* ctl_postconf.h - the one way smarthostctl runs postconf(1). */
#ifndef SH_CTL_POSTCONF_H
#define SH_CTL_POSTCONF_H

#include <stdbool.h>

#define CTL_POSTCONF_MAX_OUTPUT (64 * 1024) /* more stdout than this is not trusted */

/* -v: show postconf's own warnings even when it succeeds. */
extern bool ctl_postconf_verbose;

/* Run `postconf -c DIR ARGS...` (ARGS NULL-terminated) without a shell. Its stdout
 * into *OUT (malloc'ed, NUL-terminated) when OUT is not NULL. Its stderr (warnings
 * about master.cf and the like) is kept off the screen: shown when postconf fails,
 * or with -v. Returns postconf's exit status; -1 when it could not run, was killed,
 * or printed more than CTL_POSTCONF_MAX_OUTPUT bytes. */
int ctl_postconf(const char *dir, const char *const *args, char **out);

#endif
