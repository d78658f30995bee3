#!/bin/bash
# routing.sh - a real Postfix routes through smarthostd to fake smarthosts (TAP).
#
# Relays: isp (plain, no AUTH, the default), mailgun (STARTTLS + AUTH), ses (implicit TLS
# on its own port + AUTH), and "mx": the recipient's own server at 127.0.0.2, reached only
# by direct delivery (smtp_tcp_port points there; recipients are user@[127.0.0.2], so no DNS).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix

lab_init
lab_cert
P_ISP=$(lab_free_port); P_MG=$(lab_free_port); P_SES=$(lab_free_port)
P_MX=$(lab_free_port); P_MAP=$(lab_free_port); P_SMTPD=$(lab_free_port)
P_DEAD=$(lab_free_port)   # nothing ever listens here: the failover case
RCPT='rcpt@[127.0.0.2]'

umask 077
printf 'mg-secret-1' >"$LAB/mailgun.pass"
printf 'ses-secret-2' >"$LAB/ses.pass"
umask 022

lab_fake isp "$P_ISP" || bail "fake isp"
lab_fake mailgun "$P_MG" --starttls "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
    --users "$(lab_users mailgun 'postmaster@mg.example.com:mg-secret-1')" || bail "fake mailgun"
lab_fake ses "$P_SES" --smtps "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
    --users "$(lab_users ses 'ses-user:ses-secret-2')" || bail "fake ses"
lab_fake mx "$P_MX" --host 127.0.0.2 || bail "fake mx"

# write_conf EXAMPLE_COM_RELAY
write_conf() {
    cat >"$LAB/smarthostd.conf.new" <<CONF
recipient_delimiter = "+";
implicit_tls_transport = "smarthost-smtps";
log_lookups = true;
default_relay = "isp";
credentials = {
    mailgun = { user = "postmaster@mg.example.com"; password = "file:$LAB/mailgun.pass"; };
    ses     = { user = "ses-user"; password = "file:$LAB/ses.pass"; };
};
relays = {
    isp     = { host = "127.0.0.1"; port = $P_ISP; tls = "may"; };
    mailgun = { host = "127.0.0.1"; port = $P_MG;  tls = "encrypt"; credentials = "mailgun"; };
    ses     = { host = "127.0.0.1"; port = $P_SES; implicit_tls = true; tls = "encrypt"; credentials = "ses"; };
    dead    = { host = "127.0.0.1"; port = $P_DEAD; tls = "may"; failover = [ "isp" ]; };
};
senders = (
    { match = "@example.com";        relay = "$1"; },
    { match = "billing@example.com"; relay = "ses"; },
    { match = "@internal.example";   relay = "direct"; },
    { match = "@failover.test";      relay = "dead"; }
);
CONF
    mv "$LAB/smarthostd.conf.new" "$LAB/smarthostd.conf"   # never edit the live file in place
}
write_conf mailgun

ok "smarthostd -n accepts the test config" \
    "$SMARTHOSTD" -n -c "$LAB/smarthostd.conf"
lab_smarthostd "$LAB/smarthostd.conf" "$P_MAP" || bail "smarthostd did not start"

lab_postfix_init "$P_SMTPD"
lab_postfix_hookup "$P_MAP"
lab_postconf -e "smtp_tcp_port = $P_MX"
lab_postfix_start || bail "postfix did not start"

send() { lab_send "$1" "$RCPT" "$2" || diag "swaks failed for $1 ($2)"; }
send someone@other.test   t-default
send alice@example.com    t-domain
send billing@example.com  t-address
send ops@internal.example t-direct
send alice+news@example.com t-extension
send fo@failover.test     t-failover

for s in t-default t-domain t-address t-direct t-extension t-failover; do
    lab_wait 60 lab_fake_has "$s" || diag "no fake saw $s within 60 s"
done

is "$(lab_fake_find t-default)" "isp	$P_ISP	someone@other.test	-	-	no" \
   "unmatched sender goes to the default relay, no AUTH"
is "$(lab_fake_find t-domain)" \
   "mailgun	$P_MG	alice@example.com	postmaster@mg.example.com	mg-secret-1	yes" \
   "@example.com goes to mailgun over STARTTLS with its credentials"
is "$(lab_fake_find t-extension)" \
   "mailgun	$P_MG	alice+news@example.com	postmaster@mg.example.com	mg-secret-1	yes" \
   "an address extension follows its domain rule"
is "$(lab_fake_find t-address)" \
   "ses	$P_SES	billing@example.com	ses-user	ses-secret-2	yes" \
   "billing@example.com beats @example.com: ses, implicit TLS, AUTH"
# The ses fake speaks TLS from the first byte: a delivery there proves wrapper mode.
ok "maillog: billing@ delivered to the implicit-TLS port" \
    grep -qF "relay=127.0.0.1[127.0.0.1]:$P_SES, " "$LAB/maillog"
is "$(lab_fake_find t-direct)" "mx	$P_MX	ops@internal.example	-	-	no" \
   "@internal.example (relay direct) reaches the recipient's own server, no AUTH"
ok "maillog: direct delivery went to the recipient's host, not a relay" \
    grep -qF "to=<$RCPT>, relay=127.0.0.2[127.0.0.2]:$P_MX," "$LAB/maillog"
is "$(lab_fake_find t-failover)" "isp	$P_ISP	fo@failover.test	-	-	no" \
   "an unreachable relay fails over to the next in its list"
ok "maillog: the dead relay was tried first" \
    grep -qF "connect to 127.0.0.1[127.0.0.1]:$P_DEAD: Connection refused" "$LAB/maillog"
ok "no fake smarthost ever saw the excluded sender" \
    bash -c "! grep -F '\"ops@internal.example\"' '$LAB/fake.jsonl' | grep -vq '\"name\": \"mx\"'"
ok "no AUTH failures at any fake" bash -c "! grep -q auth_failed '$LAB/fake.jsonl'"
ok "no password in smarthostd's log" \
    bash -c "! grep -qE 'mg-secret-1|ses-secret-2' '$LAB/smarthostd.log'"

# --- a route change reaches new mail: new config + SIGHUP, no postmap, no postfix reload
write_conf ses
kill -HUP "$SMARTHOSTD_PID"
ok "after SIGHUP smarthostd answers the new route for @example.com" \
    lab_wait 20 bash -c "postmap -c '$(lab_postmap_dir)' -q carol@example.com \
        socketmap:inet:127.0.0.1:$P_MAP:relay | grep -q ':$P_SES'"
# trivial-rewrite caches recent answers briefly: a new sender is not in its cache,
# and we allow a retry for good measure (bounded).
send carol@example.com t-reload
lab_wait 60 lab_fake_has t-reload || { lab_flush; lab_wait 30 lab_fake_has t-reload; }
is "$(lab_fake_find t-reload)" "ses	$P_SES	carol@example.com	ses-user	ses-secret-2	yes" \
   "after reload @example.com mail goes to ses without postfix reload"
# The same sender that went to mailgun before the reload follows the new route too.
send alice@example.com t-reload-same
lab_wait 60 lab_fake_has t-reload-same || { lab_flush; lab_wait 30 lab_fake_has t-reload-same; }
is "$(lab_fake_find t-reload-same)" "ses	$P_SES	alice@example.com	ses-user	ses-secret-2	yes" \
   "after reload a sender routed before the change follows the new route"
ok "postfix was not reloaded" bash -c "! grep -q 'reload' '$LAB/maillog'"

tap_done
