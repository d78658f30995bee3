#!/bin/bash
# e2e_policy.sh - a real Postfix asks smarthostd's policy service (TAP).
#
# Cyrus sasldb users (as POSTFIX-LAB.md found, smtpd reads /etc/sasldb2 whatever
# sasldb_path says: the test adds its own users in a realm of its own and removes
# them again). An authenticated user sending as its own domain passes and is
# relayed; forging another domain is rejected with the 5.7.1 text; a non-TLS
# client for a require_tls domain is rejected; a message over its sender
# domain's max_size is rejected at end of data; a rate limit defers the N+1th
# message, which is accepted once the window has passed.
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix
command -v saslpasswd2 >/dev/null || tap_skip_all "sasl2-bin not installed"

REALM="policy$$.test"            # never clashes with another test's users
USER="alice@$REALM"
PASS="alice-secret-$$"
WINDOW=6

lab_init
lab_cert
P_FAKE=$(lab_free_port); P_MAP=$(lab_free_port); P_POL=$(lab_free_port); P_SMTPD=$(lab_free_port)

sasl_cleanup() { saslpasswd2 -d -u "$REALM" alice 2>/dev/null || true; }
trap 'sasl_cleanup; lab_cleanup' EXIT
printf '%s' "$PASS" | saslpasswd2 -p -c -u "$REALM" alice || bail "saslpasswd2"
chown root:postfix /etc/sasldb2 && chmod 640 /etc/sasldb2

lab_fake relay "$P_FAKE" || bail "fake relay"

cat >"$LAB/smarthostd.conf" <<CONF
relays = { fake = { host = "127.0.0.1"; port = $P_FAKE; tls = "none"; }; };
default_relay = "fake";
log_lookups = true;
policy = {
    logins = ( { user = "$USER"; senders = [ "@$REALM", "@tls.test" ]; } );
    require_auth = [ "@$REALM" ];
    require_tls = [ "@tls.test" ];
    rate_limits = ( { name = "user"; per = "sasl_user"; match = "@$REALM"; messages = 2; window = $WINDOW; } );
    max_size = ( { match = "@tls.test"; bytes = 5000; } );
};
CONF
"$SMARTHOSTCTL" -c "$LAB/smarthostd.conf" check >&2 || bail "config"
lab_smarthostd "$LAB/smarthostd.conf" "$P_MAP" -- --policy "inet:127.0.0.1:$P_POL" ||
    bail "smarthostd did not start"

lab_postfix_init "$P_SMTPD"
lab_postfix_hookup "$P_MAP"
mkdir -p "$LAB/sasl"
cat >"$LAB/sasl/smtpd.conf" <<'EOF2'
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
EOF2
# smtpd_relay_restrictions (permit_mynetworks, reject: the lab main.cf) runs first and
# holds reject_unauth_destination; the policy service follows it.
lab_postfix_policy "$P_POL"
lab_postconf -e \
    "smtpd_sasl_auth_enable = yes" "cyrus_sasl_config_path = $LAB/sasl" \
    "smtpd_sasl_local_domain =" \
    "smtpd_tls_cert_file = $LAB/cert.pem" "smtpd_tls_key_file = $LAB/key.pem" \
    "smtpd_tls_security_level = may"
lab_postfix_start || bail "postfix start"

RCPT='rcpt@[127.0.0.2]'
auth=(--auth PLAIN --auth-user "$USER" --auth-password "$PASS")

lab_send "bob@$REALM" "$RCPT" "own domain" "${auth[@]}"
ok "authenticated user sending as its own domain: accepted" grep -q "queued as" "$LAB/swaks.log"
ok "... and relayed to the smarthost" lab_wait 30 lab_fake_has "own domain"

: >"$LAB/swaks.log"
lab_send "ceo@other.test" "$RCPT" "forged" "${auth[@]}"
ok "forged sender rejected with the 5.7.1 text" \
    grep -q "<\*\* 554 5.7.1 .*<ceo@other.test>: Sender address rejected: not owned by user $USER" "$LAB/swaks.log"

: >"$LAB/swaks.log"
lab_send "x@tls.test" "$RCPT" "no tls" "${auth[@]}"
ok "require_tls sender without STARTTLS rejected" \
    grep -q "<\*\* 554 5.7.1 .*<x@tls.test>: Sender address rejected: must use STARTTLS" "$LAB/swaks.log"

: >"$LAB/swaks.log"
lab_send "x@tls.test" "$RCPT" "with tls" "${auth[@]}" --tls
ok "require_tls sender with STARTTLS accepted" grep -q "queued as" "$LAB/swaks.log"

: >"$LAB/swaks.log"
lab_send "y@$REALM" "$RCPT" "no auth"
ok "require_auth sender without AUTH rejected" \
    grep -q "<\*\* 554 5.7.1 .*<y@$REALM>: Sender address rejected: authentication required" "$LAB/swaks.log"

# max_size (5000 bytes for @tls.test, which the rate limit does not count) is checked
# at END-OF-MESSAGE with the real size.
for i in $(seq 200); do echo "line $i of a message too big for its sender domain's max_size"; done >"$LAB/big.txt"
: >"$LAB/swaks.log"
lab_send "big@tls.test" "$RCPT" "too big" "${auth[@]}" --tls --body "$LAB/big.txt"
ok "message over max_size rejected at end of data (5.3.4)" \
    grep -q "554 5.3.4 .*End-of-data rejected: Message size exceeds fixed limit" "$LAB/swaks.log"

# Postfix wraps policy texts in its own ("<rcpt>: Recipient address rejected: TEXT").
# Rate limit: 2 messages per $WINDOW s window (aligned to the epoch) per SASL user.
# Three messages went through already; start at the beginning of a fresh window.
T0=$(date +%s)   # the earlier messages were counted at or before T0
fresh_window() { local now; now=$(date +%s); [ $((now % WINDOW)) -eq 0 ] && [ "$now" -gt "$T0" ]; }
lab_wait $((WINDOW + 2)) fresh_window
: >"$LAB/swaks.log"
lab_send "r1@$REALM" "$RCPT" "rate 1" "${auth[@]}"
lab_send "r2@$REALM" "$RCPT" "rate 2" "${auth[@]}"
is "$(grep -c 'queued as' "$LAB/swaks.log")" 2 "rate limit: two messages in the window accepted"
: >"$LAB/swaks.log"
lab_send "r3@$REALM" "$RCPT" "rate 3" "${auth[@]}"
ok "rate limit: the third is deferred (4.7.1)" grep -q "<\*\* 450 4.7.1 .*Message rate limit exceeded, retry later" "$LAB/swaks.log"
retry_rate3() { : >"$LAB/swaks.log"; lab_send "r3@$REALM" "$RCPT" "rate 3" "${auth[@]}"; grep -q "queued as" "$LAB/swaks.log"; }
ok "rate limit: accepted after the window" lab_wait $((WINDOW + 5)) retry_rate3
ok "... and delivered" lab_wait 30 lab_fake_has "rate 3"
ok "decisions logged with the queue id" grep -qE '^smarthostd: [0-9A-F]+: policy: .*action=DUNNO|[0-9A-F]{6,}: policy: ' "$LAB/smarthostd.log"
ok "decisions name the SMTP client as smtpd does, not our socket peer" \
    grep -qE ': policy: .* client=[^ ]*\[127\.0\.0\.1\] action=' "$LAB/smarthostd.log"
tap_done
