#!/bin/bash
# t_daemon_life.sh - how both daemons run: without -f they detach (the starting command
# returns 0 promptly, the pidfile names a live process that serves), with -f they stay;
# their log lines reach syslog with facility mail and no doubled "ident: " prefix (the
# daemon runs in a private mount namespace whose /dev/log is our listener); with
# NOTIFY_SOCKET they send READY=1 once the socket exists, RELOADING=1 then READY=1 on
# SIGHUP, STOPPING=1 on SIGTERM.
. "$SRCDIR/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_free_port, lab_wait
T=$(mktemp -d /tmp/t_daemon_life.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
LISTEN=$SRCDIR/test/attack/dgram_listen.py
printf 'relays = { r = { host = "127.0.0.9"; }; }; default_relay = "r";\n' >"$T/c.conf"
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
answers() { printf 'relay a@b.example' | "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
q = sys.stdin.read().encode(); s.sendall(b"%d:%s," % (len(q), q))
sys.exit(0 if b":OK " in s.recv(512) else 1)' "$1"; }

for d in "$SMARTHOSTD" "$SMARTHOSTD_MILTER"; do
    n=$(basename "$d")
    out=$("$d" --help 2>/dev/null); rc=$?
    ok "$n --help: usage on stdout, exit 0" test "$rc" = 0 -a -n "$(grep '^usage:' <<<"$out")"
    is "$("$d" --version; echo "rc=$?")" "$n $("$d" --version | cut -d' ' -f2)
rc=0" "$n --version: name and version, exit 0"
done

# Detach: both daemons.
P=$(lab_free_port)
start=$SECONDS
timeout -k 2 10 "$SMARTHOSTD" -c "$T/c.conf" --socketmap "inet:127.0.0.1:$P" --pidfile "$T/d.pid" \
    >"$T/d.out" 2>&1; rc=$?
is "$rc" 0 "smarthostd without -f: the starting command returns 0"
ok "smarthostd without -f: ... within 5 s" test $((SECONDS - start)) -le 5
dpid=$(cat "$T/d.pid" 2>/dev/null); PIDS+=("$dpid")
ok "smarthostd without -f: the pidfile names a live process" alive "$dpid"
ok "smarthostd without -f: it answers lookups" answers "$P"
ok "smarthostd without -f: it left the terminal (own session)" \
    test "$(ps -o sid= -p "$dpid" | tr -d ' ')" = "$dpid"
timeout -k 2 10 "$SMARTHOSTD_MILTER" -c "$T/c.conf" -p "unix:$T/m.sock" --pidfile "$T/m.pid" \
    >"$T/m.out" 2>&1; rc=$?
is "$rc" 0 "milter without -f: the starting command returns 0"
mpid=$(cat "$T/m.pid" 2>/dev/null); PIDS+=("$mpid")
ok "milter without -f: the pidfile names a live process" alive "$mpid"
ok "milter without -f: its socket exists" test -S "$T/m.sock"
kill "$dpid" "$mpid"
ok "detached daemons stop on SIGTERM and remove their pidfiles" \
    lab_wait 5 test ! -e "$T/d.pid" -a ! -e "$T/m.pid" -a ! -e "$T/m.sock"
out=$(timeout -k 2 10 "$SMARTHOSTD" -c "$T/missing.conf" --socketmap "inet:127.0.0.1:$P" 2>&1); rc=$?
is "$rc" 1 "without -f, a startup error: exit 1"
ok "without -f, a startup error: shown on stderr" grep -q "missing.conf" <<<"$out"

# -f: stays.
P=$(lab_free_port)
"$SMARTHOSTD" -f -c "$T/c.conf" --socketmap "inet:127.0.0.1:$P" --pidfile "$T/f.pid" 2>"$T/f.log" &
fpid=$!; PIDS+=("$fpid")
lab_wait 10 grep -qs "started with" "$T/f.log" || bail "smarthostd -f did not start"
is "$(cat "$T/f.pid")" "$fpid" "smarthostd -f: stays in the foreground (the pid we started serves)"
"$SMARTHOSTD_MILTER" -f -c "$T/c.conf" -p "unix:$T/mf.sock" --pidfile "$T/mf.pid" 2>"$T/mf.log" &
mfpid=$!; PIDS+=("$mfpid")
lab_wait 10 test -S "$T/mf.sock" || bail "milter -f did not start"
is "$(cat "$T/mf.pid")" "$mfpid" "milter -f: stays in the foreground too"
ok "-f: log lines on stderr with one 'smarthostd: ' prefix" grep -q "^smarthostd: started with" "$T/f.log"
kill "$fpid" "$mfpid"

# Syslog: facility mail, no doubled prefix. /dev/log is ours inside a private mount namespace.
# Containers and chroots often forbid a new mount namespace even to root: each check
# then prints its SKIP line with the reason.
why=
if ! command -v unshare >/dev/null; then
    why="no unshare(1)"
elif [ "$(id -u)" != 0 ]; then
    why="not root (a mount namespace for /dev/log needs it)"
elif ! unshare -m true 2>/dev/null; then
    why="unshare -m is not permitted here (container or chroot)"
fi
if [ -n "$why" ]; then
    for d in "smarthostd's info line has <22> (mail.info)" "smarthostd's warning has <20> (mail.warning)" \
        "the milter's lines are mail.info too" "the reload is logged" \
        "no doubled 'smarthostd[pid]: smarthostd:' prefix"; do
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N - syslog: $d # SKIP $why"
    done
else
    "$PYTHON" "$LISTEN" "$T/log" "$T/syslog.txt" & PIDS+=("$!")
    lab_wait 5 test -S "$T/log" || bail "syslog listener"
    mkdir "$T/olddev"
    ns() { # run "$@" with /dev replaced: the real null/zero/urandom, and our log
        unshare -m bash -c '
            set -e; T=$1; shift
            mount --make-rprivate /
            mount --rbind /dev "$T/olddev"
            mount -t tmpfs tmpfs /dev
            for n in null zero urandom random; do touch /dev/$n; mount --bind "$T/olddev/$n" /dev/$n; done
            touch /dev/log; mount --bind "$T/log" /dev/log
            exec "$@"' ns "$T" "$@"
    }
    P=$(lab_free_port)
    ns "$SMARTHOSTD" -c "$T/c.conf" --socketmap "inet:127.0.0.1:$P" --pidfile "$T/s.pid" \
        >"$T/s.out" 2>&1 || { sed 's/^/# /' "$T/s.out"; bail "smarthostd in a namespace"; }
    PIDS+=("$(cat "$T/s.pid")")
    ns "$SMARTHOSTD_MILTER" -c "$T/c.conf" -p "unix:$T/ms.sock" --pidfile "$T/ms.pid" >"$T/ms.out" 2>&1 ||
        bail "milter in a namespace"
    PIDS+=("$(cat "$T/ms.pid")")
    kill -HUP "$(cat "$T/s.pid")"
    lab_wait 5 grep -q "reloaded" "$T/syslog.txt"
    sed 's/^/# /' "$T/syslog.txt"
    # <PRI> = facility mail (2) * 8 + severity: info 22, warning 20
    ok "syslog: smarthostd's info line has <22> (mail.info)" \
        grep -Eq '^<22>.* smarthostd\[[0-9]+\]: started with configuration' "$T/syslog.txt"
    ok "syslog: smarthostd's warning has <20> (mail.warning)" \
        grep -Eq '^<20>.* smarthostd\[[0-9]+\]: warning: ' "$T/syslog.txt"
    ok "syslog: the milter's lines are mail.info too" \
        grep -Eq '^<22>.* smarthostd-milter\[[0-9]+\]: listening on' "$T/syslog.txt"
    ok "syslog: the reload is logged" grep -Eq '^<22>.* smarthostd\[[0-9]+\]: reloaded configuration' "$T/syslog.txt"
    ok "syslog: no doubled 'smarthostd[pid]: smarthostd:' prefix" \
        bash -c "! grep -Eq 'smarthostd(-milter)?\[[0-9]+\]: smarthostd' '$T/syslog.txt'"
    kill "$(cat "$T/s.pid")" "$(cat "$T/ms.pid")"
fi

# sd_notify.
"$PYTHON" "$LISTEN" "$T/notify" "$T/notify.txt" "$T/n.sock" & PIDS+=("$!")
lab_wait 5 test -S "$T/notify" || bail "notify listener"
NOTIFY_SOCKET=$T/notify "$SMARTHOSTD" -f -c "$T/c.conf" --socketmap "unix:$T/n.sock" 2>"$T/n.log" &
npid=$!; PIDS+=("$npid")
lab_wait 10 grep -qs "READY=1" "$T/notify.txt" || bail "no READY=1"
ok "sd_notify: READY=1 arrives after the socket exists" grep -qx "READY=1 watch=yes" "$T/notify.txt"
kill -HUP "$npid"
lab_wait 5 test "$(grep -c READY=1 "$T/notify.txt")" -ge 2
is "$(tr '\n' ' ' <"$T/notify.txt")" "READY=1 watch=yes RELOADING=1 READY=1 watch=yes " \
    "sd_notify: SIGHUP gives RELOADING=1 then READY=1"
kill "$npid"
lab_wait 5 grep -q STOPPING=1 "$T/notify.txt"
ok "sd_notify: STOPPING=1 on SIGTERM" grep -qx "STOPPING=1" "$T/notify.txt"
tap_done
