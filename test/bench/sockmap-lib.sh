# sockmap-lib.sh - shell helpers shared by the socketmap benchmarks (sourced, not run).
#
# The caller sets LOAD (the sockmap_load binary), MAP (socketmap name) and PYTHON, and
# calls bench_tmp first; the key file is TMP/keys. start_server adds to PIDS, so what is
# left running is stopped on exit.

# bench_tmp NAME: TMP (a new temp dir), PIDS (background jobs, empty), and traps that
# stop PIDS and remove TMP on exit, also on SIGINT and SIGTERM.
bench_tmp() {
    TMP=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
    PIDS=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}
bench_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}

now_us() { echo "${EPOCHREALTIME/./}"; }

# Free loopback TCP ports (the kernel's pick; closed again right away).
free_ports() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
EOF
}

# start_server NAME PORT CMD...: runs CMD in the background (stderr to /dev/null),
# waits for its first answered lookup; sets START_MS (start to first answer) and SPID.
start_server() {
    local name=$1 port=$2; shift 2
    local t0 out
    t0=$(now_us)
    "$@" 2>/dev/null &
    SPID=$!
    PIDS+=("$SPID")
    out=$("$LOAD" --first 30 -m "$MAP" -k "$TMP/keys" "inet:127.0.0.1:$port") || {
        echo "$name did not answer on 127.0.0.1:$port within 30 s" >&2
        return 1
    }
    local ns=${out#first_reply_unix_ns=}; ns=${ns%% *}
    START_MS=$(awk -v a="$ns" -v b="$t0" 'BEGIN { printf "%.1f", (a / 1000 - b) / 1000 }')
}

stop_server() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

rss() { # PID -> "VmRSS VmHWM" in KiB
    awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r, h }' "/proc/$1/status"
}

kv() { # KEY "k=v k=v ..." -> v
    local k=$1 f
    for f in $2; do [ "${f%%=*}" = "$k" ] && { echo "${f#*=}"; return; }; done
    echo "?"
}
