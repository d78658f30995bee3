#!/bin/bash
# t_load_fifo.sh - files a load reads cannot stall it or lead it elsewhere: a FIFO as a
# file: password or as the vault key is a config error naming the path (not a hang), a
# symlink as the secret file is refused, and SIGTERM stops the daemon during a load that
# does block (a FIFO pulled in by libconfig's own @include) at startup and at reload.
. "$SRCDIR/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_free_port, lab_wait
T=$(mktemp -d /tmp/t_load_fifo.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# PID gone within SECS seconds (tenths polled)?
lab_wait_gone_ok() { local i; for ((i = 0; i < $1 * 10; i++)); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.1; done; return 1; }

relay='relays = { r = { host = "127.0.0.9"; credentials = "c"; }; }; default_relay = "r";'
mkfifo "$T/pw.fifo" "$T/key.fifo" "$T/inc.fifo"
printf 'secret\n' >"$T/pw" && chmod 600 "$T/pw" && ln -s "$T/pw" "$T/pw.link"

printf 'credentials = { c = { user = "u"; password = "file:%s"; }; };\n%s\n' "$T/pw.fifo" "$relay" >"$T/fifo.conf"
out=$(timeout -k 2 10 "$SMARTHOSTD" -n -c "$T/fifo.conf" 2>&1); rc=$?
is "$rc" 1 "FIFO as file: password: -n answers (exit 1), no hang"
ok "FIFO as file: password: the error names the path and says FIFO" \
    grep -q "$T/pw.fifo: is a FIFO, not a regular file" <<<"$out"
out=$(timeout -k 2 10 "$SMARTHOSTD" -f -c "$T/fifo.conf" --socketmap "inet:127.0.0.1:$(lab_free_port)" 2>&1); rc=$?
is "$rc" 1 "FIFO as file: password: the daemon exits 1 at startup instead of hanging"

printf 'vault_key = "%s";\ncredentials = { c = { user = "u"; password = "enc:v1:AAAA"; }; };\n%s\n' \
    "$T/key.fifo" "$relay" >"$T/key.conf"
out=$(timeout -k 2 10 "$SMARTHOSTD" -n -c "$T/key.conf" 2>&1); rc=$?
is "$rc" 1 "FIFO as vault key: -n answers (exit 1), no hang"
ok "FIFO as vault key: the error names the path" grep -q "vault key $T/key.fifo: is a FIFO" <<<"$out"
out=$(timeout -k 2 10 "$SMARTHOSTD_MILTER" -n -c "$T/key.conf" 2>&1); rc=$?
is "$rc" 1 "FIFO as vault key: the milter's -n answers too"

printf 'credentials = { c = { user = "u"; password = "file:%s"; }; };\n%s\n' "$T/pw.link" "$relay" >"$T/link.conf"
out=$(timeout -k 2 10 "$SMARTHOSTD" -n -c "$T/link.conf" 2>&1); rc=$?
is "$rc" 1 "symlink as the secret file: refused"
ok "symlink as the secret file: the error says so" grep -q "pw.link: is a symbolic link" <<<"$out"

printf '%s\nmilter = { header_checks = "%s"; };\n' "$relay" "$T/inc.fifo" >"$T/hc.conf"
out=$(timeout -k 2 10 "$SMARTHOSTD_MILTER" -n -c "$T/hc.conf" 2>&1); rc=$?
is "$rc" 1 "FIFO as header_checks file: refused, no hang"
printf '@include "%s"\n' "$T/inc.fifo" >"$T/main-fifo.conf"
out=$(timeout -k 2 10 "$SMARTHOSTD" -n -c "$T/inc.fifo" 2>&1); rc=$?
is "$rc" 1 "FIFO as the configuration file: refused, no hang"

printf '@include "%s"\n' "$T/inc.fifo" >"$T/main-fifo.conf"
out=$(timeout -k 2 10 "$SMARTHOSTD" -n -c "$T/main-fifo.conf" 2>&1); rc=$?
is "$rc" 1 "FIFO pulled in by @include: refused, no hang"

# A relative @include (resolved against the main file's directory) of a FIFO: refused by
# -n and by smarthostctl check, naming file:line and the FIFO, never a hang.
printf '@include "inc.fifo"\n' >"$T/rel-fifo.conf"
out=$(timeout -k 2 10 "$SMARTHOSTD" -n -c "$T/rel-fifo.conf" 2>&1); rc=$?
is "$rc" 1 "FIFO by relative @include: -n answers (exit 1), no hang"
ok "FIFO by relative @include: the error names file:line and the FIFO" \
    grep -q "rel-fifo.conf:1: @include \"inc.fifo\": cannot read $T/inc.fifo: is a FIFO" <<<"$out"
out=$(timeout -k 2 10 "$SMARTHOSTCTL" -c "$T/rel-fifo.conf" check 2>&1); rc=$?
is "$rc" 1 "FIFO by relative @include: smarthostctl check answers (exit 1), no hang"
# An absolute @include works (libconfig 1.5 alone would glue it to the include directory).
printf 'relays = { r = { host = "127.0.0.9"; }; };\n' >"$T/abs.inc"
printf '@include "%s"\ndefault_relay = "r";\n' "$T/abs.inc" >"$T/abs.conf"
out=$(timeout -k 2 10 "$SMARTHOSTD" -n -c "$T/abs.conf" 2>&1); rc=$?
is "$rc" 0 "absolute @include: loaded (configuration OK)"
printf '@include "%s"\ndefault_relay = "nope";\n' "$T/abs.inc" >"$T/abs-bad.conf"
out=$(timeout -k 2 10 "$SMARTHOSTD" -n -c "$T/abs-bad.conf" 2>&1)
ok "absolute @include: a later error keeps its own file:line" grep -q "abs-bad.conf:2: default_relay" <<<"$out"

# Loads cannot block on a file any more; SIGTERM during startup and right after a
# SIGHUP (a reload in progress) still stops the daemon promptly and cleanly.
plain='relays = { r = { host = "127.0.0.9"; }; }; default_relay = "r";'
printf '%s\n' "$plain" >"$T/plain.conf"
P=$(lab_free_port)
"$SMARTHOSTD" -f -c "$T/plain.conf" --socketmap "inet:127.0.0.1:$P" --pidfile "$T/a.pid" 2>"$T/start.log" &
pid=$!; PIDS+=("$pid")
# after exec (before it, the signal would hit the forked shell), during startup
exe=$(readlink -f "$SMARTHOSTD")
for _ in $(seq 1000); do [ "$(readlink "/proc/$pid/exe")" = "$exe" ] && break; done
kill -TERM "$pid"
ok "SIGTERM during startup: stopped within 2 s" lab_wait_gone_ok 2 "$pid"
ok "SIGTERM during startup: no pidfile left" test ! -e "$T/a.pid"

P=$(lab_free_port)
"$SMARTHOSTD" -f -c "$T/plain.conf" --socketmap "inet:127.0.0.1:$P" 2>"$T/reload.log" &
pid=$!; PIDS+=("$pid")
lab_wait 10 grep -qs "started with" "$T/reload.log" || bail "daemon did not start"
# a reload that meets a FIFO by relative @include fails at once and keeps serving
cp "$T/plain.conf" "$T/reload.conf"
P2=$(lab_free_port)
"$SMARTHOSTD" -f -c "$T/reload.conf" --socketmap "inet:127.0.0.1:$P2" 2>"$T/reload2.log" &
pid2=$!; PIDS+=("$pid2")
lab_wait 10 grep -qs "started with" "$T/reload2.log" || bail "daemon did not start"
printf '@include "inc.fifo"\n%s\n' "$plain" >"$T/reload.conf"
kill -HUP "$pid2"
ok "reload with a FIFO by relative @include: fails at once, previous config kept" \
    lab_wait 5 grep -qs "reload failed: .*inc.fifo: is a FIFO" "$T/reload2.log"
kill -TERM "$pid2"
ok "... and SIGTERM then stops it within 2 s" lab_wait_gone_ok 2 "$pid2"
kill -HUP "$pid"; kill -TERM "$pid"
ok "SIGTERM during a reload: stopped within 2 s" lab_wait_gone_ok 2 "$pid"
wait "$pid"; rc=$?
is "$rc" 0 "SIGTERM during a reload: a clean stop (exit 0)"
tap_done
