#!/bin/bash
# setup_admin_conf.sh - `smarthostctl postfix-setup` on a main.cf an admin already uses (TAP).
#
# The lab's main.cf gets what a real one has: a hash: transport map, a hash: TLS policy map and
# an opendkim-style milter pair (smtpd_milters = inet:..., non_smtpd_milters = $smtpd_milters,
# milter_default_action = accept), in the middle of the file. Through a real Postfix:
#   - a config without milter or policy rules hooks neither: mail flows with no milter running;
#   - with them, the admin's transport entry still routes, our milter is in the effective lists
#     once with its own default_action, the admin's milter_default_action stays;
#   - a lane whose server offers AUTH gets none, while the sender's relay still gets AUTH;
#   - our lines sit in one marked block, postconf's warnings stay off the screen;
#   - --undo restores main.cf and master.cf byte for byte, both times.
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix
: "${SMARTHOSTD_MILTER:?}"

lab_init
lab_auth_relay adm-user adm-pass-7 || bail "fake relay"
P_ADMIN=$(lab_free_port); P_LANE=$(lab_free_port); P_DKIM=$(lab_free_port); P_SMTPD=$(lab_free_port)
lab_fake admin "$P_ADMIN" || bail "fake admin host"
lab_fake lane "$P_LANE" --starttls "$LAB/cert.pem" "$LAB/key.pem" \
    --users "$(lab_users lane 'lane-user:lane-pass')" || bail "fake lane"

# Two configs for one daemon: A without milter or policy rules, B with them.
cat >>"$LAB/smarthostd.conf" <<CONF
transports = ( { domain = "lane.test"; transport = "lane:[127.0.0.1]:$P_LANE"; } );
CONF
cp "$LAB/smarthostd.conf" "$LAB/conf-a.conf"
cat >>"$LAB/smarthostd.conf" <<'CONF'
log_lookups = true;
policy = { require_tls = [ "@nobody.invalid" ]; };
milter = { };
CONF

lab_postfix_init "$P_SMTPD"
# The admin's own lines, in the middle of main.cf.
awk -v lab="$LAB" -v dkim="$P_DKIM" '
    { print }
    /^relayhost =/ {
        print "# routing and signing, as the admin had them"
        print "transport_maps = hash:" lab "/etc/transport"
        print "smtp_tls_policy_maps = hash:" lab "/etc/tls_policy"
        print "smtpd_milters = inet:127.0.0.1:" dkim
        print "non_smtpd_milters = $smtpd_milters"
        print "milter_default_action = accept"
    }' "$LAB/etc/main.cf" >"$LAB/main.tmp" && mv "$LAB/main.tmp" "$LAB/etc/main.cf"
echo "admin.test smtp:[127.0.0.1]:$P_ADMIN" >"$LAB/etc/transport"
echo "[127.0.0.1]:$P_ADMIN none" >"$LAB/etc/tls_policy"
lab_backdate "$LAB/etc/main.cf"
postmap -c "$LAB/etc" "$LAB/etc/transport" "$LAB/etc/tls_policy" || bail "postmap"
cp -p "$LAB/etc/main.cf" "$LAB/main.cf.orig"
cp -p "$LAB/etc/master.cf" "$LAB/master.cf.orig"

SD=$LAB/queue/smarthostd
mkdir -p "$SD" && chown root:postfix "$SD" && chmod 2750 "$SD"
"$SMARTHOSTD" -f -c "$LAB/smarthostd.conf" --socketmap "unix:$SD/socketmap" \
    --policy "unix:$SD/policy" >>"$LAB/smarthostd.log" 2>&1 &
LAB_PIDS+=($!)
lab_wait 15 test -S "$SD/socketmap" -a -S "$SD/policy" || bail "smarthostd did not start"
setup() {
    local conf=$1; shift
    "$SMARTHOSTCTL" -c "$conf" postfix-setup --config-dir "$LAB/etc" --state "$LAB/setup.state" \
        --socketmap "unix:$SD/socketmap" --policy "unix:$SD/policy" --milter "unix:$SD/milter" "$@"
}
same_as_orig() { cmp "$LAB/main.cf.orig" "$LAB/etc/main.cf" && cmp "$LAB/master.cf.orig" "$LAB/etc/master.cf"; }
dkim="inet:127.0.0.1:$P_DKIM"

# --- A: no milter or policy rules, and no milter running --------------------------------------
setup "$LAB/conf-a.conf" --apply >"$LAB/a.out" 2>"$LAB/a.err"
is "$?" 0 "--apply succeeds with the milter down when the config has no milter rules"
ok "... and says the milter is not hooked" grep -qx 'milter: not hooked: the config has no milter rules' "$LAB/a.out"
ok "... nor the policy service" grep -qx 'policy: not hooked: the config has no policy rules' "$LAB/a.out"
is "$(lab_postconf -h smtpd_milters non_smtpd_milters | tr '\n' ' ')" "$dkim \$smtpd_milters " \
   "the milter lists are the admin's"
ok "no policy check in the restrictions" bash -c "! postconf -c '$LAB/etc' -h smtpd_recipient_restrictions smtpd_end_of_data_restrictions | grep -q check_policy_service"
lab_postfix_start || bail "postfix did not start"
lab_send alice@example.com erin@elsewhere.test a-relay || diag "swaks failed"
lab_wait 60 lab_fake_has a-relay || diag "the relay did not see a-relay"
is "$(lab_fake_find a-relay)" "relay	$P_RELAY	alice@example.com	adm-user	adm-pass-7	yes" \
   "mail relayed with AUTH, no 451 from an unhooked milter"
lab_postfix_stop
setup "$LAB/conf-a.conf" --undo >/dev/null 2>&1
is "$?" 0 "--undo (A) succeeds"
ok "main.cf and master.cf byte for byte as before (A)" same_as_orig

# --- B: milter and policy rules --------------------------------------------------------------
"$SMARTHOSTD_MILTER" -f -c "$LAB/smarthostd.conf" -p "unix:$SD/milter" >>"$LAB/milter.log" 2>&1 &
LAB_PIDS+=($!)
lab_wait 15 test -S "$SD/milter" || bail "milter did not start"
setup "$LAB/smarthostd.conf" --apply >"$LAB/b.out" 2>"$LAB/b.err"
is "$?" 0 "--apply succeeds"
is "$(cat "$LAB/b.err")" "" "nothing on stderr (postconf's warnings kept off the screen)"
m=socketmap:unix:smarthostd/socketmap
is "$(lab_postconf -h transport_maps)" "hash:$LAB/etc/transport, $m:transport" \
   "transport_maps: the admin's table chained first"
is "$(lab_postconf -h smtp_tls_policy_maps)" "$m:tls, hash:$LAB/etc/tls_policy" \
   "smtp_tls_policy_maps: ours chained first, the admin's kept"
ok "the listing says what was chained" grep -q 'transport_maps = .*chained' "$LAB/b.out"
ok "... and warns that the admin's smtp: entries would be offered senders' passwords" \
    grep -q 'transport_maps = .*chained.*WARNING.*smtp_sasl_auth_enable=no' "$LAB/b.out"
ours='{ unix:smarthostd/milter, default_action=tempfail }'
is "$(lab_postconf -h smtpd_milters)" "$ours, $dkim" "smtpd_milters: ours first with its own default_action"
is "$(lab_postconf -h non_smtpd_milters)" "\$smtpd_milters" "non_smtpd_milters left as \$smtpd_milters"
is "$(lab_postconf -xh non_smtpd_milters | grep -o 'smarthostd/milter' | wc -l)" 1 \
   "our milter appears once in the effective non_smtpd_milters"
is "$(lab_postconf -h milter_default_action)" accept "milter_default_action stays the admin's"
is "$(lab_postconf -M lane/unix | tr -s ' ')" \
   "lane unix - - n - - smtp -o syslog_name=postfix/lane -o smtp_sasl_auth_enable=no" \
   "the lane transport defined with AUTH off"
ok "one marker block in main.cf" bash -c "[ \$(grep -c '^# smarthostd: begin' '$LAB/etc/main.cf') = 1 ] && [ \$(grep -c '^# smarthostd: end' '$LAB/etc/main.cf') = 1 ]"
ok "every line we set is inside it" bash -c "! sed '/^# smarthostd: begin/,/^# smarthostd: end/d' '$LAB/etc/main.cf' | \
    grep -qE '^(transport_maps|smtp_tls_policy_maps|smtpd_milters|sender_dependent_relayhost_maps|smtp_sasl_password_maps|smtpd_recipient_restrictions) ='"
ok "... and the lane and 465 transports inside master.cf's block" bash -c "sed -n '/^# smarthostd: begin/,/^# smarthostd: end/p' '$LAB/etc/master.cf' | grep -q '^lane unix'"

lab_postfix_start || bail "postfix did not start"
lab_send alice@example.com bob@admin.test b-admin || diag "swaks failed"
lab_send alice@example.com carol@lane.test b-lane || diag "swaks failed"
lab_send alice@example.com erin@elsewhere.test b-relay || diag "swaks failed"
for t in b-admin b-lane b-relay; do lab_wait 60 lab_fake_has "$t" || diag "no fake saw $t within 60 s"; done
is "$(lab_fake_find b-admin)" "admin	$P_ADMIN	alice@example.com	-	-	no" \
   "the admin's transport entry still routes (hash map, plain as its TLS policy says)"
is "$(lab_fake_find b-lane)" "lane	$P_LANE	alice@example.com	-	-	yes" \
   "the lane server offering AUTH got the mail with no AUTH"
ok "... and no AUTH attempt at all" bash -c "! grep -q '\"auth_failed\"' '$LAB/fake.jsonl'"
is "$(lab_fake_find b-relay)" "relay	$P_RELAY	alice@example.com	adm-user	adm-pass-7	yes" \
   "the sender's relay still got AUTH"
ok "the policy service was asked" grep -q 'policy: sender=<alice@example.com>' "$LAB/smarthostd.log"
lab_postfix_stop

setup "$LAB/smarthostd.conf" --undo >/dev/null 2>&1
is "$?" 0 "--undo (B) succeeds"
ok "main.cf and master.cf byte for byte as before (B)" same_as_orig

# --- a lane through Postfix's own smtp transport --------------------------------------------
# The hookup turns sender-dependent AUTH off in main.cf (on only in the relay transports), so
# Postfix's smtp asks the sasl map by nexthop only: no sender's password reaches a lane server.
cp "$LAB/conf-a.conf" "$LAB/conf-c.conf"
sed -i "s/transport = \"lane:/transport = \"smtp:/" "$LAB/conf-c.conf"
ok "check does not warn about a plain smtp: lane any more" \
   bash -c "! '$SMARTHOSTCTL' -c '$LAB/conf-c.conf' check 2>&1 | grep -q 'offers the sender.s relay password'"
setup "$LAB/conf-c.conf" --dry-run >"$LAB/c.out" 2>&1
ok "postfix-setup keeps smtp as it is: no sender password goes to its servers" \
   grep -q 'master.cf smtp/unix .*kept: the admin.s; no sender password goes to its servers' "$LAB/c.out"

tap_done
