#!/bin/bash
# env_relay.sh - docker-mailserver style: an EMPTY config file plus RELAY_HOST/RELAY_PORT/
# RELAY_USER/RELAY_PASSWORD in smarthostd's environment route all mail to that relay (TAP).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix

lab_init
lab_cert
P_RELAY=$(lab_free_port); P_MAP=$(lab_free_port); P_SMTPD=$(lab_free_port)
RCPT='rcpt@[127.0.0.2]'

lab_fake relay "$P_RELAY" --starttls "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
    --users "$(lab_users relay 'dms-user@example.net:dms-pass-3')" || bail "fake relay"
: >"$LAB/empty.conf"

ok "smarthostd -n accepts an empty file plus RELAY_* variables" \
    env RELAY_HOST=127.0.0.1 RELAY_PORT="$P_RELAY" RELAY_USER=dms-user@example.net \
        RELAY_PASSWORD=dms-pass-3 "$SMARTHOSTD" -n -c "$LAB/empty.conf"
lab_smarthostd "$LAB/empty.conf" "$P_MAP" RELAY_HOST=127.0.0.1 RELAY_PORT="$P_RELAY" \
    RELAY_USER=dms-user@example.net RELAY_PASSWORD=dms-pass-3 || bail "smarthostd did not start"

lab_postfix_init "$P_SMTPD"
lab_postfix_hookup "$P_MAP"
lab_postfix_start || bail "postfix did not start"

lab_send a@one.test "$RCPT" e-one || diag "swaks failed"
lab_send b@two.example "$RCPT" e-two || diag "swaks failed"
lab_send '<>' "$RCPT" e-null || diag "swaks failed"
for s in e-one e-two e-null; do
    lab_wait 60 lab_fake_has "$s" || diag "no fake saw $s within 60 s"
done
is "$(lab_fake_find e-one)" "relay	$P_RELAY	a@one.test	dms-user@example.net	dms-pass-3	yes" \
   "sender 1 goes to RELAY_HOST:RELAY_PORT with RELAY_USER/RELAY_PASSWORD over TLS"
is "$(lab_fake_find e-two)" "relay	$P_RELAY	b@two.example	dms-user@example.net	dms-pass-3	yes" \
   "sender 2 too"
is "$(lab_fake_find e-null)" "relay	$P_RELAY	<>	dms-user@example.net	dms-pass-3	yes" \
   "the null sender too"
ok "no password in smarthostd's log" bash -c "! grep -q 'dms-pass-3' '$LAB/smarthostd.log'"

tap_done
