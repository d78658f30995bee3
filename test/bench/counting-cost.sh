#!/bin/bash
# counting-cost.sh - what smarthostd's always-on counters cost: a counting build against one with counters compiled out.
#
#   test/bench/counting-cost.sh [options] BUILD_ON BUILD_OFF
#     -R N        pairs of rounds per connection count (default 20)
#     -d SECS     measured seconds per round (default 1.5; plus -w warm-up)
#     -w SECS     warm-up per round, not in the rate (default 0.2)
#     -c "LIST"   connection counts (default "16 256")
#     -r RULES    sender rules in the generated config (default 100000)
#     -t N        pass --threads N to both daemons (default: theirs, 2)
#     -n N        lookups for the instruction count under callgrind (default 20000; 0: skip)
#     -S N        restart both daemons every N pairs (default 1; 0: never)
#     --no-side   no side-by-side rounds (below)
#     --no-seq    no sequential rounds: side by side only (where the noise is least)
#     --no-pin    let the scheduler place clients and daemons (default with 2+ CPUs: clients
#                 on CPU 0, both daemons on the other CPUs, via taskset)
#     --calibrate run BUILD_ON on both sides (BUILD_OFF is ignored): every ratio should come
#                 out 1 within its interval, or the method is biased
#     --smoke     a few seconds: check the script works (TAP; BUILD_OFF may be BUILD_ON)
#
# BUILD_ON is a build directory with counters (the default), BUILD_OFF one configured with
# `meson setup -Dcounters=false` (SH_NO_COUNTERS), both of the same source and buildtype.
# Builds nothing: run ninja in both first. Loopback only.
#
# Both daemons load the same generated config (log_lookups = false) and stay up. Each pair
# is, per connection count, two sequential rounds (one client, one daemon at a time) in the
# order on,off then off,on for the next pair (ABBA), so drift hits both alike, and one
# side-by-side round: a client for each daemon at once, the daemons sharing their CPUs, so
# whatever else runs on the machine hits both in the same moment. Every round records the
# client's rate and the daemon's CPU time (user + system) before and after;
# counting_stats.py pairs the rounds and prints, as medians with bootstrap 95 % intervals,
# the throughput ratio on/off of the sequential rounds and the ratio of CPU time per lookup
# of both kinds (side by side, CPU shares are not equal, so only CPU per lookup is
# compared), and whether counting costs at most 3 %.
# Instructions per lookup: perf stat needs hardware counters, which a VM without a virtual
# PMU lacks; the script says whether perf has them and counts with callgrind: the daemon's
# user-space instructions over -n lookups on one connection, deterministic.
# Environment: PYTHON (default /usr/bin/python3), MAP (default relay).
set -u

usage() { sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

PAIRS=20 DUR=1.5 WARM=0.2 CONNS="16 256" RULES=100000 THREADS="" NINSTR=20000 PIN=1 SIDE=1 SEQ=1 RESTART=1 CALIBRATE=0 SMOKE=0
while [ $# -gt 0 ]; do
    case "$1" in
    -R) PAIRS=$2; shift 2 ;;
    -d) DUR=$2; shift 2 ;;
    -w) WARM=$2; shift 2 ;;
    -c) CONNS=$2; shift 2 ;;
    -r) RULES=$2; shift 2 ;;
    -t) THREADS=$2; shift 2 ;;
    -n) NINSTR=$2; shift 2 ;;
    -S) RESTART=$2; shift 2 ;;
    --no-pin) PIN=0; shift ;;
    --no-side) SIDE=0; shift ;;
    --no-seq) SEQ=0; shift ;;
    --calibrate) CALIBRATE=1; shift ;;
    --smoke) SMOKE=1; shift ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -eq 2 ] && [ "$SEQ$SIDE" != 00 ] || usage
case "$PAIRS$NINSTR$RESTART" in *[!0-9]*) usage ;; esac
[ "$PAIRS" -ge 1 ] && [ "$PAIRS" -le 1000 ] && [ "$NINSTR" -le 10000000 ] || usage
ON=$(cd "$1" && pwd) && OFF=$(cd "$2" && pwd) || exit 2
[ "$CALIBRATE" = 0 ] || OFF=$ON
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
MAP=${MAP:-relay}
LOAD=$ON/test/bench/sockmap_load
for f in "$LOAD" "$ON/policy/smarthostd/smarthostd" "$OFF/policy/smarthostd/smarthostd"; do
    [ -x "$f" ] || { echo "missing $f: run ninja in both build directories" >&2; exit 2; }
done

. "$HERE/sockmap-lib.sh"
bench_tmp counting-cost

# Pinning: the clients on CPU 0, the daemons on the rest, so client and daemon never
# compete for one CPU and neither migrates (other jobs on the machine still can).
CLIENT_PIN=() DAEMON_PIN=() PIN_NOTE="none (scheduler's choice)"
NCPU=$(nproc)
if [ "$PIN" = 1 ] && [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
    cpus=1; [ "$NCPU" -gt 2 ] && cpus=1-$((NCPU - 1))
    CLIENT_PIN=(taskset -c 0) DAEMON_PIN=(taskset -c "$cpus")
    PIN_NOTE="clients on CPU 0, both daemons on CPU $cpus (taskset)"
fi
sh_args=()
[ -n "$THREADS" ] && sh_args=(--threads "$THREADS")

build_opt() { # BUILDDIR NAME -> the meson option's value
    "$PYTHON" - "$1/meson-info/intro-buildoptions.json" "$2" <<'EOF'
import json, sys
try:
    print(next(str(o["value"]).lower() for o in json.load(open(sys.argv[1])) if o["name"] == sys.argv[2]))
except Exception:
    print("?")
EOF
}

# cpu_ns PID -> the process's CPU time (user + system) in ns: the sum over its threads of
# /proc/PID/task/TID/schedstat (the same total as utime+stime in /proc/PID/stat, which
# counts in clock ticks of 10 ms); from /proc/PID/stat when schedstat is missing.
cpu_ns() {
    local f v t=0 s
    if [ -r "/proc/$1/schedstat" ]; then
        for f in /proc/"$1"/task/*/schedstat; do read -r v _ <"$f" && t=$((t + v)); done
        echo "$t"
        return
    fi
    s=$(<"/proc/$1/stat") || return 1
    s=${s##*) } # the fields after "(comm) "; utime and stime are fields 14 and 15
    set -- $s
    echo $(( (${12} + ${13}) * 1000000000 / CLK_TCK ))
}
CLK_TCK=$(getconf CLK_TCK)
CPU_SRC="/proc/PID/task/*/schedstat (ns)"
[ -r /proc/self/schedstat ] || CPU_SRC="utime+stime from /proc/PID/stat (1/$CLK_TCK s)"

# start_daemons CONF [FIRST]: both daemons on fresh ports, FIRST (on|off, default on)
# started first; sets PID_ON PID_OFF PORT_ON PORT_OFF.
start_daemons() {
    local srv
    read -r PORT_ON PORT_OFF <<<"$(free_ports 2)"
    for srv in $([ "${2:-on}" = on ] && echo on off || echo off on); do
        if [ "$srv" = on ]; then
            start_server "smarthostd (counters on)" "$PORT_ON" "${DAEMON_PIN[@]}" \
                "$ON/policy/smarthostd/smarthostd" -f -c "$1" --socketmap "inet:127.0.0.1:$PORT_ON" "${sh_args[@]}" || return 1
            PID_ON=$SPID
        else
            start_server "smarthostd (counters compiled out)" "$PORT_OFF" "${DAEMON_PIN[@]}" \
                "$OFF/policy/smarthostd/smarthostd" -f -c "$1" --socketmap "inet:127.0.0.1:$PORT_OFF" "${sh_args[@]}" || return 1
            PID_OFF=$SPID
        fi
    done
}

stop_daemons() {
    stop_server "$PID_ON"; stop_server "$PID_OFF"
    PIDS=()
}

# record MODE CONNS PAIR SERVER OUT CPU_NS: checks one client's output OUT (no errors, no
# TEMP/PERM/garbage) and appends "MODE CONNS PAIR SERVER RATE SERVED CPU_NS" to $TMP/rounds,
# SERVED being every lookup answered in the round, warm-up included.
record() {
    local out=$5
    echo "# $1 c=$2 pair=$3 $4 cpu_ns=$6: $out" >&2
    [ "$(kv temp "$out")$(kv perm "$out")$(kv other "$out")" = 000 ] || return 1
    [ "$(( $(kv malformed "$out") + $(kv closed "$out") + $(kv timeouts "$out") + $(kv connfail "$out") ))" = 0 ] || return 1
    echo "$1 $2 $3 $4 $(kv rate "$out") $(( $(kv lookups "$out") + $(kv warm "$out") )) $6" >>"$TMP/rounds"
}

client() { # CONNS PORT: one timed client run
    "${CLIENT_PIN[@]}" "$LOAD" -c "$1" -d "$DUR" -w "$WARM" -m "$MAP" -k "$TMP/keys" "inet:127.0.0.1:$2"
}

# seq_round CONNS PAIR SERVER: one client run against one daemon, the other idle.
seq_round() {
    local pid port t0 t1 out
    if [ "$3" = on ]; then pid=$PID_ON port=$PORT_ON; else pid=$PID_OFF port=$PORT_OFF; fi
    t0=$(cpu_ns "$pid") || return 1
    out=$(client "$1" "$port") || { echo "# client failed: $out" >&2; return 1; }
    t1=$(cpu_ns "$pid") || return 1
    record seq "$1" "$2" "$3" "$out" $((t1 - t0))
}

# side_round CONNS PAIR FIRST: both daemons under load at once, one client each, started
# FIRST (on|off) first; both daemons then see the same machine at the same moment.
side_round() {
    local a0 a1 b0 b1 pa pb rc=0
    a0=$(cpu_ns "$PID_ON") && b0=$(cpu_ns "$PID_OFF") || return 1
    if [ "$3" = on ]; then
        client "$1" "$PORT_ON" >"$TMP/side.on" & pa=$!
        client "$1" "$PORT_OFF" >"$TMP/side.off" & pb=$!
    else
        client "$1" "$PORT_OFF" >"$TMP/side.off" & pb=$!
        client "$1" "$PORT_ON" >"$TMP/side.on" & pa=$!
    fi
    wait "$pa" || rc=1
    wait "$pb" || rc=1
    a1=$(cpu_ns "$PID_ON") && b1=$(cpu_ns "$PID_OFF") || return 1
    [ "$rc" = 0 ] || { echo "# client failed: $(cat "$TMP/side.on" "$TMP/side.off")" >&2; return 1; }
    record side "$1" "$2" on "$(<"$TMP/side.on")" $((a1 - a0)) &&
        record side "$1" "$2" off "$(<"$TMP/side.off")" $((b1 - b0))
}

# all_rounds CONF: for pair p = 1..PAIRS and each connection count, two sequential rounds,
# on,off when p is odd and off,on when it is even (ABBA), then one side-by-side round whose
# first-started client alternates the same way; so both kinds see the same stretch of time.
# Every RESTART pairs both daemons start afresh (the first-started one alternating too): a
# process's memory layout moves its CPU per lookup by a percent or two, so the intervals
# must cover several processes, not one.
all_rounds() {
    local p c a b
    : >"$TMP/rounds"
    start_daemons "$1" on || return 1
    for p in $(seq 1 "$PAIRS"); do
        if [ $((p % 2)) = 1 ]; then a=on b=off; else a=off b=on; fi
        if [ "$RESTART" -gt 0 ] && [ "$p" -gt 1 ] && [ $(((p - 1) % RESTART)) = 0 ]; then
            stop_daemons
            start_daemons "$1" "$a" || return 1
        fi
        for c in $CONNS; do
            [ "$SEQ" = 0 ] || { seq_round "$c" "$p" "$a" && seq_round "$c" "$p" "$b"; } || return 1
            [ "$SIDE" = 0 ] || side_round "$c" "$p" "$a" || return 1
        done
    done
    stop_daemons
}

perf_works() { # whether perf can count instructions here
    command -v perf >/dev/null &&
        perf stat -x, -e instructions -- true 2>&1 >/dev/null | grep -q '^[0-9][0-9]*,'
}

# callgrind_instr NAME BUILD CONF N: the daemon under callgrind with its cache simulation
# (instrumented only after the load), N lookups on one connection; prints per lookup:
# every user-space instruction of the daemon, those of sockmap_input (inclusive), and the
# simulated first-level and last-level data cache misses.
callgrind_instr() {
    local name=$1 build=$2 conf=$3 n=$4 port pid out dump
    read -r port <<<"$(free_ports 1)"
    valgrind --tool=callgrind --cache-sim=yes --instr-atstart=no --callgrind-out-file="$TMP/cg.$name" \
        "$build/policy/smarthostd/smarthostd" -f -c "$conf" --socketmap "inet:127.0.0.1:$port" \
        2>"$TMP/cg.$name.err" &
    pid=$!
    PIDS+=("$pid")
    if ! "$LOAD" --first 300 -m "$MAP" -k "$TMP/keys" "inet:127.0.0.1:$port" >/dev/null ||
        ! callgrind_control -i on "$pid" >/dev/null 2>&1 || ! callgrind_control -z "$pid" >/dev/null 2>&1; then
        stop_server "$pid"; return 1
    fi
    out=$("$LOAD" -c 1 -n "$n" -d 3600 -T 60 -m "$MAP" -k "$TMP/keys" "inet:127.0.0.1:$port")
    echo "# callgrind $name: $out" >&2
    callgrind_control -d "$pid" >/dev/null 2>&1
    stop_server "$pid"
    dump=$TMP/cg.$name.1
    [ "$(kv lookups "$out")" = "$n" ] && [ -s "$dump" ] || return 1
    { cat "$dump"; callgrind_annotate --inclusive=yes "$dump" 2>/dev/null; } | awk -v n="$n" '
        /^events:/ { for (i = 2; i <= NF; i++) col[$i] = i }
        /^totals:/ { t = $col["Ir"]; d1 = $col["D1mr"] + $col["D1mw"]; ll = $col["DLmr"] + $col["DLmw"] }
        /:sockmap_input / && !h { gsub(",", "", $1); h = $1 }
        END { if (t > 0) printf "%.1f %.1f %.2f %.2f\n", t / n, h / n, d1 / n, ll / n; else exit 1 }'
}

# ------------------------------------------------------------------ smoke (TAP)
if [ "$SMOKE" = 1 ]; then
    PAIRS=2 DUR=0.2 WARM=0.05 CONNS="4"
    n=0 fail=0
    tap() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
    echo "1..4"
    "$PYTHON" "$HERE/gen_config.py" -o "$TMP/conf" -r 1000 --log-lookups false -k "$TMP/keys" -n 2000 >/dev/null
    tap $? "gen_config.py writes a 1000-rule config with log_lookups = false"
    all_rounds "$TMP/conf" 2>"$TMP/rounds.log"
    rc=$?
    sed 's/^/# /' "$TMP/rounds.log"
    [ "$rc" = 0 ] || echo "# all_rounds failed with $rc"
    echo "# rounds recorded:"; sed 's/^/#   /' "$TMP/rounds"
    [ "$rc" = 0 ] && [ "$(grep -c '^seq ' "$TMP/rounds")" = 4 ] && [ "$(grep -c '^side ' "$TMP/rounds")" = 4 ] &&
        awk '$7 <= 0 { bad = 1 } END { exit bad }' "$TMP/rounds"
    tap $? "2 pairs, daemons restarted between them: sequential rounds in ABBA order and side-by-side rounds, no client errors, CPU time read (pinning: $PIN_NOTE)"
    "$PYTHON" "$HERE/counting_stats.py" --boot 200 "$TMP/rounds" >"$TMP/stats"
    rc=$?
    sed 's/^/# /' "$TMP/stats"
    [ "$rc" = 0 ] && [ "$(grep -c '^| 4 | 2 | ' "$TMP/stats")" = 2 ] && grep -q '^verdict: ' "$TMP/stats"
    tap $? "counting_stats.py pairs the rounds and prints ratios, CPU per lookup and a verdict (0.2 s rounds: the figures mean nothing)"
    if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
        tap 0 "# SKIP no valgrind/callgrind_control"
    else
        r=$(callgrind_instr on "$ON" "$TMP/conf" 200 2>"$TMP/cg.log")
        rc=$?
        sed 's/^/# /' "$TMP/cg.log"
        echo "# per lookup: instructions, those in sockmap_input, D1 and LL data misses: $r"
        [ "$rc" = 0 ] && [ -n "$r" ]
        tap $? "callgrind counts the daemon's instructions per lookup"
    fi
    exit $fail
fi

# ------------------------------------------------------------------ full run
opt_on=$(build_opt "$ON" counters) opt_off=$(build_opt "$OFF" counters)
bt_on=$(build_opt "$ON" buildtype) bt_off=$(build_opt "$OFF" buildtype)
if [ "$CALIBRATE" = 1 ]; then
    echo "calibration: both sides run $ON (counters=$opt_on); every ratio should be 1"
elif [ "$opt_on" != true ] || [ "$opt_off" != false ]; then
    echo "BUILD_ON needs counters=true (has $opt_on), BUILD_OFF counters=false (has $opt_off)" >&2
    exit 2
fi
[ "$bt_on" = "$bt_off" ] || echo "warning: buildtypes differ: on $bt_on, off $bt_off" >&2
src_rev() { # BUILDDIR -> the source's git commit (and whether policy/ is modified)
    local src
    src=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["directories"]["source"])' \
        "$1/meson-info/meson-info.json" 2>/dev/null) || { echo "?"; return; }
    echo "$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$src" diff --quiet HEAD -- policy 2>/dev/null || echo ' (policy/ modified)')"
}

echo "# smarthostd: what counting costs (counters on vs compiled out)"
echo "command:  $0 -R $PAIRS -d $DUR -w $WARM -c \"$CONNS\" -r $RULES${THREADS:+ -t $THREADS} -n $NINSTR -S $RESTART$([ "$SIDE" = 1 ] || echo ' --no-side')$([ "$SEQ" = 1 ] || echo ' --no-seq')$([ "$CALIBRATE" = 0 ] || echo ' --calibrate')$([ "$PIN" = 1 ] || echo ' --no-pin') $1 $2"
echo "machine:  nproc=$NCPU, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
echo "builds:   on $ON (buildtype $bt_on, commit $(src_rev "$ON")); off $OFF (buildtype $bt_off, commit $(src_rev "$OFF"))"
echo "pinning:  $PIN_NOTE"
echo "CPU time: $CPU_SRC"
echo "loadavg:  $(cut -d' ' -f1-3 /proc/loadavg) at start"

"$PYTHON" "$HERE/gen_config.py" -o "$TMP/conf" -r "$RULES" --log-lookups false -k "$TMP/keys" >/dev/null || exit 1
echo "config:   $RULES sender rules, log_lookups = false, the same file for both daemons"
echo "rounds:   $PAIRS pairs per connection count, $DUR s measured after $WARM s warm-up, $(case $SEQ$SIDE in 11) echo 'ABBA order, each pair with a side-by-side round' ;; 10) echo 'ABBA order' ;; *) echo 'side-by-side rounds only' ;; esac)"
echo "daemons:  $([ "$RESTART" -gt 0 ] && echo "both restarted every $RESTART pairs" || echo "one process each for the whole run")"
echo
all_rounds "$TMP/conf" || { echo "a round failed (see the client lines above)" >&2; exit 1; }
"$PYTHON" "$HERE/counting_stats.py" $([ "$CALIBRATE" = 0 ] || echo --calibration) "$TMP/rounds" || exit 1
echo
if [ "$NINSTR" -gt 0 ]; then
    if perf_works; then
        echo "instructions: perf counts instructions here, but this script counts them with callgrind"
        echo "              (user space, deterministic on one connection)"
    else
        echo "instructions: perf stat -e instructions: not supported here (no hardware counters," \
             "e.g. a VM without a virtual PMU); counted by callgrind instead"
    fi
    if ! command -v callgrind_control >/dev/null; then
        echo "instructions: no valgrind/callgrind_control: skipped"
    elif ic_on=$(callgrind_instr on "$ON" "$TMP/conf" "$NINSTR") &&
         ic_off=$(callgrind_instr off "$OFF" "$TMP/conf" "$NINSTR"); then
        read -r t_on h_on d_on l_on <<<"$ic_on"; read -r t_off h_off d_off l_off <<<"$ic_off"
        echo "per lookup under callgrind (daemon user space, 1 connection, $NINSTR lookups):"
        awk -v a="$t_on" -v b="$t_off" -v c="$h_on" -v d="$h_off" 'BEGIN {
            printf "  instructions, whole daemon:         on %.1f, off %.1f: %+.1f (%+.2f %%)\n", a, b, a - b, (a / b - 1) * 100
            printf "  instructions, sockmap_input (incl): on %.1f, off %.1f: %+.1f (%+.2f %%)\n", c, d, c - d, (c / d - 1) * 100 }'
        echo "  simulated data cache misses, D1: on $d_on, off $d_off; last level: on $l_on, off $l_off"
    else
        echo "instructions: callgrind run failed" >&2
    fi
fi
echo "loadavg at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
