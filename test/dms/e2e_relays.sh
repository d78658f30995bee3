#!/bin/bash
# e2e_relays.sh - a real Postfix through smarthostd configured with the relay commands
# alone: two domains at one relay host, each logging in with its own user, and a
# relay on port 465 (implicit TLS, RFC 8314) added with no option at all (TAP).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix
unset RELAY_HOST RELAY_PORT RELAY_USER RELAY_PASSWORD DEFAULT_RELAY_HOST
export SMARTHOSTD_PIDFILE=/nonexistent/none.pid SMARTHOSTD_MILTER_PIDFILE=/nonexistent/none.pid
C=$SMARTHOSTCTL

lab_init
lab_cert
P_MG=$(lab_free_port); P_MAP=$(lab_free_port); P_SMTPD=$(lab_free_port); P_MX=$(lab_free_port)
P_SES=$(lab_free_port 465) # 465 itself when free: the port alone must mean implicit TLS
SES_OPT=()
if [ "$P_SES" != 465 ]; then
    SES_OPT=(--implicit-tls)
    diag "port 465 busy: ses on $P_SES with --implicit-tls"
fi

lab_fake mg "$P_MG" --starttls "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
    --users "$(lab_users mg 'a-user:pw-a-1' 'b-user:pw-b-2')" || bail "fake mg"
lab_fake ses "$P_SES" --smtps "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
    --users "$(lab_users ses 'ses-user:pw-ses-3')" || bail "fake ses"
lab_fake mx "$P_MX" --host 127.0.0.2 || bail "fake mx"

cd "$LAB" || bail "lab"
printf 'vault_key = "%s/vault.key";\nlog_lookups = true;\n@include "managed.conf"\n' "$LAB" >main.conf
rl() { "$C" -c main.conf relay "$@" >>cli.log 2>&1 || { cat cli.log >&2; bail "relay $*"; }; }
"$C" -c main.conf key init >/dev/null 2>&1 || bail "key init"
rl add-domain a.test 127.0.0.1 "$P_MG"
rl add-domain b.test 127.0.0.1 "$P_MG"
echo pw-a-1 | rl add-auth a.test a-user --password-stdin
echo pw-b-2 | rl add-auth b.test b-user --password-stdin
rl add-domain s.test 127.0.0.1 "$P_SES" "${SES_OPT[@]}"
echo pw-ses-3 | rl add-auth s.test ses-user --password-stdin
ok "one relay for the shared nexthop" bash -c "[ \$(grep -c 'host = \"127.0.0.1\"' managed.conf) = 2 ]"
chmod 644 main.conf managed.conf

lab_smarthostd "$LAB/main.conf" "$P_MAP" || bail "smarthostd did not start"
lab_postfix_init "$P_SMTPD"
lab_postfix_hookup "$P_MAP"
lab_postconf -e "smtp_tcp_port = $P_MX"
lab_postfix_start || bail "postfix did not start"

RCPT='rcpt@[127.0.0.2]'
lab_send alice@a.test "$RCPT" t-a || diag "swaks a"
lab_send bob@b.test "$RCPT" t-b || diag "swaks b"
lab_send sam@s.test "$RCPT" t-s || diag "swaks s"
for s in t-a t-b t-s; do
    lab_wait 60 lab_fake_has "$s" || { lab_flush; lab_wait 30 lab_fake_has "$s"; } || diag "no fake saw $s"
done
is "$(lab_fake_find t-a)" "mg	$P_MG	alice@a.test	a-user	pw-a-1	yes" \
   "@a.test at the shared relay host logs in as a-user"
is "$(lab_fake_find t-b)" "mg	$P_MG	bob@b.test	b-user	pw-b-2	yes" \
   "@b.test at the same host logs in as b-user"
is "$(lab_fake_find t-s)" "ses	$P_SES	sam@s.test	ses-user	pw-ses-3	yes" \
   "the $P_SES relay made by add-domain alone speaks implicit TLS and logs in"
ok "no AUTH failures at any fake" bash -c "! grep -q auth_failed '$LAB/fake.jsonl'"
tap_done
