#!/bin/bash
# from_forms.sh - the From forms golden table (from_forms/) through the real smarthostd-milter
# under miltertest: each case's headers sent as a message, its edits or refusal checked
# against what from_forms.ref says (one TAP point per case).
set -u
. "$SRCDIR/test/lib/tap.sh"
HERE=$SRCDIR/test/milter
export MT_LIB=$HERE/mt_lib.lua
MILTER=${SMARTHOSTD_MILTER:?}
FORMS=${T_FROM_FORMS:?}
IN=$HERE/from_forms/from_forms.in
REF=$HERE/from_forms/from_forms.ref
command -v miltertest >/dev/null || tap_skip_all "miltertest not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/smarthostd-ff.XXXXXX")
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT

# The same routing and rewrite as the table's unit run (t_from_forms.c).
cat >"$T/smarthostd.conf" <<CONF
relays = {
  isp = { host = "127.0.0.1"; port = 2626; };
  ses = { host = "127.0.0.2"; port = 2627; };
};
default_relay = "isp";
senders = ( { match = "@verified.example"; relay = "ses"; } );
milter = {
  add_date = false;
  add_message_id = false;
  sender_rewrite = ( { relay = "ses"; identity = "bounce@verified.example"; from_header = true; } );
};
CONF
"$MILTER" -c "$T/smarthostd.conf" -f -p "unix:$T/milter.sock" 2>"$T/milter.log" &
PID=$!
wait_for 10 test -S "$T/milter.sock" || bail "milter did not start: $(cat "$T/milter.log")"

n=$("$FORMS" --count "$IN")
for i in $(seq "$n"); do
    title=$(grep '^# ' "$IN" | sed -n "${i}p" | cut -c3-)
    "$FORMS" --lua "$IN" "$REF" "$i" >"$T/case.lua" || bail "no script for case $i"
    if grep -q '^mt.echo("SKIP' "$T/case.lua"; then
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N # SKIP $title: $(sed -n 's/^mt.echo("SKIP: \(.*\)")$/\1/p' "$T/case.lua")"
        continue
    fi
    out=$(MILTER_SOCK="unix:$T/milter.sock" miltertest -s "$T/case.lua" 2>&1)
    rc=$?
    ok "miltertest: $title" test "$rc" = 0
    [ "$rc" = 0 ] || { echo "$out" | sed 's/^/#   /'; sed 's/^/#   /' "$T/case.lua" | head -30; }
done
ok "refusals logged as such, not as internal errors" bash -c \
    '! grep -q "internal error" "$1" && grep -q "tempfail: From header cannot be parsed" "$1"' _ "$T/milter.log"
tap_done
