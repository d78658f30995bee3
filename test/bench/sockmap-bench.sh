#!/bin/bash
# sockmap-bench.sh - smarthostd socketmap benchmark against a no-op baseline.
#
#   test/bench/sockmap-bench.sh [options] BUILDDIR
#     -d SECS     measured seconds per point and round (default 2; plus 0.5 s warm-up)
#     -R N        rounds per point; the median-rate round is reported (default 5)
#     -c "LIST"   connection counts (default "1 16 256")
#     -r RULES    sender rules in the generated config (default 100000)
#     -t N        pass --threads N to smarthostd and -t N to the no-op server (default: theirs, 2)
#     --smoke     a few seconds: check the tools work (TAP output, for `meson test --suite bench`)
#
# Builds nothing: the tools come from BUILDDIR (ninja -C BUILDDIR first).
# Environment: SMARTHOSTD_OFF: a smarthostd built with -Dcounters=false, run interleaved with
# the others (log_lookups=false) to show what counting costs.
# SMARTHOSTD (default BUILDDIR/policy/smarthostd/smarthostd), MAP (socketmap name, default
# "relay"), PYTHON (default /usr/bin/python3).
#
# Measures, on loopback only, with one and the same client (sockmap_load) in one run:
#   load:  wall time of `smarthostd -n -c CONF` (best and median of 3), and time from
#          starting `smarthostd -f` to its first answered lookup;
#   RSS:   VmRSS and VmHWM of the running daemon after load and after the load runs;
#   speed: lookups/s, p50/p99/max latency per connection count for the no-op server,
#          smarthostd with log_lookups = true (stderr to /dev/null) and with log_lookups = false.
set -u

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

DUR=2 ROUNDS=5 CONNS="1 16 256" RULES=100000 THREADS="" SMOKE=0
while [ $# -gt 0 ]; do
    case "$1" in
    -d) DUR=$2; shift 2 ;;
    -R) ROUNDS=$2; shift 2 ;;
    -c) CONNS=$2; shift 2 ;;
    -r) RULES=$2; shift 2 ;;
    -t) THREADS=$2; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] || usage
BUILDDIR=$(cd "$1" && pwd) || exit 2
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SMARTHOSTD=${SMARTHOSTD:-$BUILDDIR/policy/smarthostd/smarthostd}
MAP=${MAP:-relay}
PYTHON=${PYTHON:-/usr/bin/python3}
LOAD=$BUILDDIR/test/bench/sockmap_load
NOOP=$BUILDDIR/test/bench/noop_sockmap
GEN=$SRCDIR/test/bench/gen_config.py

for f in "$LOAD" "$NOOP"; do
    [ -x "$f" ] || { echo "missing $f: run ninja -C $BUILDDIR" >&2; exit 2; }
done

. "$(dirname "$0")/sockmap-lib.sh"
bench_tmp sockmap-bench

sh_args=(); noop_args=()
if [ -n "$THREADS" ]; then sh_args=(--threads "$THREADS"); noop_args=(-t "$THREADS"); fi

# ------------------------------------------------------------------ smoke (TAP)
if [ "$SMOKE" = 1 ]; then
    n=0 fail=0
    tap() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
    echo "1..5"
    "$PYTHON" "$GEN" -o "$TMP/smoke.conf" -r 1000 -k "$TMP/keys" -n 2000 >/dev/null
    tap $? "gen_config.py writes a 1000-rule config and 2000 keys"
    read -r P1 P2 <<<"$(free_ports 2)"
    "$NOOP" -l 30 "${noop_args[@]}" "inet:127.0.0.1:$P1" 2>/dev/null &
    NPID=$!; PIDS+=("$NPID")
    "$LOAD" --first 5 -k "$TMP/keys" "inet:127.0.0.1:$P1" >/dev/null
    tap $? "no-op server answers a first lookup"
    out=$("$LOAD" -c 4 -d 0.3 -w 0.1 -k "$TMP/keys" "inet:127.0.0.1:$P1")
    rc=$?
    echo "# noop: $out"
    [ "$rc" = 0 ] && [ "$(kv ok "$out")" = "$(kv lookups "$out")" ]
    tap $? "no-op server: 4 connections for 0.3 s, every reply OK, no errors"
    if [ ! -x "$SMARTHOSTD" ]; then
        echo "ok 4 # SKIP no smarthostd at $SMARTHOSTD"
        echo "ok 5 # SKIP no smarthostd at $SMARTHOSTD"
        exit 0
    fi
    "$SMARTHOSTD" -n -c "$TMP/smoke.conf" >/dev/null 2>&1
    tap $? "smarthostd -n accepts the generated config"
    if start_server smarthostd "$P2" "$SMARTHOSTD" -f -c "$TMP/smoke.conf" --socketmap "inet:127.0.0.1:$P2"; then
        out=$("$LOAD" -c 4 -d 0.3 -w 0.1 -m "$MAP" -k "$TMP/keys" "inet:127.0.0.1:$P2")
        rc=$?
        echo "# smarthostd: $out"
        [ "$rc" = 0 ] && [ "$(kv temp "$out")" = 0 ] && [ "$(kv perm "$out")" = 0 ] && [ "$(kv other "$out")" = 0 ]
        tap $? "smarthostd: 4 connections for 0.3 s, no TEMP/PERM/garbage, no errors"
    else
        tap 1 "smarthostd: answers lookups"
    fi
    exit $fail
fi

# ------------------------------------------------------------------ full run
[ -x "$SMARTHOSTD" ] || { echo "no smarthostd at $SMARTHOSTD" >&2; exit 2; }

echo "# smarthostd socketmap benchmark"
echo "command:  $0 -d $DUR -R $ROUNDS -c \"$CONNS\" -r $RULES${THREADS:+ -t $THREADS} $1"
echo "machine:  nproc=$(nproc), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
echo "git:      $(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$SRCDIR" diff --quiet HEAD -- policy 2>/dev/null || echo ' (policy/ modified)')"
echo "loadavg:  $(cut -d' ' -f1-3 /proc/loadavg) at start (anything else running on the machine skews every figure)"
echo "map:      $MAP, keys: 200000 (40% exact address, 10% address+ext, 30% @domain, 10% @.domain, 10% unmatched)"

"$PYTHON" "$GEN" -o "$TMP/log.conf" -r "$RULES" -k "$TMP/keys" || exit 1
"$PYTHON" "$GEN" -o "$TMP/nolog.conf" -r "$RULES" --log-lookups false || exit 1
echo "config:   $RULES sender rules, $(wc -c <"$TMP/log.conf") bytes"
echo

# (a) load time: the config check, three times.
times=()
for i in 1 2 3; do
    t0=$(now_us)
    "$SMARTHOSTD" -n -c "$TMP/log.conf" >"$TMP/check.out" 2>&1 || {
        echo "smarthostd -n rejects the generated config:" >&2; cat "$TMP/check.out" >&2; exit 1; }
    times+=($(( $(now_us) - t0 )))
done
read -r CHECK_MIN CHECK_MED <<<"$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f %.1f", v[1] / 1000, v[2] / 1000 }')"

read -r PLOG PNOLOG PNOOP <<<"$(free_ports 3)"
start_server "smarthostd (log_lookups=true)" "$PLOG" \
    "$SMARTHOSTD" -f -c "$TMP/log.conf" --socketmap "inet:127.0.0.1:$PLOG" "${sh_args[@]}" || exit 1
LOG_PID=$SPID LOG_START=$START_MS
read -r LOG_RSS LOG_HWM <<<"$(rss "$LOG_PID")"
start_server "smarthostd (log_lookups=false)" "$PNOLOG" \
    "$SMARTHOSTD" -f -c "$TMP/nolog.conf" --socketmap "inet:127.0.0.1:$PNOLOG" "${sh_args[@]}" || exit 1
NOLOG_PID=$SPID NOLOG_START=$START_MS
start_server "noop_sockmap" "$PNOOP" "$NOOP" -l 3600 "${noop_args[@]}" "inet:127.0.0.1:$PNOOP" || exit 1
NOOP_PID=$SPID
SERVERS="noop log nolog"
if [ -n "${SMARTHOSTD_OFF:-}" ]; then # a build with -Dcounters=false: what counting costs
    read -r POFF <<<"$(free_ports 1)"
    start_server "smarthostd -Dcounters=false (log_lookups=false)" "$POFF" \
        "$SMARTHOSTD_OFF" -f -c "$TMP/nolog.conf" --socketmap "inet:127.0.0.1:$POFF" "${sh_args[@]}" || exit 1
    OFF_PID=$SPID
    SERVERS="noop log nolog off"
fi

echo "## Load ($RULES rules)"
echo
echo "| measure | value |"
echo "|---|---|"
echo "| \`smarthostd -n -c CONF\` wall time, best / median of 3 | $CHECK_MIN ms / $CHECK_MED ms |"
echo "| \`smarthostd -f\` start to first answered lookup (log_lookups=true) | $LOG_START ms |"
echo "| \`smarthostd -f\` start to first answered lookup (log_lookups=false) | $NOLOG_START ms |"
echo "| VmRSS / VmHWM after load | $((LOG_RSS / 1024)).$(((LOG_RSS % 1024) * 10 / 1024)) MiB / $((LOG_HWM / 1024)).$(((LOG_HWM % 1024) * 10 / 1024)) MiB |"
echo

# (c) throughput and latency. Loopback on a small VM is noisy (where the scheduler puts
# client and server threads moves single points by +-20%), so every point runs ROUNDS
# times, the three servers interleaved, and the round with the median rate is reported.
declare -A OUT
for r in $(seq 1 "$ROUNDS"); do
    for c in $CONNS; do
        for srv in $SERVERS; do
            case $srv in noop) port=$PNOOP ;; log) port=$PLOG ;; nolog) port=$PNOLOG ;; off) port=$POFF ;; esac
            out=$("$LOAD" -c "$c" -d "$DUR" -m "$MAP" -k "$TMP/keys" "inet:127.0.0.1:$port")
            echo "# round $r c=$c $srv rc=$?: $out" >&2
            OUT[$c,$srv,$r]=$out
        done
    done
done
median_out() { # C SRV -> the output of the round with the median rate
    local r
    for r in $(seq 1 "$ROUNDS"); do echo "$(kv rate "${OUT[$1,$2,$r]}") $r"; done |
        sort -n | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) { print $2 }' | { read -r r; echo "${OUT[$1,$2,$r]}"; }
}
ROWS=()
for c in $CONNS; do
    noop_rate=$(kv rate "$(median_out "$c" noop)")
    for srv in $SERVERS; do
        case $srv in
        noop) name="no-op server" ;;
        off) name="smarthostd -Dcounters=false, log_lookups=false" ;;
        log) name="smarthostd, log_lookups=true (stderr→/dev/null)" ;;
        nolog) name="smarthostd, log_lookups=false" ;;
        esac
        out=$(median_out "$c" "$srv")
        all=$(for r in $(seq 1 "$ROUNDS"); do kv rate "${OUT[$c,$srv,$r]}"; done | tr '\n' ' ')
        ratio=$(awk -v a="$(kv rate "$out")" -v b="$noop_rate" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }')
        replies="OK $(kv ok "$out") / NOTFOUND $(kv notfound "$out") / TEMP $(kv temp "$out") / PERM $(kv perm "$out")"
        errs=$(( $(kv malformed "$out") + $(kv closed "$out") + $(kv timeouts "$out") + $(kv connfail "$out") ))
        ROWS+=("| $c | $name | $(kv rate "$out") | ${all% } | $(kv p50_us "$out") | $(kv p99_us "$out") | $(kv max_us "$out") | $ratio | $replies | $errs |")
    done
done

echo "## Lookups (median of $ROUNDS rounds of $DUR s after 0.5 s warm-up; one sockmap_load thread; loopback TCP)"
echo
echo "| conns | server | lookups/s | all rounds | p50 µs | p99 µs | max µs | ratio vs no-op | replies | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
read -r LOG_RSS2 LOG_HWM2 <<<"$(rss "$LOG_PID")"
read -r NOLOG_RSS2 NOLOG_HWM2 <<<"$(rss "$NOLOG_PID")"
echo "RSS after the runs: log_lookups=true VmRSS $((LOG_RSS2 / 1024)) MiB, VmHWM $((LOG_HWM2 / 1024)) MiB;" \
     "log_lookups=false VmRSS $((NOLOG_RSS2 / 1024)) MiB, VmHWM $((NOLOG_HWM2 / 1024)) MiB"
if [ -n "${OFF_PID:-}" ]; then
    for c in $CONNS; do
        on=$(kv rate "$(median_out "$c" nolog)") off=$(kv rate "$(median_out "$c" off)")
        echo "counting cost at c=$c: counters on $on/s vs compiled out $off/s:" \
             "$(awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "%+.1f %%", (a / b - 1) * 100; else print "?" }')"
    done
    stop_server "$OFF_PID"
fi
echo "loadavg at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
stop_server "$NOOP_PID"; stop_server "$NOLOG_PID"; stop_server "$LOG_PID"
PIDS=()
