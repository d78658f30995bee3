#!/bin/bash
# t_key_rotate_perms.sh - every file smarthostctl replaces keeps its owner, group and mode:
# after key init --group, key rotate and further relay writes, vault.key and managed.conf
# are still readable by a daemon that runs as its own user (-u nobody, group nogroup),
# which reloads them without error.
. "$SRCDIR/test/lib/tap.sh"
C=$SMARTHOSTCTL
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (the daemon drops to nobody)"
getent group nogroup >/dev/null && id nobody >/dev/null 2>&1 || tap_skip_all "no nobody/nogroup"
T=$(mktemp -d /tmp/t_key_perms.XXXXXX)
DPID=
cleanup() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || bail "no temp dir"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_free_port
unset RELAY_HOST RELAY_PORT DEFAULT_RELAY_HOST RELAY_USER RELAY_PASSWORD
PORT=$(lab_free_port)
printf 'vault_key = "%s/vault.key";\n@include "managed.conf"\n' "$T" > main.conf
chgrp nogroup "$T" main.conf && chmod 0750 "$T" && chmod 0640 main.conf || bail "chgrp"
"$C" -c main.conf key init --group nogroup >/dev/null || bail "key init"
"$C" -c main.conf relay add-domain a.example 192.0.2.7 587 >/dev/null 2>&1 || bail "add-domain"
echo first-pw | "$C" -c main.conf relay add-auth a.example user --password-stdin >/dev/null 2>&1 ||
    bail "add-auth"
chmod 0440 managed.conf # an administrator's choice: kept too
perms() { stat -c '%a %U %G' vault.key managed.conf | tr '\n' ' '; }
before=$(perms)
is "$before" "640 root nogroup 440 root nogroup " "after key init --group: 0640 root:nogroup"

"$SMARTHOSTD" -f -u nobody -c main.conf --socketmap "inet:127.0.0.1:$PORT" --pidfile "$T/sh.pid" \
    2>daemon.log &
DPID=$!
for _ in $(seq 200); do [ -s sh.pid.status ] && break; sleep 0.05; done
[ -s sh.pid.status ] || { sed 's/^/# /' daemon.log; bail "no status file within 10 s"; }
export SMARTHOSTD_PIDFILE=$T/sh.pid SMARTHOSTD_MILTER_PIDFILE=$T/no-milter.pid

out=$("$C" -c main.conf key rotate 2>&1); rc=$?
is "$rc" 0 "key rotate: exit 0"
ok "key rotate: the daemon (as nobody) reloaded the rotated files" \
    grep -q "smarthostd pid $DPID accepted the new configuration" <<<"$out"
is "$(perms)" "$before" "key rotate: vault.key and managed.conf keep owner, group and mode"
out=$(echo second-pw | "$C" -c main.conf relay add-auth a.example user --password-stdin 2>&1); rc=$?
is "$rc" 0 "a later relay write: exit 0"
ok "a later relay write: accepted by the daemon" grep -q "accepted the new configuration" <<<"$out"
is "$(perms)" "$before" "a later relay write: owner, group and mode kept"
mkdir pf && touch pf/main.cf && lab_backdate pf/main.cf
is "$(postmap -c pf -q a@a.example "socketmap:inet:127.0.0.1:$PORT:sasl" 2>&1)" "user:second-pw" \
    "the daemon serves the password written after the rotation"
ok "no temp files left" bash -c "! ls | grep -E '\.(old|new|rotate|tmp)$'"
tap_done
