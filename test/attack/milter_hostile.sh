#!/bin/bash
# milter_hostile.sh - hostile envelope values against the real milter, over miltertest (TAP).
set -u
. "${SRCDIR:?}/test/lib/tap.sh"
MILTER=${SMARTHOSTD_MILTER:?}
command -v miltertest >/dev/null || tap_skip_all "miltertest not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/smarthostd-attack.XXXXXX")
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
cat >"$T/smarthostd.conf" <<'CONF'
policy = { require_auth = [ "@own.example" ]; };
milter = { hostname = "mx.example.test"; };
CONF
"$MILTER" -c "$T/smarthostd.conf" -f -p "unix:$T/milter.sock" 2>"$T/milter.log" &
PID=$!
for i in $(seq 100); do [ -S "$T/milter.sock" ] && break; sleep 0.1; done
[ -S "$T/milter.sock" ] || bail "milter did not start: $(cat "$T/milter.log")"
out=$(MILTER_SOCK="unix:$T/milter.sock" miltertest -s "$SRCDIR/test/attack/mt_hostile.lua" 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
is "$rc" 0 "miltertest: hostile logins and senders are refused"
ok "the refusal names the reason" grep -q "Login name too long or malformed to judge" "$T/milter.log"
tap_done
