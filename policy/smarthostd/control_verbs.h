/* control_verbs.h - smarthostd's verbs on the shared control socket (core/control.h). */
#ifndef SH_CONTROL_VERBS_H
#define SH_CONTROL_VERBS_H

#include "control.h"

extern const struct control_ext sh_smarthostd_control;

#endif
