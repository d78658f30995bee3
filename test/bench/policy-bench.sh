#!/bin/bash
# policy-bench.sh - smarthostd's policy service against Debian's postfwd (postfwd2), same rules.
#
#   test/bench/policy-bench.sh [options] BUILDDIR
#     -d SECS     measured seconds per point and round (default 3; plus 1 s warm-up)
#     -R N        rounds per point; the median-rate round is reported (default 3)
#     -c "LIST"   connection counts (default "1 16 256")
#     --smoke     a few seconds: both servers pass the equivalence check and answer a short
#                 load (TAP output, for `meson test --suite bench`)
#
# Both servers run one rule set, written below side by side: require_tls for @secure.test,
# sender ownership for two SASL users (anyone else owns nothing), and a per-SASL-user limit on
# RCPT requests. Before anything is timed, test/bench/policy_verify.py sends both the same
# fixed requests with the limit at 3 and checks every reply (rejects, defers, DUNNO): the
# timed servers are then restarted with a limit no run reaches, so every timed request runs
# every rule and one rate-limit count, and is answered DUNNO.
# Load: test/bench/policy_load.c (closed loop, one persistent connection per thread, the
# RCPT request Postfix 3.7 sends, 256 distinct senders/clients), the same binary for both.
# postfwd2 preforks one Perl child per connection (Net::Server::PreFork): it gets as many
# children as the largest connection count, logging off (-P), request cache off (postfwd
# turns it off itself when rules use rate()). smarthostd: its defaults, log_lookups = false.
# Loopback only; every server started here is stopped on exit.
set -u

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

DUR=3 ROUNDS=3 CONNS="1 16 256" SMOKE=0
while [ $# -gt 0 ]; do
    case "$1" in
    -d) DUR=$2; shift 2 ;;
    -R) ROUNDS=$2; shift 2 ;;
    -c) CONNS=$2; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] || usage
BUILDDIR=$(cd "$1" && pwd) || exit 2
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SMARTHOSTD=${SMARTHOSTD:-$BUILDDIR/policy/smarthostd/smarthostd}
PYTHON=${PYTHON:-/usr/bin/python3}
POSTFWD=${POSTFWD:-/usr/sbin/postfwd2}
LOAD=$BUILDDIR/test/policy/policy_load
VERIFY=$SRCDIR/test/bench/policy_verify.py
. "$SRCDIR/test/lib/postfix-lab.sh"

for f in "$LOAD" "$SMARTHOSTD"; do
    [ -x "$f" ] || { echo "missing $f: run ninja -C $BUILDDIR" >&2; exit 2; }
done
lab_init
PF_PIDFILES=()
# A daemon is reparented away from us: where nothing reaps it, it stays a zombie.
pf_gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
stop_postfwd() { # PIDFILE: TERM to the master (it stops its children), bounded wait
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null
    lab_wait 10 pf_gone "$pid" || kill -9 "$pid" 2>/dev/null
    rm -f "$1"
}
cleanup_all() {
    local f
    for f in "${PF_PIDFILES[@]}"; do stop_postfwd "$f"; done
    lab_cleanup
}
trap cleanup_all EXIT

# ---- the rule set, once per server; LIMIT is the per-user RCPT budget per hour
write_configs() { # LIMIT NAME
    cat >"$LAB/$2.conf" <<EOF
log_lookups = false;
policy = {
  logins = ( { user = "alice@example.com"; senders = [ "alice@example.com", "@example.org" ]; },
             { user = "bob@example.com"; senders = [ "@example.org" ]; } );
  require_tls = [ "@secure.test" ];
  rate_limits = ( { name = "user"; per = "sasl_user"; recipients = $1; window = 3600; } );
};
EOF
    cat >"$LAB/$2.postfwd.cf" <<EOF
id=TLS; sender_domain==secure.test; encryption_protocol=!!(.)
   action=REJECT 5.7.1 <\$\$sender>: Sender address rejected: must use STARTTLS
id=OWN_ALICE; sasl_username==alice@example.com; sender=!!(^<>\$|^\$|^alice@example\.com\$|@example\.org\$)
   action=REJECT 5.7.1 <\$\$sender>: Sender address rejected: not owned by user \$\$sasl_username
id=OWN_BOB; sasl_username==bob@example.com; sender=!!(^<>\$|^\$|@example\.org\$)
   action=REJECT 5.7.1 <\$\$sender>: Sender address rejected: not owned by user \$\$sasl_username
id=OWN_OTHER; sasl_username=!!(^\$|^alice@example\.com\$|^bob@example\.com\$); sender=!!(^<>\$|^\$)
   action=REJECT 5.7.1 <\$\$sender>: Sender address rejected: not owned by user \$\$sasl_username
id=RATE; protocol_state==RCPT; sasl_username=.
   action=rate(sasl_username/$1/3600/DEFER_IF_PERMIT 4.7.1 Recipient rate limit exceeded, retry later)
EOF
    chmod 644 "$LAB/$2.conf" "$LAB/$2.postfwd.cf"
}

answers() { "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\n\n")
sys.exit(0 if s.recv(100).startswith(b"action=") else 1)' "$1" 2>/dev/null; }

start_smarthostd() { # NAME PORT -> SPID
    "$SMARTHOSTD" -f -c "$LAB/$1.conf" --policy "inet:127.0.0.1:$2" 2>>"$LAB/smarthostd.log" &
    SPID=$!
    LAB_PIDS+=("$SPID")
    lab_wait 30 answers "$2" || { echo "# smarthostd did not answer on port $2" >&2; return 1; }
}

# postfwd2 always daemonizes; it runs as nobody (as root) and needs its own cache socket.
start_postfwd() { # NAME PORT CHILDREN
    local dir=$LAB/postfwd-$1 user group
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then user=nobody group=nogroup; chown nobody:nogroup "$dir"
    else user=$(id -un) group=$(id -gn); fi
    PF_PIDFILES+=("$dir/pid")
    "$POSTFWD" -f "$LAB/$1.postfwd.cf" -i 127.0.0.1 -p "$2" --cache_socket "unix::$dir/cache.sock" \
        --pidfile "$dir/pid" -u "$user" -g "$group" -P \
        --min_servers "$3" --max_servers "$(($3 + 8))" --min_spare_servers 1 \
        --max_spare_servers "$(($3 + 4))" >"$dir/out" 2>&1 ||
        { echo "# postfwd did not start:" >&2; grep -v Redundant "$dir/out" | head -5 >&2; return 1; }
    lab_wait 30 answers "$2" || { echo "# postfwd did not answer on port $2" >&2; return 1; }
}

kv() { # KEY "k=v k=v ..." -> v
    local k=$1 f
    for f in $2; do [ "${f%%=*}" = "$k" ] && { echo "${f#*=}"; return; }; done
    echo "?"
}

have_postfwd=1
[ -x "$POSTFWD" ] || have_postfwd=0

# ------------------------------------------------------------------ smoke (TAP)
if [ "$SMOKE" = 1 ]; then
    n=0 fail=0
    tap() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
    echo "1..4"
    write_configs 3 verify
    write_configs 1000000000 timed
    P1=$(lab_free_port) P2=$(lab_free_port)
    start_smarthostd verify "$P1" && "$PYTHON" "$VERIFY" "$P1"
    tap $? "smarthostd answers the fixed request set as expected"
    if start_smarthostd timed "$P2"; then
        out=$("$LOAD" -c 4 -w 0.1 -d 0.3 "inet:127.0.0.1:$P2"); rc=$?
        echo "# smarthostd: $out"
        [ "$rc" = 0 ] && [ "$(kv requests "$out")" -gt 0 ]
    else false; fi
    tap $? "smarthostd: 4 connections for 0.3 s, no errors"
    if [ "$have_postfwd" = 0 ]; then
        echo "ok 3 # SKIP no $POSTFWD"; echo "ok 4 # SKIP no $POSTFWD"; exit $fail
    fi
    P3=$(lab_free_port) P4=$(lab_free_port)
    start_postfwd verify "$P3" 2 && "$PYTHON" "$VERIFY" "$P3"
    tap $? "postfwd answers the fixed request set as expected (the rule sets are equivalent)"
    if start_postfwd timed "$P4" 4; then
        out=$("$LOAD" -c 4 -w 0.1 -d 0.3 "inet:127.0.0.1:$P4"); rc=$?
        echo "# postfwd: $out"
        [ "$rc" = 0 ] && [ "$(kv requests "$out")" -gt 0 ]
    else false; fi
    tap $? "postfwd: 4 connections for 0.3 s, no errors"
    exit $fail
fi

# ------------------------------------------------------------------ full run
[ "$have_postfwd" = 1 ] || { echo "no $POSTFWD (apt-get install postfwd)" >&2; exit 2; }
MAXC=1
for c in $CONNS; do [ "$c" -gt "$MAXC" ] && MAXC=$c; done

echo "# smarthostd policy service vs postfwd"
echo "command:  $0 -d $DUR -R $ROUNDS -c \"$CONNS\" $1"
echo "machine:  nproc=$(nproc), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
echo "git:      $(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "postfwd:  $("$POSTFWD" -V 2>/dev/null | head -1 | cut -d' ' -f1-2), $MAXC children"
echo "loadavg:  $(cut -d' ' -f1-3 /proc/loadavg) at start"

write_configs 3 verify
write_configs 1000000000 timed
PV1=$(lab_free_port) PV2=$(lab_free_port) PS=$(lab_free_port) PP=$(lab_free_port)
start_smarthostd verify "$PV1" || exit 1
start_postfwd verify "$PV2" 2 || exit 1
for who in smarthostd:$PV1 postfwd:$PV2; do
    "$PYTHON" "$VERIFY" "${who#*:}" >"$LAB/verify.out" ||
        { echo "${who%%:*} fails the equivalence check:" >&2; cat "$LAB/verify.out" >&2; exit 1; }
    echo "verify:   ${who%%:*} $(tail -1 "$LAB/verify.out" | sed 's/^# //')"
done
stop_postfwd "$LAB/postfwd-verify/pid"
start_smarthostd timed "$PS" || exit 1
start_postfwd timed "$PP" "$MAXC" || exit 1
echo

declare -A OUT
for r in $(seq 1 "$ROUNDS"); do
    for c in $CONNS; do
        for srv in smarthostd postfwd; do
            port=$PS; [ "$srv" = postfwd ] && port=$PP
            out=$("$LOAD" -c "$c" -w 1 -d "$DUR" "inet:127.0.0.1:$port")
            echo "# round $r c=$c $srv rc=$?: $out" >&2
            OUT[$srv,$c]+="$out"$'\n'
        done
    done
done

median() { # the line with the median rps among ROUNDS lines
    printf '%s' "$1" | grep . | sort -t= -k4 -n | awk -v n="$ROUNDS" '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'
}
echo "| connections | smarthostd req/s | p50 | p99 | postfwd req/s | p50 | p99 | ratio |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in $CONNS; do
    s=$(median "${OUT[smarthostd,$c]}") p=$(median "${OUT[postfwd,$c]}")
    sr=$(kv rps "$s") pr=$(kv rps "$p")
    ratio=$(awk -v a="$sr" -v b="$pr" 'BEGIN { if (b > 0) printf "%.0fx", a / b; else print "?" }')
    echo "| $c | $sr | $(kv p50_us "$s") µs | $(kv p99_us "$s") µs | $pr | $(kv p50_us "$p") µs | $(kv p99_us "$p") µs | $ratio |"
    [ "$(kv errors "$s")" = 0 ] && [ "$(kv errors "$p")" = 0 ] || echo "| $c | errors: smarthostd $(kv errors "$s"), postfwd $(kv errors "$p") |"
done
