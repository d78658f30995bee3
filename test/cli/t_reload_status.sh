#!/bin/bash
# t_reload_status.sh - a write through smarthostctl reports the running daemon's verdict:
# the real smarthostd (--pidfile) writes PIDFILE.status after every load; the CLI sends
# SIGHUP and waits (bounded) for a newer load. One write it accepts, two it rejects
# (RELAY_HOST in the daemon's environment conflicting; a vault key it cannot read).
# The daemon runs as nobody (-u): as root it would drop to "smarthostd" when that user
# exists, so the test gives every file it reads to group nogroup, as an admin would.
. "$SRCDIR/test/lib/tap.sh"
C=$SMARTHOSTCTL
T=$(mktemp -d /tmp/t_reload.XXXXXX)
DPID= MPID=
cleanup() { for p in $DPID $MPID; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || bail "no temp dir"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_free_port
PORT=$(lab_free_port)
printf 'vault_key = "%s/vault.key";\n@include "managed.conf"\n' "$T" > main.conf
chgrp nogroup "$T" main.conf && chmod 0775 "$T" && chmod 0640 main.conf || bail "chgrp"
"$C" -c main.conf key init --group nogroup >/dev/null || bail "key init"
"$C" -c main.conf relay add-domain a.example 127.0.0.9 >/dev/null 2>&1 || bail "first write"
# The daemon's environment defines the default relay "env" at [127.0.0.9]:25, tls may.
RELAY_HOST=127.0.0.9 "$SMARTHOSTD" -f -u nobody -c main.conf --socketmap "inet:127.0.0.1:$PORT" \
    --pidfile "$T/sh.pid" 2>daemon.log &
DPID=$!
for _ in $(seq 200); do [ -s sh.pid.status ] && break; sleep 0.05; done
[ -s sh.pid.status ] || { sed 's/^/# /' daemon.log; bail "no status file within 10 s"; }
export SMARTHOSTD_PIDFILE=$T/sh.pid
ok "status after start: load #1 ok" grep -qx 'generation=1' sh.pid.status
# The milter reads the same files: it is told too (its own pidfile and verdict).
MILTER=$SMARTHOSTD_MILTER
"$MILTER" -f -u nobody -c main.conf -p "unix:$T/milter.sock" --pidfile "$T/milter.pid" 2>milter.log &
MPID=$!
for _ in $(seq 200); do [ -s milter.pid.status ] && break; sleep 0.05; done
[ -s milter.pid.status ] || { sed 's/^/# /' milter.log; bail "no milter status file within 10 s"; }
export SMARTHOSTD_MILTER_PIDFILE=$T/milter.pid
is "$(cat milter.pid)" "$MPID" "milter pidfile holds the serving pid"

out=$("$C" -c main.conf relay add-domain b.example 192.0.2.7 587 2>&1); rc=$?
is "$rc" 0 "accepted write: exit 0"
ok "accepted write: says the daemon accepted it" grep -q "smarthostd pid $DPID accepted the new configuration (load #2)" <<<"$out"
ok "accepted write: and the milter too" grep -q "smarthostd-milter pid $MPID accepted the new configuration (load #2)" <<<"$out"

# add-auth makes d_a_example tls=encrypt; the daemon's env relay at the same nexthop is tls=may.
out=$(echo pw | "$C" -c main.conf relay add-auth a.example user --password-stdin 2>&1); rc=$?
is "$rc" 1 "rejected write (env conflict): exit 1"
ok "rejected write: the daemon's error is shown" bash -c "grep -q REJECTED <<<'$out' && grep -q 'differ in tls' <<<'$out'"
ok "rejected write: the daemon keeps serving" kill -0 "$DPID"
ok "rejected write: no secret in the status file" bash -c "! grep -q pw sh.pid.status"

ok "rejected write: the milter (no RELAY_HOST) accepted it" grep -q "smarthostd-milter pid $MPID accepted" <<<"$out"
kill "$MPID"; wait "$MPID" 2>/dev/null; MPID=
ok "milter pidfile and status removed on exit" bash -c "test ! -e milter.pid && test ! -e milter.pid.status"
unset SMARTHOSTD_MILTER_PIDFILE

kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
ok "status file removed on exit" test ! -e sh.pid.status
out=$("$C" -c main.conf relay add-domain d.example 192.0.2.9 2>&1)
ok "no daemon: says so" grep -q "no running smarthostd" <<<"$out"

# The daemon reads its files through the group: the managed file follows the main
# file's group; a vault key the daemon's group cannot read is refused.
"$C" -c main.conf relay del-domain a.example >/dev/null 2>&1
chgrp root vault.key
"$SMARTHOSTD" -f -u nobody -c main.conf --socketmap "inet:127.0.0.1:$PORT" --pidfile "$T/sh.pid" 2>daemon2.log &
DPID=$!
for _ in $(seq 200); do [ -s sh.pid.status ] && break; sleep 0.05; done
[ -s sh.pid.status ] || { sed 's/^/# /' daemon2.log; bail "no status file within 10 s (-u nobody)"; }
out=$("$C" -c main.conf relay add-domain e.example 192.0.2.10 2>&1); rc=$?
is "$rc" 0 "daemon as nobody reads managed.conf (group of main.conf, 0640)"
out=$(echo pw | "$C" -c main.conf relay add-auth e.example user --password-stdin 2>&1); rc=$?
is "$rc" 1 "vault key the daemon user cannot read: exit 1"
ok "vault key the daemon user cannot read: its reason shown" bash -c "grep -q REJECTED <<<'$out' && grep -q 'vault.key' <<<'$out'"
chgrp nogroup vault.key; chmod 0640 vault.key
out=$(echo pw | "$C" -c main.conf relay add-auth e.example user --password-stdin 2>&1); rc=$?
is "$rc" 0 "key readable through the group: accepted"
tap_done
