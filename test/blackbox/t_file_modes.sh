#!/bin/bash
# t_file_modes.sh - the pidfile and PIDFILE.status are 0644 whatever the umask the daemon
# inherits (077 would hide them from smarthostctl run as a user, 000 would open them to
# writes), for smarthostd and smarthostd-milter.
set -u
. "$SRCDIR/test/lib/tap.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/smarthostd-modes.XXXXXX")
PID=
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi; rm -rf "$T"; }
trap cleanup EXIT
cat >"$T/smarthostd.conf" <<CONF
relays = { isp = { host = "127.0.0.1"; port = 2626; }; };
default_relay = "isp";
milter = { hostname = "mx.example.test"; };
CONF
for mask in 077 000; do
    for d in smarthostd milter; do
        rm -rf "$T/run"
        if [ $d = smarthostd ]; then
            (umask $mask; exec "$SMARTHOSTD" -f -c "$T/smarthostd.conf" --socketmap "unix:$T/sock" \
                --pidfile "$T/run/d.pid" 2>>"$T/log") & PID=$!
        else
            (umask $mask; exec "$SMARTHOSTD_MILTER" -f -c "$T/smarthostd.conf" -p "unix:$T/sock" \
                --pidfile "$T/run/d.pid" 2>>"$T/log") & PID=$!
        fi
        wait_for 20 test -s "$T/run/d.pid.status" || bail "$d did not start: $(cat "$T/log")"
        is "$(stat -c %a "$T/run/d.pid")" 644 "$d under umask $mask: pidfile 0644"
        is "$(stat -c %a "$T/run/d.pid.status")" 644 "$d under umask $mask: status file 0644"
        kill "$PID"; wait "$PID"; PID=
    done
done
tap_done
