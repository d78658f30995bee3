#!/bin/bash
# t_socket_place.sh - unix sockets get their mode and group without a path race: they are
# made in a private directory and renamed into place. Checks the result (0660, the
# --socket-group group, no temp directory left) for both daemons, and that a symlink
# planted at the socket path before start is never followed to chmod/chown its target.
. "$SRCDIR/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_wait
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (chown to another group)"
T=$(mktemp -d /tmp/t_socket_place.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
printf 'relays = { r = { host = "127.0.0.9"; }; }; default_relay = "r";\n' >"$T/c.conf"
G=nogroup
mkdir -m 0755 "$T/run"

"$SMARTHOSTD" -f -c "$T/c.conf" --socketmap "unix:$T/run/map" --policy "unix:$T/run/pol" \
    --socket-group "$G" 2>"$T/d.log" &
PIDS+=("$!")
lab_wait 10 test -S "$T/run/pol" || { sed 's/^/# /' "$T/d.log"; bail "smarthostd did not start"; }
is "$(stat -c '%a %U:%G %F' "$T/run/map")" "660 root:$G socket" "smarthostd: socketmap socket 0660 root:$G"
is "$(stat -c '%a %U:%G' "$T/run/pol")" "660 root:$G" "smarthostd: policy socket 0660 root:$G"
"$SMARTHOSTD_MILTER" -f -c "$T/c.conf" -p "unix:$T/run/milter" 2>"$T/m.log" &
PIDS+=("$!")
lab_wait 10 test -S "$T/run/milter" || { sed 's/^/# /' "$T/m.log"; bail "milter did not start"; }
is "$(stat -c '%a %F' "$T/run/milter")" "660 socket" "milter: socket 0660"
is "$(ls -A "$T/run" | tr '\n' ' ')" "map milter pol " "no private temp directory left behind"
ok "the milter answers on its socket" "$PYTHON" -c "
import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect('$T/run/milter')"

# A link planted at the path: never followed.
printf 'victim\n' >"$T/victim" && chmod 0644 "$T/victim"
ln -s "$T/victim" "$T/run/planted"
before=$(stat -c '%a %U:%G' "$T/victim")
out=$(timeout -k 2 10 "$SMARTHOSTD" -f -c "$T/c.conf" --socketmap "unix:$T/run/planted" --socket-group "$G" 2>&1); rc=$?
is "$rc" 1 "smarthostd: a link at the socket path: refused"
is "$(stat -c '%a %U:%G' "$T/victim")" "$before" "smarthostd: the link's target keeps its mode and owner"
out=$(timeout -k 2 10 "$SMARTHOSTD_MILTER" -f -c "$T/c.conf" -p "unix:$T/run/planted" 2>&1); rc=$?
is "$rc" 1 "milter: a link at the socket path: refused"
is "$(stat -c '%a %U:%G' "$T/victim")" "$before" "milter: the link's target keeps its mode and owner"
is "$(cat "$T/victim")" "victim" "the link's target is unchanged"
tap_done
