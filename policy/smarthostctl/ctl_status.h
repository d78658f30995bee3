/* ctl_status.h - asking a running daemon over its control socket (codec/control_codec.h). */
#ifndef SH_CTL_STATUS_H
#define SH_CTL_STATUS_H

#include <stdbool.h>
#include <stdio.h>

#include "hookup.h"

#define CTL_CONTROL_DEFAULT        SH_HOOKUP_CONTROL
#define CTL_CONTROL_MILTER_DEFAULT SH_HOOKUP_MILTER_CONTROL

enum ctl_ask { CTL_ASK_OK, CTL_ASK_ABSENT, CTL_ASK_ERROR };

/* Send REQUEST (one line, no newline) to the control socket at PATH and write the
 * reply body to OUT. CTL_ASK_ABSENT: no daemon listens there (no socket, or
 * refused); CTL_ASK_ERROR: it answered ERR or broke off (said on stderr). */
enum ctl_ask ctl_ask(const char *path, const char *request, FILE *out);

#endif
