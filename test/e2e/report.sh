#!/bin/bash
# report.sh - `smarthostctl report` on the maillog of a real Postfix delivering through
# smarthostd to two fake relays, a direct destination, a relay that refuses the sender
# (bounce) and a relay nobody listens on (deferral); the counts must match what was sent (TAP).
#
# Relays: alpha and beta (plain fakes), strict (a fake that wants AUTH, which it never gets:
# 530, so the message bounces and Postfix sends a notice from <> to the sender), dead
# (nothing listens). `report --follow` feeds the same counts into the running daemon, whose
# stats must then agree. "mx" plays the recipients' own server at 127.0.0.2 for direct delivery
# (smtp_tcp_port points there; recipients are user@[127.0.0.2], so no DNS).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix

lab_init
P_A=$(lab_free_port); P_B=$(lab_free_port); P_S=$(lab_free_port); P_MX=$(lab_free_port)
P_MAP=$(lab_free_port); P_SMTPD=$(lab_free_port)
P_DEAD=$(lab_free_port)   # nothing ever listens here
RCPT='rcpt@[127.0.0.2]'

lab_fake alpha "$P_A" || bail "fake alpha"
lab_fake beta "$P_B" || bail "fake beta"
lab_fake strict "$P_S" --require-auth --users "$(lab_users strict 'u:p')" || bail "fake strict"
lab_fake mx "$P_MX" --host 127.0.0.2 || bail "fake mx"

cat >"$LAB/smarthostd.conf" <<CONF
relays = {
    alpha  = { host = "127.0.0.1"; port = $P_A; tls = "may"; };
    beta   = { host = "127.0.0.1"; port = $P_B; tls = "may"; };
    strict = { host = "127.0.0.1"; port = $P_S; tls = "may"; };
    dead   = { host = "127.0.0.1"; port = $P_DEAD; tls = "may"; };
};
senders = (
    { match = "@alpha.test";  relay = "alpha"; },
    { match = "@beta.test";   relay = "beta"; },
    { match = "@strict.test"; relay = "strict"; },
    { match = "@dead.test";   relay = "dead"; },
    { match = "@direct.test"; relay = "direct"; },
    { match = "<>";           relay = "alpha"; }
);
CONF
lab_smarthostd "$LAB/smarthostd.conf" "$P_MAP" -- --control "unix:$LAB/control" ||
    bail "smarthostd did not start"
lab_postfix_init "$P_SMTPD"
lab_postfix_hookup "$P_MAP"
lab_postconf -e "smtp_tcp_port = $P_MX"
lab_postfix_start || bail "postfix did not start"
# report --follow feeds the same counts into the daemon while Postfix writes its log.
lab_start follow.log "$SMARTHOSTCTL" -c "$LAB/smarthostd.conf" report --follow \
    --control "$LAB/control" "$LAB/maillog"
FOLLOW_PID=$LAB_PID
lab_wait 10 grep -q '^following ' "$LAB/follow.log" || bail "report --follow did not start"

for s in a1@alpha.test a2@alpha.test b1@beta.test d1@direct.test x1@dead.test s1@strict.test; do
    lab_send "$s" "$RCPT" "report $s" || diag "swaks failed for $s"
done

# 4 deliveries to fakes + the bounce notice (to alpha) + the bounce + the deferral.
statuses() { grep -cE ' status=(sent|bounced|deferred) ' "$LAB/maillog"; }
lab_wait 90 bash -c "[ \$(grep -cE ' status=(sent|bounced|deferred) ' '$LAB/maillog') -ge 7 ]" ||
    diag "only $(statuses) delivery lines after 90 s"
lab_postfix_stop   # freeze the log: no retry of the deferred message adds lines from here
cp "$LAB/maillog" "$LAB/maillog.frozen"
LOG=$LAB/maillog.frozen

report() { "$SMARTHOSTCTL" -c "$LAB/smarthostd.conf" report "$@"; }
out=$(report "$LOG") || bail "report failed"
printf '%s\n' "$out" | sed 's/^/# /'
[ -n "${REPORT_SAMPLE:-}" ] && printf '%s\n' "$out" >"$REPORT_SAMPLE"

row() { printf '%s\n' "$out" | awk -v r="$1" '$1 == r && NF == 5 { print $2, $3, $4; exit }'; }
is "$(row alpha)" "3 0 0" "alpha: two senders plus the bounce notice from <>, all sent"
is "$(row beta)" "1 0 0" "beta: one sent"
is "$(row strict)" "0 0 1" "strict: the refused sender bounced"
is "$(row dead)" "0 1 0" "dead: one message deferred (relay=none, mapped through 'connect to')"
is "$(row direct)" "1 0 0" "direct: the direct-routed sender's delivery to its own server"
is "$(printf '%s\n' "$out" | awk 'NF == 5 && $1 ~ /^127/' | wc -l)" 0 \
    "no delivery left under a bare host name"
ok "the deferral reason is grouped without the port" \
    bash -c "printf '%s\n' \"\$1\" | grep -qE '^ +[0-9]+  dead +connect to HOST: Connection refused$'" _ "$out"
dom() { printf '%s\n' "$out" | awk -v d="$1" -v r="$2" '$1 == d && $2 == r { print $3, $4, $5 }'; }
is "$(dom alpha.test alpha)" "2 0 0" "sender domain alpha.test went through alpha"
is "$(dom beta.test beta)" "1 0 0" "sender domain beta.test went through beta"
is "$(dom direct.test direct)" "1 0 0" "sender domain direct.test went direct"
is "$(dom dead.test dead)" "0 1 0" "sender domain dead.test is deferred on dead"
is "$(dom strict.test strict)" "0 0 1" "sender domain strict.test bounced on strict"
is "$(dom '<>' alpha)" "1 0 0" "the null sender (bounce notice) went through alpha"

# The same counts as Postfix's own lines, counted independently.
is "$(printf '%s\n' "$out" | awk 'NF == 5 && $2 ~ /^[0-9]+$/ { s += $2 } END { print s }')" \
    "$(grep -c ' status=sent ' "$LOG")" "sent total equals the maillog's status=sent lines"
is "$(report - <"$LOG")" "$(printf '%s\n' "$out" | sed "1s|$LOG|stdin|")" "stdin gives the same report"
is "$(report --since 1h "$LOG" | sed -n '/^relay/,/^$/p')" "$(printf '%s\n' "$out" | sed -n '/^relay/,/^$/p')" \
    "--since 1h keeps every delivery of this run"
sleep 2
ok "--since 1s drops them all (time stamps read as local time)" \
    bash -c "\"\$@\" | grep -q '^lines: .* 0 deliveries counted, .* 7 deliveries before the cut'" \
    _ "$SMARTHOSTCTL" -c "$LAB/smarthostd.conf" report --since 1s "$LOG"

prom=$(report --prometheus "$LOG") || bail "report --prometheus failed"
ok "promtool check metrics accepts the --prometheus output" \
    bash -c 'printf "%s\n" "$1" | promtool check metrics' _ "$prom"
ok "prometheus: alpha sent 3" grep -qx 'smarthostd_report_messages_total{relay="alpha",status="sent"} 3' <<<"$prom"
ok "prometheus: dead deferred 1" grep -qx 'smarthostd_report_messages_total{relay="dead",status="deferred"} 1' <<<"$prom"
ok "prometheus: strict bounced 1" grep -qx 'smarthostd_report_messages_total{relay="strict",status="bounced"} 1' <<<"$prom"
ok "prometheus: direct sent 1" grep -qx 'smarthostd_report_messages_total{relay="direct",status="sent"} 1' <<<"$prom"

# The running daemon, fed by report --follow, says the same (its zero rows left out).
counts() { grep -E '^smarthostd_report_(messages|deferrals)_total\{' | grep -v ' 0$' | sort; }
want=$(counts <<<"$prom")
daemon_counts() { "$SMARTHOSTCTL" stats --prometheus --control "$LAB/control" | counts; }
fed_all() { [ "$(daemon_counts)" = "$want" ]; }
lab_wait 10 fed_all
is "$(daemon_counts)" "$want" "report --follow fed the daemon the counts report prints"
ok "the daemon's metrics with the fed counts pass promtool" \
    bash -c '"$1" stats --prometheus --control "$2" | promtool check metrics' _ "$SMARTHOSTCTL" "$LAB/control"
kill -TERM "$FOLLOW_PID"
wait "$FOLLOW_PID"
is "$?" 0 "report --follow stops on SIGTERM with exit 0"
ok "and says how many sent deliveries it fed" grep -qx 'fed 5 sent deliveries in all' "$LAB/follow.log"

tap_done
