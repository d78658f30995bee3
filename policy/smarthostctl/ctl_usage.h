/* ctl_usage.h - each verb's usage text, printed on a usage error and for VERB --help. */
#ifndef SH_CTL_USAGE_H
#define SH_CTL_USAGE_H

#include "ctl.h"

ctl_usage_fn ctl_check_usage;
ctl_usage_fn ctl_route_usage;
ctl_usage_fn ctl_postfix_conf_usage;
ctl_usage_fn ctl_defaults_usage;
ctl_usage_fn ctl_postfix_setup_usage;
ctl_usage_fn ctl_key_usage;
ctl_usage_fn ctl_relay_usage;
ctl_usage_fn ctl_import_usage;
ctl_usage_fn ctl_probe_usage;
ctl_usage_fn ctl_report_usage;
ctl_usage_fn ctl_status_usage;
ctl_usage_fn ctl_stats_usage;
ctl_usage_fn ctl_ratelimit_usage;

#endif
