#!/bin/bash
# t_postfix_setup.sh - `smarthostctl postfix-setup` against a throwaway Postfix config:
# refuses while the daemons are down, --dry-run changes nothing, --apply sets every
# parameter (policy check first, milters first), mail goes out through a fake smarthost
# with AUTH, a second --apply changes nothing, --undo puts main.cf and master.cf back
# byte for byte; on a main.cf that has our policy check, maps and 465 transport already,
# --apply keeps them and proposes none of them twice (TAP).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix

lab_init
lab_auth_relay setup-user setup-pass-9 || bail "fake relay"
P_SMTPD=$(lab_free_port)
RCPT='rcpt@[127.0.0.2]'

# A policy rule and a milter group: postfix-setup hooks only what the config uses.
cat >>"$LAB/smarthostd.conf" <<'CONF'
log_lookups = true;
policy = { require_tls = [ "@nobody.invalid" ]; };
milter = { };
CONF
lab_postfix_init "$P_SMTPD"
# Values the setup must keep after its own (and put back on undo).
lab_postconf -e "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination" \
    "relayhost = [old-relay.invalid]:25"
cp -p "$LAB/etc/main.cf" "$LAB/main.cf.orig"
cp -p "$LAB/etc/master.cf" "$LAB/master.cf.orig"

SD=$LAB/queue/smarthostd
# As the package makes it: setgid group postfix, so the milter's socket is group postfix too.
mkdir -p "$SD" && chown root:postfix "$SD" && chmod 2750 "$SD"
SETUP=("$SMARTHOSTCTL" -c "$LAB/smarthostd.conf" postfix-setup --config-dir "$LAB/etc"
    --state "$LAB/setup.state" --socketmap "unix:$SD/socketmap" --policy "unix:$SD/policy"
    --milter "unix:$SD/milter")
unchanged() { cmp -s "$LAB/main.cf.orig" "$LAB/etc/main.cf" && cmp -s "$LAB/master.cf.orig" "$LAB/etc/master.cf"; }

"${SETUP[@]}" --apply >"$LAB/refuse.out" 2>&1
is "$?" 1 "--apply refuses while the daemons are down"
ok "nothing changed, no state file" bash -c "$(declare -f unchanged); LAB='$LAB'; unchanged && ! test -e '$LAB/setup.state'"
ok "the refusal names the reason" grep -q 'not answering' "$LAB/refuse.out"

"$SMARTHOSTD" -f -c "$LAB/smarthostd.conf" --socketmap "unix:$SD/socketmap" \
    --policy "unix:$SD/policy" >>"$LAB/smarthostd.log" 2>&1 &
LAB_PIDS+=($!)
"$MILTER" -f -c "$LAB/smarthostd.conf" -p "unix:$SD/milter" >>"$LAB/milter.log" 2>&1 &
LAB_PIDS+=($!)
lab_wait 15 test -S "$SD/socketmap" -a -S "$SD/policy" -a -S "$SD/milter" || bail "daemons did not start"

"${SETUP[@]}" --dry-run >"$LAB/dry.out" 2>&1
is "$?" 0 "--dry-run succeeds"
ok "--dry-run changes nothing" unchanged
ok "--dry-run shows the probes answering" bash -c "[ \$(grep -c answering '$LAB/dry.out') = 3 ]"

"${SETUP[@]}" --apply >"$LAB/apply.out" 2>&1 || { cat "$LAB/apply.out" >&2; bail "--apply failed"; }
ok "--apply wrote the state file (0600)" bash -c "[ \$(stat -c %a '$LAB/setup.state') = 600 ]"
m=socketmap:unix:smarthostd/socketmap
is "$(lab_postconf -nh sender_dependent_relayhost_maps)" "$m:relay" "relay map, relative to the queue directory"
is "$(lab_postconf -nh sender_dependent_default_transport_maps)" "$m:sender_transport" "sender transport map"
is "$(lab_postconf -nh smtp_sasl_password_maps)" "$m:sasl" "sasl map"
is "$(lab_postconf -nh smtp_tls_policy_maps transport_maps | tr '\n' ' ')" "$m:tls $m:transport " "tls and transport maps"
is "$(lab_postconf -nh smtp_sasl_auth_enable smtp_sender_dependent_authentication smtp_sasl_security_options smtp_sasl_tls_security_options | tr '\n' ' ')" \
   "yes no noanonymous, noplaintext noanonymous " \
   "SASL: enabled, not sender dependent (but in the relay transports), no plaintext login without TLS"
is "$(lab_postconf -nh relayhost)" "" "relayhost emptied (smarthostd decides)"
is "$(lab_postconf -nh smtpd_recipient_restrictions)" \
   "check_policy_service unix:smarthostd/policy, permit_mynetworks, reject_unauth_destination" \
   "policy check first, the old restrictions after it"
is "$(lab_postconf -nh smtpd_end_of_data_restrictions)" "check_policy_service unix:smarthostd/policy" \
   "policy check at end of data"
milter='{ unix:smarthostd/milter, default_action=tempfail }'
is "$(lab_postconf -nh smtpd_milters non_smtpd_milters | tr '\n' ' ')" "$milter $milter " \
   "our milter in both lists, tempfail as its own default action"
is "$(lab_postconf -n milter_default_action)" "" "milter_default_action untouched"
is "$(lab_postconf -M smarthost/unix | tr -s ' ')" \
   "smarthost unix - - n - - smtp -o smtp_sender_dependent_authentication=yes -o smtp_fallback_relay=" \
   "the relay transport in master.cf, sender-dependent AUTH there only"
is "$(lab_postconf -M smarthost-smtps/unix | tr -s ' ')" \
   "smarthost-smtps unix - - n - - smtp -o smtp_tls_wrappermode=yes -o smtp_tls_security_level=encrypt -o smtp_sender_dependent_authentication=yes -o smtp_fallback_relay=" \
   "the 465 transport in master.cf"
cp -p "$LAB/etc/main.cf" "$LAB/main.cf.applied"
cp -p "$LAB/etc/master.cf" "$LAB/master.cf.applied"
cp -p "$LAB/setup.state" "$LAB/setup.state.applied"
"${SETUP[@]}" --apply >"$LAB/apply2.out" 2>&1
is "$?" 0 "a second --apply succeeds"
ok "... and changes nothing: main.cf, master.cf and the state as the first left them" bash -c \
    "cmp '$LAB/main.cf.applied' '$LAB/etc/main.cf' && cmp '$LAB/master.cf.applied' '$LAB/etc/master.cf' && cmp '$LAB/setup.state.applied' '$LAB/setup.state'"
ok "... saying so" grep -q 'nothing to change' "$LAB/apply2.out"

lab_postfix_start || bail "postfix did not start"
lab_send alice@example.com "$RCPT" setup-one || diag "swaks failed"
lab_wait 60 lab_fake_has setup-one || diag "the relay did not see setup-one within 60 s"
is "$(lab_fake_find setup-one)" "relay	$P_RELAY	alice@example.com	setup-user	setup-pass-9	yes" \
   "mail relayed through the applied hookup, AUTH over TLS"
ok "the policy service was asked" grep -q 'policy: sender=<alice@example.com>' "$LAB/smarthostd.log"
ok "smtpd reached the milter (no connect warning in the maillog)" bash -c "! grep -q 'connect to Milter service' '$LAB/maillog'"
lab_postfix_stop

"${SETUP[@]}" --undo >"$LAB/undo.out" 2>&1
is "$?" 0 "--undo succeeds"
ok "main.cf is byte-identical to the original" cmp "$LAB/main.cf.orig" "$LAB/etc/main.cf"
ok "master.cf is byte-identical to the original" cmp "$LAB/master.cf.orig" "$LAB/etc/master.cf"
ok "the state file is gone" test ! -e "$LAB/setup.state"
"${SETUP[@]}" --undo >/dev/null 2>&1
is "$?" 1 "a second --undo has nothing to undo"
# An admin's main.cf that has our policy check already (named absolute, and in the
# { endpoint, attr } form), our maps by hand and the 465 transport: recognised, not doubled.
lab_postconf -e "smtpd_recipient_restrictions = check_policy_service unix:$SD/policy, permit_mynetworks, reject_unauth_destination" \
    "smtpd_end_of_data_restrictions = check_policy_service { unix:smarthostd/policy, timeout=10s }" \
    "sender_dependent_relayhost_maps = socketmap:unix:$SD/socketmap:relay"
lab_postconf -M -e "smarthost-smtps/unix = smarthost-smtps unix - - n - - smtp -o smtp_fallback_relay= -o smtp_tls_security_level=encrypt -o smtp_sender_dependent_authentication=yes -o smtp_tls_wrappermode=yes"
cp -p "$LAB/etc/main.cf" "$LAB/main.cf.admin"
cp -p "$LAB/etc/master.cf" "$LAB/master.cf.admin"
"${SETUP[@]}" --apply >"$LAB/admin.out" 2>&1
is "$?" 0 "--apply on a main.cf holding our check_policy_service succeeds"
is "$(lab_postconf -h smtpd_recipient_restrictions)" \
   "check_policy_service unix:$SD/policy, permit_mynetworks, reject_unauth_destination" \
   "the admin's check_policy_service (absolute path) is recognised, not proposed again"
is "$(lab_postconf -h smtpd_end_of_data_restrictions)" \
   "check_policy_service { unix:smarthostd/policy, timeout=10s }" \
   "... and in the { endpoint, attr } form"
is "$(lab_postconf -h sender_dependent_relayhost_maps)" "socketmap:unix:$SD/socketmap:relay" \
   "the admin's own copy of our relay map is kept, not chained with itself"
is "$(grep -c '^smarthost-smtps' "$LAB/etc/master.cf")" 1 "the 465 transport the admin has is not defined twice"
ok "the listing calls them unchanged" bash -c "grep -q 'smtpd_recipient_restrictions = .*unchanged' '$LAB/admin.out' && grep -q 'master.cf smarthost-smtps.*unchanged' '$LAB/admin.out'"
cp -p "$LAB/etc/main.cf" "$LAB/main.cf.applied"
cp -p "$LAB/etc/master.cf" "$LAB/master.cf.applied"
rm -f "$LAB/setup.state.applied"
cp -p "$LAB/setup.state" "$LAB/setup.state.applied"
"${SETUP[@]}" --apply >"$LAB/admin2.out" 2>&1
is "$?" 0 "--apply again on the admin's main.cf"
ok "... changes nothing" bash -c "cmp '$LAB/main.cf.applied' '$LAB/etc/main.cf' && cmp '$LAB/master.cf.applied' '$LAB/etc/master.cf' && cmp '$LAB/setup.state.applied' '$LAB/setup.state'"
"${SETUP[@]}" --undo >"$LAB/admin-undo.out" 2>&1
is "$?" 0 "--undo after the admin's case"
ok "main.cf and master.cf as the admin had them" bash -c "cmp '$LAB/main.cf.admin' '$LAB/etc/main.cf' && cmp '$LAB/master.cf.admin' '$LAB/etc/master.cf'"

ok "no password in the daemons' logs" bash -c "! grep -q setup-pass-9 '$LAB/smarthostd.log' '$LAB/milter.log'"

tap_done
