#!/bin/bash
# milter_unix_smtpd.sh - an smtpd on a unix socket is an SMTP client for the milter (TAP).
#
# Postfix 3.7 runs smtpd on a unix socket from master.cf (type unix); the milter
# sees such a connect with an unknown address family. It must apply the
# SMTP-time rules (require_auth) at MAIL, not take it for a local submission
# (sendmail(1)/pickup, which local_submission = "trust" exempts).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix swaks
MILTER=${SMARTHOSTD_MILTER:?}

lab_init
P_SMTPD=$(lab_free_port); P_MILTER=$(lab_free_port)
cat >"$LAB/smarthostd.conf" <<'CONF'
policy = { require_auth = [ "@own.example" ]; };
milter = { hostname = "milter.example.test"; local_submission = "trust"; };
CONF
lab_daemon milter "$P_MILTER" "$MILTER" -c "$LAB/smarthostd.conf" -f -v \
    -p "inet:$P_MILTER@127.0.0.1" || bail "milter did not start"

lab_postfix_init "$P_SMTPD"
# Delivery is not under test: mail stays queued (nothing listens on port 9).
lab_postfix_milter "$P_MILTER"
lab_postconf -e "relayhost = [127.0.0.1]:9"
echo "smtpsock unix n - n - - smtpd" >>"$LAB/etc/master.cf"   # $queue_directory/public/smtpsock
lab_postfix_start || bail "postfix did not start"
SOCK=$LAB/queue/public/smtpsock
lab_wait 10 test -S "$SOCK" || bail "no smtpd unix socket"

out=$(swaks --socket "$SOCK" --helo lab-client.test --from cron@own.example --to r@example.net \
    --timeout 20 2>&1)
ok "smtpd on a unix socket: require_auth rejects at MAIL" \
    grep -qF "<** 554 5.7.1 <cron@own.example>: Sender address rejected: authentication required" <<<"$out"
out=$(swaks --server "127.0.0.1:$P_SMTPD" --helo lab-client.test --from cron@own.example \
    --to r@example.net --timeout 20 2>&1)
ok "smtpd over TCP: the same" grep -qF "<** 554 5.7.1 <cron@own.example>" <<<"$out"
printf '%s\n' "From: cron@own.example" "Subject: local" "" "body" |
    sendmail -C "$LAB/etc" -f cron@own.example r@example.net
queued() { grep -q "from=<cron@own.example>, size=.*nrcpt=1 (queue active)" "$LAB/maillog"; }
ok "sendmail(1) under trust: a local submission, queued" lab_wait 30 queued
ok "the milter saw one local submission" lab_wait 10 grep -q "(local submission)" "$LAB/milter.log"
is "$(grep -c '(local submission)' "$LAB/milter.log")" 1 "... and only one"
tap_done
