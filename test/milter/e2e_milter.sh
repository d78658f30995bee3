#!/bin/bash
# e2e_milter.sh - a real Postfix with smarthostd-milter as smtpd_milters and
# non_smtpd_milters, delivering to smtp-sink (which stores whole messages).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix smtp-sink
MILTER=${SMARTHOSTD_MILTER:?}

lab_init
P_SINK=$(lab_free_port); P_SMTPD=$(lab_free_port); P_MILTER=$(lab_free_port)
mkdir -p "$LAB/sink"; chown postfix "$LAB/sink"

cat >"$LAB/smarthostd.conf" <<CONF
relays = {
  sink     = { host = "127.0.0.1"; port = $P_SINK; tls = "none"; };
  verified = { host = "127.0.0.2"; port = $P_SINK; tls = "none"; };
};
default_relay = "sink";
senders = ( { match = "@verified.example"; relay = "verified"; } );
milter = {
  hostname = "milter.example.test";
  privacy = { internal_networks = [ "10.0.0.0/8", "192.168.0.0/16" ]; internal_hosts = [ "*.lan" ]; };
  sender_rewrite = ( { relay = "verified"; identity = "bounce@verified.example"; from_header = true; } );
};
CONF

lab_daemon sink "$P_SINK" smtp-sink -u postfix -d "$LAB/sink/%M." "127.0.0.1:$P_SINK" 64 ||
    bail "smtp-sink did not start"
lab_daemon milter "$P_MILTER" "$MILTER" -c "$LAB/smarthostd.conf" -f \
    -p "inet:$P_MILTER@127.0.0.1" || bail "milter did not start"
MILTER_PID=$LAB_PID

lab_postfix_init "$P_SMTPD"
# Static relayhost: routing is not under test here. Postfix must not add Date
# and Message-ID itself (local_header_rewrite_clients), so the milter's show.
lab_postfix_milter "$P_MILTER"
lab_postconf -e "relayhost = [127.0.0.1]:$P_SINK" \
    "local_header_rewrite_clients =" \
    "always_add_missing_headers = no"
lab_postfix_start || bail "postfix did not start"

# sink_file SUBJECT: the stored message carrying this Subject
sink_file() { grep -l -F -x -e "Subject: $1" -e "Subject: $1"$'\r' "$LAB"/sink/* 2>/dev/null | head -1; }
sink_has() { [ -n "$(sink_file "$1")" ]; }

msg=$LAB/msg1.eml
printf '%s\r\n' \
    "Received: from pc1.lan (pc1.lan [10.1.2.3]) by gw.example.org with ESMTP id 11; Mon, 1 Jan 2024 00:00:00 +0000" \
    "Received: from mail.example.net (mail.example.net [203.0.113.5]) by gw.example.org; Mon, 1 Jan 2024 00:00:00 +0000" \
    "Received: from box (unknown [192.168.7.7]) by gw.example.org; Mon, 1 Jan 2024 00:00:00 +0000" \
    "X-Originating-IP: [10.9.9.9]" \
    "From: Alice <alice@example.org>" \
    "To: rcpt@example.net" \
    "Subject: e2e smtp" \
    "" \
    "body" >"$msg"
swaks --server "127.0.0.1:$P_SMTPD" --helo lab-client.test --from alice@example.org \
    --to rcpt@example.net --data "$msg" --timeout 20 >>"$LAB/swaks.log" 2>&1
ok "smtp message reaches the sink" lab_wait 30 sink_has "e2e smtp"
if sink_has "e2e smtp"; then
    f=$(sink_file "e2e smtp")
    h=$(sed -e 's/\r$//' "$f")
    ok "internal Received (10.1.2.3) removed" bash -c '! grep -q "10.1.2.3" "$1"' _ "$f"
    ok "internal Received (192.168.7.7) removed" bash -c '! grep -q "192.168.7.7" "$1"' _ "$f"
    ok "external Received kept" grep -q "203.0.113.5" "$f"
    ok "X-Originating-IP removed" bash -c '! grep -qi "^X-Originating-IP" "$1"' _ "$f"
    ok "Postfix's own Received still there" grep -q "by lab.smarthostd.test (Postfix)" "$f"
    ok "Date added" grep -q "^Date: " <<<"$h"
    ok "Message-ID added with the milter's host name" grep -q "^Message-ID: <.*@milter.example.test>" <<<"$h"
fi

# A verified-sender relay: envelope and From rewritten, original in Reply-To.
msg=$LAB/msg2.eml
printf '%s\r\n' "From: Vera <vera@verified.example>" "To: rcpt@example.net" \
    "Subject: e2e rewrite" "Date: Mon, 1 Jan 2024 00:00:00 +0000" "Message-ID: <r1@verified.example>" \
    "" "body" >"$msg"
swaks --server "127.0.0.1:$P_SMTPD" --helo lab-client.test --from vera@verified.example \
    --to rcpt@example.net --data "$msg" --timeout 20 >>"$LAB/swaks.log" 2>&1
ok "rewritten message reaches the sink" lab_wait 30 sink_has "e2e rewrite"
if sink_has "e2e rewrite"; then
    f=$(sink_file "e2e rewrite")
    ok "From header carries the identity" grep -q "^From: Vera <bounce@verified.example>" "$f"
    ok "original From kept in Reply-To" grep -q "^Reply-To: Vera <vera@verified.example>" "$f"
    ok "envelope sender rewritten (maillog)" grep -q "from=<bounce@verified.example>" "$LAB/maillog"
fi

# Two From headers, one a bare address with an angle-addr in its comment: each From keeps its
# display name or comment and gets the identity as its addr-spec; both originals in Reply-To.
msg=$LAB/msg2b.eml
printf '%s\r\n' "From: vera@verified.example (Carol <carol@evil.example>)" \
    "From: \"Mallory <m\" <mallory@evil.example>" "To: rcpt@example.net" \
    "Subject: e2e two from" "Date: Mon, 1 Jan 2024 00:00:00 +0000" "Message-ID: <r2@verified.example>" \
    "" "body" >"$msg"
swaks --server "127.0.0.1:$P_SMTPD" --helo lab-client.test --from vera@verified.example \
    --to rcpt@example.net --data "$msg" --timeout 20 >>"$LAB/swaks.log" 2>&1
ok "two-From message reaches the sink" lab_wait 30 sink_has "e2e two from"
if sink_has "e2e two from"; then
    f=$(sink_file "e2e two from")
    h=$(sed -e 's/\r$//' "$f")
    ok "first From: addr-spec replaced, comment kept" \
        grep -qxF "From: bounce@verified.example (Carol <carol@evil.example>)" <<<"$h"
    ok "second From: rewritten too, quoted display name kept" \
        grep -qxF 'From: "Mallory <m" <bounce@verified.example>' <<<"$h"
    ok "no From left with an original address" bash -c '! grep -E "^From:.*(vera|mallory)@" <<<"$1"' _ "$h"
    ok "both originals in Reply-To" grep -qF \
        'Reply-To: vera@verified.example (Carol <carol@evil.example>), "Mallory <m" <mallory@evil.example>' <<<"$h"
fi

# A From the parser refuses (unterminated comment): tempfailed, nothing reaches the sink.
msg=$LAB/msg2c.eml
printf '%s\r\n' "From: vera@verified.example (Carol <carol@evil.example>" "To: rcpt@example.net" \
    "Subject: e2e bad from" "" "body" >"$msg"
out=$(swaks --server "127.0.0.1:$P_SMTPD" --helo lab-client.test --from vera@verified.example \
    --to rcpt@example.net --data "$msg" --timeout 20 2>&1)
ok "unparsable From: 451 at end of data" grep -q "<\*\* 451 " <<<"$out"
ok "unparsable From: nothing in the sink" bash -c '! grep -rqF "Subject: e2e bad from" "$1"/sink' _ "$LAB"

# Local submission through sendmail(1): non_smtpd_milters apply too.
msg=$LAB/msg3.eml
printf '%s\n' \
    "Received: from pc2.lan (pc2.lan [10.4.4.4]) by gw.example.org; Mon, 1 Jan 2024 00:00:00 +0000" \
    "X-Originating-IP: [10.9.9.8]" "From: alice@example.org" "To: rcpt@example.net" \
    "Subject: e2e local" "" "body" >"$msg"
sendmail -C "$LAB/etc" -f alice@example.org rcpt@example.net <"$msg" 2>>"$LAB/sendmail.log"
ok "local message reaches the sink" lab_wait 40 sink_has "e2e local"
if sink_has "e2e local"; then
    f=$(sink_file "e2e local")
    ok "local: internal Received removed" bash -c '! grep -q "10.4.4.4" "$1"' _ "$f"
    ok "local: X-Originating-IP removed" bash -c '! grep -qi "^X-Originating-IP" "$1"' _ "$f"
    ok "local: Date and Message-ID present" bash -c 'grep -q "^Date: " "$1" && grep -qi "^Message-ID: " "$1"' _ "$f"
fi

# SMTP-time rules (a policy group) reach mail that never meets the policy
# service. reconfigure SETTING: set milter.local_submission, reload, wait.
reconfigure() {
    local n
    sed -i -e '/^policy = /d' -e '/^  local_submission = /d' "$LAB/smarthostd.conf"
    sed -i -e "s/^milter = {/milter = {\n  local_submission = \"$1\";/" "$LAB/smarthostd.conf"
    echo 'policy = { require_auth = [ "@own.example" ]; };' >>"$LAB/smarthostd.conf"
    n=$(grep -c 'smarthostd-milter: reloaded' "$LAB/milter.log")
    kill -HUP "$MILTER_PID"
    lab_wait 10 bash -c "[ \$(grep -c 'smarthostd-milter: reloaded' '$LAB/milter.log') -gt $n ]"
}
local_msg() { # SENDER SUBJECT
    printf '%s\n' "From: $1" "To: rcpt@example.net" "Subject: $2" "" "body" |
        sendmail -C "$LAB/etc" -f "$1" rcpt@example.net 2>>"$LAB/sendmail.log"
}
ok "reload: require_auth for @own.example, local_submission = trust" reconfigure trust
out=$(swaks --server "127.0.0.1:$P_SMTPD" --helo lab-client.test --from alice@own.example \
    --to rcpt@example.net --timeout 20 2>&1)
ok "smtp without AUTH: rejected at MAIL with the policy service's text" \
    grep -qF "<** 554 5.7.1 <alice@own.example>: Sender address rejected: authentication required" <<<"$out"
local_msg cron@own.example "e2e local trust"
ok "local submission of a require_auth sender passes under trust" lab_wait 40 sink_has "e2e local trust"

ok "reload: local_submission = enforce" reconfigure enforce
local_msg cron2@own.example "e2e local enforce"
rejected() { grep -q "milter-reject: END-OF-MESSAGE .*5.7.1 <cron2@own.example>: Sender address rejected: authentication required" "$LAB/maillog"; }
ok "local submission rejected at end of message, the policy service's text" lab_wait 40 rejected
ok "no milter configuration error (nothing rejected at RCPT)" \
    bash -c '! grep -qi "milter configuration error\|non_smtpd_milters" "$1"' _ "$LAB/maillog"
bounced() { grep -q "dsn=5.7.1, status=bounced (<cron2@own.example>: Sender address rejected" "$LAB/maillog"; }
ok "the rejected local message bounces to its local sender" lab_wait 20 bounced
# the bounce quotes the original headers; anything else in the sink would be the message
only_bounce() { local f; f=$(sink_file "e2e local enforce"); [ -n "$f" ] && grep -q "^Subject: Undelivered Mail Returned to Sender" "$f"; }
ok "only the bounce, not the message, reaches the sink" lab_wait 40 only_bounce
tap_done
