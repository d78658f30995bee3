#!/bin/bash
# lanes.sh - destination lanes (transport_maps served by smarthostd) through a real Postfix (TAP).
#
# transport_maps beats the sender's relay. "lane:[host]:port" goes to its own nexthop (here the
# relay itself, so the sender's credentials are used there); "slow:" (empty nexthop) goes to the
# recipient domain's MX hosts, as transport(5) says ("the destination domain name is used
# instead"), bypassing the relay; this test holds the docs, `route` and the load-time warning
# to Postfix's real behaviour.
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix

lab_init
lab_cert
P_MG=$(lab_free_port); P_LANE=$(lab_free_port); P_MAP=$(lab_free_port); P_SMTPD=$(lab_free_port)
lab_fake mailgun "$P_MG" --starttls "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
    --users "$(lab_users mailgun 'mg-user:mg-pass-5')" || bail "fake mailgun"
lab_fake lane "$P_LANE" || bail "fake lane"
cat >"$LAB/smarthostd.conf" <<CONF
credentials = { mailgun = { user = "mg-user"; password = "mg-pass-5"; }; };
relays = { mailgun = { host = "127.0.0.1"; port = $P_MG; credentials = "mailgun"; }; };
senders = ( { match = "@example.com"; relay = "mailgun"; } );
transports = (
    { domain = "slow.test";   transport = "slow:"; },
    { domain = "relayed.test"; transport = "slow:[127.0.0.1]:$P_MG"; },
    { domain = ".lanes.test"; transport = "lane:[127.0.0.1]:$P_LANE"; }
);
CONF
lab_smarthostd "$LAB/smarthostd.conf" "$P_MAP" || bail "smarthostd did not start"
lab_postfix_init "$P_SMTPD"
lab_postfix_hookup "$P_MAP"
cat >>"$LAB/etc/master.cf" <<'MASTER'
slow unix - - n - 2 smtp
  -o syslog_name=postfix/slow
lane unix - - n - - smtp
  -o syslog_name=postfix/lane
  -o smtp_sasl_auth_enable=no
MASTER
lab_postfix_start || bail "postfix did not start"

ok "check warns that the empty-nexthop lane bypasses the relays" \
   bash -c "'$SMARTHOSTCTL' -c '$LAB/smarthostd.conf' check 2>&1 | grep -q 'slow.test.*bypassing every sender.s relay'"
ok "route explains it: the recipient domain, not the relay" \
   bash -c "'$SMARTHOSTCTL' -c '$LAB/smarthostd.conf' route alice@example.com bob@slow.test | grep -qx 'relay=slow.test (MX lookup)'"

lab_send alice@example.com bob@slow.test l-slow || diag "swaks failed"
lab_send alice@example.com dave@relayed.test l-relayed || diag "swaks failed"
lab_send alice@example.com carol@x.lanes.test l-lane || diag "swaks failed"
for s in l-relayed l-lane; do
    lab_wait 60 lab_fake_has "$s" || diag "no fake saw $s within 60 s"
done
lab_wait 60 grep -q "to=<bob@slow.test>, relay=none" "$LAB/maillog" || diag "no attempt for bob@slow.test"
ok "slow: (empty nexthop) went for the recipient domain slow.test, not the relay" \
   grep -qE "postfix/slow/smtp\[[0-9]+\]: .*to=<bob@slow.test>, relay=none, .*host slow.test" "$LAB/maillog"
is "$(lab_fake_find l-slow)" "" "... and no relay saw it"
is "$(lab_fake_find l-relayed)" "mailgun	$P_MG	alice@example.com	mg-user	mg-pass-5	yes" \
   "slow:[relay] keeps relaying: sender's credentials (looked up by sender) and TLS"
ok "... delivered by the slow transport" \
   grep -qE "postfix/slow/smtp\[[0-9]+\]: .*to=<dave@relayed.test>, relay=127.0.0.1\[127.0.0.1\]:$P_MG,.* status=sent" "$LAB/maillog"
is "$(lab_fake_find l-lane)" "lane	$P_LANE	alice@example.com	-	-	no" \
   "lane:[host]:port goes to its own nexthop (for a subdomain of .lanes.test)"
ok "... delivered by the lane transport" \
   grep -qE "postfix/lane/smtp\[[0-9]+\]: .*to=<carol@x.lanes.test>, relay=127.0.0.1\[127.0.0.1\]:$P_LANE,.* status=sent" "$LAB/maillog"

tap_done
