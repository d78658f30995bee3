#!/bin/bash
# sasl_scope.sh - which servers a relay's password reaches, through a real Postfix (TAP).
#
# smtp(8) asks the sasl map by sender (sender-dependent AUTH, non-null sender), then by the
# session's host name, then by the nexthop (smtp_sasl_glue.c, smtp_sasl_passwd_lookup). A
# direct sender mailing victim@[relay's IP] (127.0.0.2, not local) reaches a hostile server on that host ("mx":
# smtp_tcp_port points there) that offers AUTH without TLS; a relayed sender mailing a lane
# domain reaches a lane server that offers STARTTLS and AUTH. Neither may see any AUTH. A
# bounce (null sender) must leave through the "<>" rule's relay, not the default relay, and
# the direct deliveries must show in the daemon's counters.
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix

lab_init
lab_cert
P_R=$(lab_free_port); P_N=$(lab_free_port); P_MX=$(lab_free_port); P_LANE=$(lab_free_port)
P_MAP=$(lab_free_port); P_SMTPD=$(lab_free_port)
USERS=$(lab_users relay 'relay-user:relay-pass-7')
lab_fake relay "$P_R" --host 127.0.0.2 --starttls "$LAB/cert.pem" "$LAB/key.pem" --require-auth --users "$USERS" ||
    bail "fake relay"
lab_fake bounces "$P_N" || bail "fake bounces"
lab_fake mx "$P_MX" --host 127.0.0.2 --users "$USERS" --auth-plaintext || bail "fake mx"
lab_fake lane "$P_LANE" --starttls "$LAB/cert.pem" "$LAB/key.pem" --users "$USERS" ||
    bail "fake lane"
cat >"$LAB/smarthostd.conf" <<CONF
credentials = { relay = { user = "relay-user"; password = "relay-pass-7"; }; };
relays = {
    relay   = { host = "127.0.0.2"; port = $P_R; credentials = "relay"; };
    bounces = { host = "127.0.0.1"; port = $P_N; tls = "may"; };
};
default_relay = "relay";
senders = (
    { match = "@direct.test"; relay = "direct"; },
    { match = "<>";           relay = "bounces"; }
);
transports = ( { domain = "lane.test"; transport = "smtp:[127.0.0.1]:$P_LANE"; } );
CONF
lab_smarthostd "$LAB/smarthostd.conf" "$P_MAP" -- --control "unix:$LAB/control" ||
    bail "smarthostd did not start"
lab_postfix_init "$P_SMTPD"
lab_postfix_hookup "$P_MAP"
lab_postconf -e "smtp_tcp_port = $P_MX"
lab_postfix_start || bail "postfix did not start"

# Any AUTH a fake saw (accepted with a message, or refused), as "name user" lines.
auths_at() {
    "$LAB_PY" - "$LAB/fake.jsonl" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("name") == sys.argv[2] and r.get("auth_user"):
        print(r["name"], r["auth_user"])
PY
}

lab_send someone@relayed.test rcpt@far.test s-relayed || diag "swaks failed"
lab_send d1@direct.test 'victim@[127.0.0.2]' s-direct1 || diag "swaks failed"
lab_send d2@direct.test 'victim@[127.0.0.2]' s-direct2 || diag "swaks failed"
lab_send someone@relayed.test bob@lane.test s-lane || diag "swaks failed"
lab_send '<>' rcpt@far.test s-null || diag "swaks failed"
for s in s-relayed s-direct1 s-direct2 s-lane s-null; do
    lab_wait 60 lab_fake_has "$s" || diag "no fake saw $s within 60 s"
done

is "$(lab_fake_find s-relayed)" "relay	$P_R	someone@relayed.test	relay-user	relay-pass-7	yes" \
   "a relayed sender reaches its relay with its login over TLS"
is "$(lab_fake_find s-direct1 | cut -f1,3,4,6)" "mx	d1@direct.test	-	no" \
   "a direct sender's mail to victim@[relay's IP] reaches the server on the relay's host"
is "$(auths_at mx)" "" "... which sees no AUTH at all (it offers AUTH without TLS)"
is "$(lab_fake_find s-lane | cut -f1,3,4,6)" "lane	someone@relayed.test	-	yes" \
   "a relayed sender's mail to a lane domain reaches the lane server over TLS"
is "$(auths_at lane)" "" "... which is never handed the sender's relay login"
is "$(lab_fake_find s-null | cut -f1,3,4)" "bounces	<>	-" \
   "the null sender leaves through the <> rule's relay, not the default relay"
ok "route '<>' names the same relay" \
   bash -c "'$SMARTHOSTCTL' -c '$LAB/smarthostd.conf' route '<>' | grep -q 'bounces'"

prom=$("$SMARTHOSTCTL" stats --prometheus --control "$LAB/control" 2>&1)
metric() { printf '%s\n' "$prom" | awk -v k="$1" '$1 == k { print $2 }'; }
# trivial-rewrite resolves each message more than once (cleanup, qmgr): at least one each.
ok "relay_routes_total{relay=\"direct\"} counts the direct deliveries" \
   test "$(metric 'smarthostd_relay_routes_total{relay="direct"}')" -ge 2
ok "... the direct rule's hits too" \
   bash -c 'printf "%s\n" "$1" | grep -qE "^smarthostd_sender_rule_hits_total\{rule=\"[^\"]*direct.test[^\"]*\"\} [1-9]"' _ "$prom"
ok "... and the bounce relay its null-sender decisions" \
   test "$(metric 'smarthostd_relay_routes_total{relay="bounces"}')" -ge 1
printf '%s\n' "$prom" | grep -E 'relay_routes|rule_hits' | sed 's/^/# /' >&2
ok "no password in the daemon's log" bash -c "! grep -rq 'relay-pass-7' '$LAB'/smarthostd*.log '$LAB/maillog'"

tap_done
