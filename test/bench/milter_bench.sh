#!/bin/bash
# milter_bench.sh - smarthostd-milter under load. Root only.
#  1. Postfix end to end (smtp-source -> Postfix -> smtp-sink) with the milter
#     hooked as smtpd_milters (privacy rules on) and not hooked, ROUNDS rounds
#     alternating the two so drift and noise hit both alike; the median of each.
#     With NOOP_MILTER (test/bench/noop_milter), a third mode in each round: a
#     milter that asks Postfix to skip every step, the floor any milter has.
#  2. The milter alone: milter_load (a C milter-protocol client, closed loop)
#     for a few seconds, messages/s and p50/p99 latency.
#   SRCDIR=. SMARTHOSTD_MILTER=build/milter/smarthostd-milter \
#   MILTER_LOAD=build/test/bench/milter_load NOOP_MILTER=build/test/bench/noop_milter \
#   test/bench/milter_bench.sh [MESSAGES] [SESSIONS] [ROUNDS]
# MILTER_SOCKET=inet hooks the milter over TCP instead of the unix socket that
# etc/postfix-milter.cf ships (see BENCHMARKS.md for why that matters).
set -uo pipefail
. "${SRCDIR:?}/test/lib/postfix-lab.sh"
N=${1:-2000}; S=${2:-20}; R=${3:-5}
MILTER=${SMARTHOSTD_MILTER:?}
LOAD=${MILTER_LOAD:-}
NOOP=${NOOP_MILTER:-}
[ "$R" -ge 1 ] && [ "$R" -le 20 ] && [ "$N" -le 100000 ] || { echo "bounds: ROUNDS 1-20, MESSAGES <= 100000" >&2; exit 2; }
lab_init
P_SINK=$(lab_free_port); P_SMTPD=$(lab_free_port); P_MILTER=$(lab_free_port)
cat >"$LAB/smarthostd.conf" <<CONF
relays = { sink = { host = "127.0.0.1"; port = $P_SINK; tls = "none"; }; };
default_relay = "sink";
milter = {
  hostname = "milter.example.test";
  privacy = { internal_networks = [ "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16" ];
              internal_hosts = [ "*.lan" ]; remove_mailer = true; };
};
CONF
P_NOOP=$(lab_free_port)
mkdir -p "$LAB/milter"; chown postfix "$LAB/milter"
if [ "${MILTER_SOCKET:-unix}" = inet ]; then
    LISTEN="inet:$P_MILTER@127.0.0.1"; HOOK="inet:127.0.0.1:$P_MILTER"; CLIENT="inet:127.0.0.1:$P_MILTER"
    NLISTEN="inet:$P_NOOP@127.0.0.1"; NHOOK="inet:127.0.0.1:$P_NOOP"
else
    LISTEN="unix:$LAB/milter/sock"; HOOK="unix:$LAB/milter/sock"; CLIENT=$HOOK
    NLISTEN="unix:$LAB/milter/noop"; NHOOK=$NLISTEN
fi
smtp-sink -u postfix "127.0.0.1:$P_SINK" 256 >/dev/null 2>&1 & LAB_PIDS+=("$!")
"$MILTER" -c "$LAB/smarthostd.conf" -f -p "$LISTEN" 2>"$LAB/milter.log" & LAB_PIDS+=("$!")
milter_up() { [ -S "$LAB/milter/sock" ] || lab_port_busy "$P_MILTER"; }
lab_wait 10 lab_port_busy "$P_SINK" && lab_wait 10 milter_up || { cat "$LAB/milter.log" >&2; exit 1; }
if [ -n "$NOOP" ]; then
    "$NOOP" -p "$NLISTEN" 2>"$LAB/noop.log" & LAB_PIDS+=("$!")
    noop_up() { [ -S "$LAB/milter/noop" ] || lab_port_busy "$P_NOOP"; }
    lab_wait 10 noop_up || { cat "$LAB/noop.log" >&2; exit 1; }
fi
chgrp postfix "$LAB"/milter/* 2>/dev/null # the milters bind as root, mode 0660
lab_postfix_init "$P_SMTPD"
lab_postconf -e "relayhost = [127.0.0.1]:$P_SINK" "default_process_limit = 100" \
    "smtp_destination_concurrency_limit = 20" "default_destination_concurrency_limit = 20" \
    "milter_default_action = tempfail"
lab_postfix_start || exit 1

sent() { grep -c 'status=sent' "$LAB/maillog"; }
# hook VALUE: set smtpd_milters and wait until smtpd runs with it (a reload
# restarts idle smtpd processes; the probe session shows the milter in use)
hook() {
    lab_postconf -e "smtpd_milters = $1"
    postfix -c "$LAB/etc" reload >/dev/null 2>&1
    sleep 1 # master re-reads main.cf asynchronously; nothing to poll for
}
run() { # LABEL -> prints one line, records msg/s in RATES_<label>
    local before t0 t1 n
    before=$(sent)
    t0=$(date +%s.%N)
    smtp-source -s "$S" -m "$N" -f alice@example.org -t rcpt@example.net "127.0.0.1:$P_SMTPD"
    lab_wait 300 bash -c "[ \$(grep -c 'status=sent' '$LAB/maillog') -ge $((before + N)) ]" || echo "# $1: timeout"
    t1=$(date +%s.%N)
    n=$(($(sent) - before))
    awk -v l="$1" -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%-12s %d msgs in %.2f s = %.0f msg/s\n", l, n, b - a, n / (b - a) }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "# Postfix end to end: $N messages over $S sessions, $R rounds, milter on ${MILTER_SOCKET:-unix}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
run "warmup" >/dev/null
: >"$LAB/rates"
for ((r = 1; r <= R; r++)); do
    hook ""
    run "no milter" | tee -a "$LAB/rates"
    hook "$HOOK"
    run "milter" | tee -a "$LAB/rates"
    if [ -n "$NOOP" ]; then
        hook "$NHOOK"
        run "noop milter" | tee -a "$LAB/rates"
    fi
done
off=$(grep '^no milter' "$LAB/rates" | awk '{ print $(NF-1) }' | median)
on=$(grep '^milter' "$LAB/rates" | awk '{ print $(NF-1) }' | median)
awk -v a="$off" -v b="$on" 'BEGIN { printf "median: no milter %.0f msg/s, milter %.0f msg/s = %.0f%%\n", a, b, 100 * b / a }'
if [ -n "$NOOP" ]; then
    noop=$(grep '^noop milter' "$LAB/rates" | awk '{ print $(NF-1) }' | median)
    awk -v a="$off" -v b="$noop" 'BEGIN { printf "median: noop milter %.0f msg/s = %.0f%% (the floor for any milter)\n", b, 100 * b / a }'
fi
grep -q "milter.*reject\|warning" "$LAB/milter.log" && { echo "# milter log:"; tail -5 "$LAB/milter.log"; }

if [ -n "$LOAD" ]; then
    echo "# the milter alone (milter_load, no Postfix); load: $(cut -d' ' -f1-3 /proc/loadavg)"
    for c in 1 8; do "$LOAD" -c "$c" -w 1 -d 5 "$CLIENT"; done
fi
