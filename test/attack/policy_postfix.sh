#!/bin/bash
# policy_postfix.sh - hostile envelopes through a real Postfix asking the policy service (TAP).
#
# The client connects from 127.0.0.2: inside Postfix's mynetworks (127.0.0.0/8), outside
# the policy's trusted_networks (127.0.0.1), unauthenticated. example.com is local to both
# (mydestination, local_domains), so Postfix's trivial-rewrite would route
# victim%gmail.test@example.com and gmail.test!victim@example.com to gmail.test
# (allow_percent_hack, swap_bangpath): relay_guard must refuse them. A sender too long
# for the rules (600 characters at require_auth's domain) must be refused, not waved on.
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix swaks

lab_init
P_MAP=$(lab_free_port); P_POL=$(lab_free_port); P_SMTPD=$(lab_free_port)

cat >"$LAB/smarthostd.conf" <<CONF
log_lookups = true;
policy = {
    require_auth = [ "@example.com" ];
    relay_guard = true;
    local_domains = [ "example.com" ];
    trusted_networks = [ "127.0.0.1" ];
};
CONF
"$SMARTHOSTCTL" -c "$LAB/smarthostd.conf" check >&2 || bail "config"
lab_smarthostd "$LAB/smarthostd.conf" "$P_MAP" -- --policy "inet:127.0.0.1:$P_POL" ||
    bail "smarthostd did not start"

lab_postfix_init "$P_SMTPD"
lab_postfix_policy "$P_POL"
lab_postconf -e "mydestination = example.com" "inet_interfaces = 127.0.0.1"
for p in allow_percent_hack swap_bangpath; do diag "$(lab_postconf "$p")"; done
lab_postfix_start || bail "postfix start"

# send FROM TO: one message from 127.0.0.2; prints swaks' transcript to $LAB/swaks.log
send() {
    : >"$LAB/swaks.log"
    lab_send "$1" "$2" "${3:-attack}" --local-interface 127.0.0.2
}
accepted() { grep -q "queued as" "$LAB/swaks.log"; }
refused() { ! accepted && grep -qE "<\*\* 5[0-9][0-9] " "$LAB/swaks.log"; }

send "x@outside.test" "postmaster@example.com"
ok "a plain local recipient from 127.0.0.2 is accepted" accepted

send "x@outside.test" "victim@gmail.test"
ok "a plain remote recipient is refused (relay_guard)" grep -q "554 5.7.1 .*Relay access denied" "$LAB/swaks.log"

send "x@outside.test" "victim%gmail.test@example.com"
ok "victim%gmail.test@example.com (percent hack) is refused" grep -q "554 5.7.1 .*Relay access denied" "$LAB/swaks.log"

send "x@outside.test" "gmail.test!victim@example.com"
ok "gmail.test!victim@example.com (bang path) is refused" grep -q "554 5.7.1 .*Relay access denied" "$LAB/swaks.log"

send "x@outside.test" '"victim@gmail.test"@example.com'
ok "\"victim@gmail.test\"@example.com (quoted @) is refused" refused

send "x@outside.test" "@example.com:victim@gmail.test"
ok "@example.com:victim@gmail.test (source route) is refused" refused

# What arrives for the policy service from Postfix, for the record.
diag "$(grep -o 'recipient=<[^>]*>' "$LAB/smarthostd.log" | sort -u | tr '\n' ' ')"

long="$(printf 'a%.0s' $(seq 588))@example.com"   # 600 characters
send "$long" "postmaster@example.com"
ok "a 600-character sender of a require_auth domain is refused (5xx; Postfix maps 5.1.7 to 5.1.3 at RCPT)" \
    grep -qE "<\*\* 5[0-9][0-9] 5\.[0-9.]+ .*Sender address too long or malformed to judge" "$LAB/swaks.log"
send "y@example.com" "postmaster@example.com"
ok "a short one is refused by require_auth" grep -q "authentication required" "$LAB/swaks.log"
longr="$(printf 'b%.0s' $(seq 588))@example.com"
send "x@outside.test" "$longr"
ok "a 600-character recipient is refused, not waved past relay_guard (5.1.3)" \
    grep -q "5[0-9][0-9] 5.1.3 .*Recipient address too long or malformed to judge" "$LAB/swaks.log"
tap_done
