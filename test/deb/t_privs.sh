#!/bin/bash
# t_privs.sh - both daemons, started as root with -u nobody, bind first and then run as
# nobody: /proc/PID/status shows the uid/gid in all four slots, only nobody's group, no
# capabilities, in every thread; a reload still reads a group-readable config (TAP).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
getent passwd nobody >/dev/null || tap_skip_all "no user nobody"
U=$(id -u nobody); G=$(id -g nobody)

lab_init
P=$(lab_free_port)
# The permission model: root owns the files, the daemon's group may read them.
echo 'default_relay = "direct";' >"$LAB/c.conf"
chown "root:$G" "$LAB/c.conf" && chmod 640 "$LAB/c.conf"
mkdir -p "$LAB/sock" && chown "nobody:$G" "$LAB/sock" && chmod 750 "$LAB/sock"

dropped() { # PID: every thread runs as nobody, with no other group and no capability
    local st ok=0
    for st in /proc/"$1"/task/*/status; do
        grep -qx "Uid:	$U	$U	$U	$U" "$st" && grep -qx "Gid:	$G	$G	$G	$G" "$st" &&
            [ "$(awk '/^Groups:/ {$1=""; print}' "$st" | tr -d ' ')" = "$G" ] &&
            grep -qx 'CapEff:	0000000000000000' "$st" && grep -qx 'CapPrm:	0000000000000000' "$st" || ok=1
    done
    return $ok
}

"$SMARTHOSTD" -f -u nobody -c "$LAB/c.conf" --socketmap "inet:127.0.0.1:$P" >"$LAB/d.log" 2>&1 &
D=$!; LAB_PIDS+=($D)
lab_wait 15 grep -q 'started with' "$LAB/d.log" || bail "smarthostd did not start"
ok "smarthostd: uid/gid $U/$G everywhere, groups $G only, no capabilities" dropped "$D"
ok "smarthostd logs the drop" grep -q "running as user nobody (uid $U, gid $G)" "$LAB/d.log"
is "$(lab_query "$P" relay x@example.com; echo "rc=$?")" "rc=1" "smarthostd still answers (NOTFOUND: direct)"
kill -HUP "$D"
ok "smarthostd reloads the group-readable config after the drop" \
    lab_wait 10 grep -q 'reloaded configuration' "$LAB/d.log"

"$MILTER" -f -u nobody -c "$LAB/c.conf" -p "unix:$LAB/sock/milter" >"$LAB/m.log" 2>&1 &
M=$!; LAB_PIDS+=($M)
lab_wait 15 test -S "$LAB/sock/milter" || bail "milter did not start"
lab_wait 10 grep -q 'listening on' "$LAB/m.log"
ok "smarthostd-milter: uid/gid $U/$G everywhere, groups $G only, no capabilities" dropped "$M"
kill -HUP "$M"
ok "smarthostd-milter reloads after the drop" lab_wait 10 grep -q 'reloaded' "$LAB/m.log"

P3=$(lab_free_port)
"$SMARTHOSTD" -f -u no-such-user-xyz -c "$LAB/c.conf" --socketmap "inet:127.0.0.1:$P3" >"$LAB/bad.log" 2>&1
is "$?" 1 "an unknown -u user is fatal"
ok "and says so" grep -q 'no-such-user-xyz' "$LAB/bad.log"
setpriv --reuid=nobody --regid="$G" --clear-groups "$SMARTHOSTD" -f -u root -c "$LAB/c.conf" \
    --socketmap "inet:127.0.0.1:$P3" >"$LAB/nr.log" 2>&1
is "$?" 1 "-u as a non-root user is fatal"
ok "and says so" grep -q 'only root can switch users' "$LAB/nr.log"
# Without -u, root stays root whatever accounts exist: only -u switches users.
P2=$(lab_free_port)
"$SMARTHOSTD" -f -c "$LAB/c.conf" --socketmap "inet:127.0.0.1:$P2" >"$LAB/def.log" 2>&1 &
DEF_PID=$!
LAB_PIDS+=($DEF_PID)
ok "root without -u: stays root and warns" lab_wait 10 grep -q "running as root: give -u USER" "$LAB/def.log"
is "$(awk '/^Uid:/ {print $2}' /proc/$DEF_PID/status)" "0" "... and is still uid 0"

tap_done
