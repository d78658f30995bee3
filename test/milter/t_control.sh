#!/bin/bash
# t_control.sh - smarthostd-milter's control socket after known miltertest traffic: status,
# stats and stats --prometheus (promtool) name what was sent; the socket is root's alone.
set -u
. "$SRCDIR/test/lib/tap.sh"
HERE=$SRCDIR/test/milter
MILTER=${SMARTHOSTD_MILTER:?} CTL=${SMARTHOSTCTL:?}
command -v miltertest >/dev/null || tap_skip_all "miltertest not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/smarthostd-mctl.XXXXXX")
chmod 755 "$T"
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/smarthostd.conf" <<CONF
relays = {
  isp = { host = "127.0.0.1"; port = 2626; };
  ses = { host = "127.0.0.2"; port = 2627; };
};
default_relay = "isp";
senders = ( { match = "@verified.example"; relay = "ses"; } );
policy = { require_auth = [ "@own.example" ]; };
milter = {
  headers = ( { remove = "X-Spam-Flag"; },
              { add = "X-Relayed-By"; value = "smarthostd"; relay = "ses"; } );
  sender_rewrite = ( { relay = "ses"; identity = "bounce@verified.example"; } );
};
CONF

"$MILTER" -c "$T/smarthostd.conf" -f -p "unix:$T/milter.sock" --control "unix:$T/control" \
    2>"$T/milter.log" &
PID=$!
wait_for 10 test -S "$T/control" || bail "milter did not start: $(cat "$T/milter.log")"
is "$(stat -c %a "$T/control")" "600" "control socket mode 0600 (root only)"

ok "miltertest: known traffic" env MILTER_SOCK="unix:$T/milter.sock" \
    miltertest -s "$HERE/mt_counted.lua"

status=$("$CTL" status --control "$T/control" 2>&1)
sed "s/^/# /" <<<"$status"
ok "status names the milter" grep -q '^daemon: smarthostd-milter$' <<<"$status"
ok "status: its pid" grep -qx "pid: $PID" <<<"$status"
ok "status: its milter socket" grep -qx "milter_socket: unix:$T/milter.sock" <<<"$status"
ok "status: the control listener" grep -q "^listener: control unix:$T/control connections=1 max=16" <<<"$status"

stats=$("$CTL" stats --control "$T/control" 2>&1)
sed "s/^/# /" <<<"$stats"
row() { # FAMILY LABELS VALUE
    grep -qE "^$1 +$2 +$3\$" <<<"$stats"
}
ok "2 messages passed" row milter_verdicts_total "verdict=continue reason=none" 2
ok "1 reject by policy" row milter_verdicts_total "verdict=reject reason=policy" 1
ok "1 reject of a sender too long to judge" row milter_verdicts_total "verdict=reject reason=invalid_sender" 1
ok "1 reject by the header rules" row milter_verdicts_total "verdict=reject reason=header_rule" 1
ok "1 header removed" row milter_edits_total "kind=header_removed" 1
ok "1 header added" row milter_edits_total "kind=header_added" 1
ok "1 sender rewritten" row milter_edits_total "kind=sender_rewritten" 1
ok "policy reason counted" row policy_verdicts_total "reason=require_auth" 1
n=$(grep -c '^milter_' <<<"$stats")
is "$n" "7" "no other milter counter moved"

"$CTL" stats --prometheus --control "$T/control" >"$T/prom" 2>&1
ok "prometheus: verdict sample" grep -qx \
    'smarthostd_milter_milter_verdicts_total{verdict="reject",reason="policy"} 1' "$T/prom"
ok "prometheus: edit sample" grep -qx \
    'smarthostd_milter_milter_edits_total{kind="sender_rewritten"} 1' "$T/prom"
if command -v promtool >/dev/null; then
    ok "promtool check metrics" promtool check metrics <"$T/prom"
else
    echo "ok - promtool check metrics # SKIP promtool not installed"
fi

# nobody must be able to run smarthostctl for the refusal to mean anything: a checkout
# under a 0700 directory (like /root) hides it, so run a copy from a 0755 directory.
NCTL=$CTL
if ! runuser -u nobody -- test -x "$CTL"; then
    mkdir -m 755 "$T/bin" && cp "$CTL" "$T/bin/" && chmod 755 "$T/bin/${CTL##*/}" && NCTL=$T/bin/${CTL##*/}
fi
out=$(runuser -u nobody -- "$NCTL" stats --control "$T/control" 2>&1); rc=$?
diag "$out"
ok "nobody is refused by the control socket (exit 1, permission denied)" \
    bash -c '[ "$1" = 1 ] && grep -qi "permission denied" <<<"$2"' _ "$rc" "$out"

kill -USR1 "$PID"
ok "SIGUSR1 summary counts the milter verdicts" \
    wait_for 5 grep -q 'stats: .* milter_verdicts=5 ' "$T/milter.log"

kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
is "$rc" "0" "exit 0 after SIGTERM"
ok "control socket removed on stop" test ! -e "$T/control"
tap_done
