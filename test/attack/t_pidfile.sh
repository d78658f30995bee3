#!/bin/bash
# t_pidfile.sh - the pidfile as an attacker would use it: a symlink planted at its path is
# not followed (the victim file stays as it was, the daemon refuses to start); a second
# instance with the same pidfile stops with "already running (pid N)" without touching
# the first one's socket; smarthostctl given a pidfile that names an unrelated process
# does not signal it. Both daemons, as root.
. "$SRCDIR/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_free_port, lab_wait
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (the daemons write pidfiles as root)"
T=$(mktemp -d /tmp/t_pidfile.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
printf 'relays = { r = { host = "127.0.0.9"; }; }; default_relay = "r";\n' >"$T/c.conf"
lookup() { printf '%s\n' "$2" | "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
q = ("relay " + sys.stdin.read().strip()).encode()
s.sendall(b"%d:%s," % (len(q), q)); print(s.recv(512).decode())' "$1"; }

# 1. a planted symlink
printf 'victim\n' >"$T/victim"
ln -s "$T/victim" "$T/link.pid"
P=$(lab_free_port)
out=$(timeout -k 2 10 "$SMARTHOSTD" -f -c "$T/c.conf" --socketmap "inet:127.0.0.1:$P" --pidfile "$T/link.pid" 2>&1); rc=$?
is "$rc" 1 "smarthostd: symlink at the pidfile path: refuses to start"
ok "smarthostd: says why" grep -q "symbolic link" <<<"$out"
is "$(cat "$T/victim")" "victim" "smarthostd: the link's target is unchanged"
out=$(timeout -k 2 10 "$SMARTHOSTD_MILTER" -f -c "$T/c.conf" -p "unix:$T/m.sock" --pidfile "$T/link.pid" 2>&1); rc=$?
is "$rc" 1 "milter: symlink at the pidfile path: refuses to start"
is "$(cat "$T/victim")" "victim" "milter: the link's target is unchanged"
ok "milter: no socket bound" test ! -e "$T/m.sock"

# 2. a second instance
P=$(lab_free_port)
"$SMARTHOSTD" -f -c "$T/c.conf" --socketmap "inet:127.0.0.1:$P" --pidfile "$T/sh.pid" 2>"$T/first.log" &
first=$!; PIDS+=("$first")
lab_wait 10 grep -qs "started with" "$T/first.log" || bail "first instance did not start"
out=$(timeout -k 2 10 "$SMARTHOSTD" -f -c "$T/c.conf" --socketmap "unix:$T/second.sock" --pidfile "$T/sh.pid" 2>&1); rc=$?
is "$rc" 1 "second smarthostd with the same pidfile: exit 1"
ok "second smarthostd: 'already running (pid $first)'" grep -q "already running (pid $first)" <<<"$out"
ok "second smarthostd: checked before binding (no socket made)" test ! -e "$T/second.sock"
out=$(timeout -k 2 10 "$SMARTHOSTD" -c "$T/c.conf" --socketmap "unix:$T/second.sock" --pidfile "$T/sh.pid" 2>&1); rc=$?
is "$rc" 1 "second smarthostd, detaching: the starting command exits 1 too"
is "$(cat "$T/sh.pid")" "$first" "the pidfile still names the first instance"
answers() { lookup "$P" a@b.example | grep -q '^[0-9]*:OK '; }
ok "the first instance still answers" answers
M=$T/m2.sock
"$SMARTHOSTD_MILTER" -f -c "$T/c.conf" -p "unix:$M" --pidfile "$T/m.pid" 2>"$T/m1.log" &
PIDS+=("$!")
lab_wait 10 test -S "$M" || bail "milter did not start"
ino=$(stat -c %i "$M")
out=$(timeout -k 2 10 "$SMARTHOSTD_MILTER" -f -c "$T/c.conf" -p "unix:$M" --pidfile "$T/m.pid" 2>&1); rc=$?
is "$rc" 1 "second milter with the same pidfile: exit 1"
ok "second milter: already running" grep -q "already running (pid $!)" <<<"$out"
is "$(stat -c %i "$M")" "$ino" "second milter: the first one's socket was not replaced"

# 3. smarthostctl and a pidfile naming an unrelated process (a managed write signals)
mkdir "$T/ctl" && printf '@include "managed.conf"\n' >"$T/ctl/c.conf"
"$SMARTHOSTCTL" -c "$T/ctl/c.conf" relay add-domain a.example 127.0.0.9 >/dev/null 2>&1 ||
    bail "first managed write"
sleep 1000 &
victim=$!; PIDS+=("$victim")
printf '%s\n' "$victim" >"$T/fake.pid"
out=$(SMARTHOSTD_PIDFILE=$T/fake.pid SMARTHOSTD_MILTER_PIDFILE=$T/none.pid \
      "$SMARTHOSTCTL" -c "$T/ctl/c.conf" relay add-domain b.example 127.0.0.9 2>&1)
sed "s/^/# smarthostctl: /" <<<"$out"
sleep 0.3
ok "smarthostctl with a pidfile naming 'sleep 1000': it is not signalled" kill -0 "$victim"
ok "smarthostctl says no process holds the pidfile's lock" grep -q "no process holds its lock" <<<"$out"
P=$(lab_free_port)
"$SMARTHOSTD" -f -c "$T/ctl/c.conf" --socketmap "inet:127.0.0.1:$P" --pidfile "$T/ctl.pid" 2>"$T/ctl.log" &
ctl=$!; PIDS+=("$ctl")
lab_wait 10 grep -qs "started with" "$T/ctl.log" || bail "daemon for smarthostctl did not start"
out=$(SMARTHOSTD_PIDFILE=$T/ctl.pid SMARTHOSTD_MILTER_PIDFILE=$T/none.pid \
      "$SMARTHOSTCTL" -c "$T/ctl/c.conf" relay add-domain c.example 127.0.0.9 2>&1)
ok "smarthostctl with the real pidfile: the lock holder is signalled and accepts" \
    grep -q "smarthostd pid $ctl accepted" <<<"$out"
tap_done
