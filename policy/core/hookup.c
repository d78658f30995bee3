/* hookup.c - the main.cf and master.cf lines that hook Postfix up to smarthostd. */
#include "hookup.h"
#include "maps.h"

const struct sh_hookup_param sh_hookup_main[] = {
    {"relayhost", SH_HOOKUP_NO_MAP, ""},
    {"sender_dependent_relayhost_maps", SH_MAP_RELAY, NULL},
    {"sender_dependent_default_transport_maps", SH_MAP_SENDER_TRANSPORT, NULL},
    {"smtp_sasl_auth_enable", SH_HOOKUP_NO_MAP, "yes"},
    /* Only our relay transports look credentials up by sender (sh_hookup_relay_opts):
     * smtp and relay (direct mail, lanes) get a relay's own, by its [host]:port. */
    {"smtp_sender_dependent_authentication", SH_HOOKUP_NO_MAP, "no"},
    {"smtp_sasl_password_maps", SH_MAP_SASL, NULL},
    /* No PLAIN/LOGIN password on a session without TLS, whatever the map answers. */
    {"smtp_sasl_security_options", SH_HOOKUP_NO_MAP, "noanonymous, noplaintext"},
    {"smtp_sasl_tls_security_options", SH_HOOKUP_NO_MAP, "noanonymous"},
    {"smtp_tls_security_level", SH_HOOKUP_NO_MAP, "may"},
    {"smtp_tls_policy_maps", SH_MAP_TLS, NULL},
    {"transport_maps", SH_MAP_TRANSPORT, NULL},
};
const size_t sh_hookup_nmain = sizeof(sh_hookup_main) / sizeof(sh_hookup_main[0]);

/* The relay transports deliver only to a sender's relay (the relay map's nexthops):
 * sender-dependent AUTH there, and no main.cf fallback relay that would be handed the
 * sender's login too. */
const char *const sh_hookup_relay_opts[] = {
    "smtp_sender_dependent_authentication=yes",
    "smtp_fallback_relay=",
    NULL,
};

const char *const sh_hookup_smtps_opts[] = {
    "smtp_tls_wrappermode=yes",
    "smtp_tls_security_level=encrypt",
    "smtp_sender_dependent_authentication=yes",
    "smtp_fallback_relay=",
    NULL,
};

const char *const sh_hookup_milter_params[] = {
    "smtpd_milters",
    "non_smtpd_milters",
    NULL,
};
