#!/bin/bash
# t_load.sh - the real milter under test/bench/milter_load for a second on a
# unix and an inet socket: the protocol as Postfix speaks it (negotiated
# skips, no-reply steps, end-of-message edits) holds under load, and over TCP
# no message waits on a delayed ACK (without TCP_NODELAY: ~22 msg/s).
set -u
. "$SRCDIR/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"
MILTER=${SMARTHOSTD_MILTER:?}; LOAD=${MILTER_LOAD:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/smarthostd-load.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
cat >"$T/smarthostd.conf" <<CONF
relays = { isp = { host = "127.0.0.1"; port = 2626; }; };
default_relay = "isp";
milter = { hostname = "mx.example.test";
  privacy = { internal_networks = [ "10.0.0.0/8" ]; internal_hosts = [ "*.lan" ]; remove_mailer = true; }; };
CONF
P=$(lab_free_port) || bail "no free port"
"$MILTER" -c "$T/smarthostd.conf" -f -p "unix:$T/sock" 2>"$T/unix.log" & PIDS+=("$!")
"$MILTER" -c "$T/smarthostd.conf" -f -p "inet:$P@127.0.0.1" 2>"$T/inet.log" & PIDS+=("$!")
lab_wait 10 test -S "$T/sock" || bail "milter (unix) did not start: $(cat "$T/unix.log")"
lab_wait 10 lab_port_busy "$P" || bail "milter (inet) did not start: $(cat "$T/inet.log")"
for ep in "unix:$T/sock" "inet:127.0.0.1:$P"; do
    out=$(timeout 20 "$LOAD" -c 2 -w 0.2 -d 1 "$ep"); rc=$?
    diag "$ep: $out"
    is "$rc" 0 "${ep%%:*}: no protocol errors"
    ok "${ep%%:*}: 4 edits per message (2 deletes, Date, Message-ID)" grep -q "edits_per_msg=4.0 rejects=0 errors=0" <<<"$out"
    rate=$(sed -n 's/.*msg_per_s=\([0-9]*\).*/\1/p' <<<"$out")
    ok "${ep%%:*}: more than 200 msg/s (no delayed-ACK stalls): $rate" test "${rate:-0}" -gt 200
done
tap_done
