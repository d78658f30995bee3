#!/bin/bash
# Golden tests: `smarthostctl check` on each test/golden/config/*.conf and
# `smarthostctl route` over routes.in, compared with the committed .ref files.
# GOLDEN_UPDATE=1 rewrites the .ref files instead (review the diff before committing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
ctl=${SMARTHOSTCTL:?}
unset RELAY_HOST RELAY_PORT DEFAULT_RELAY_HOST RELAY_USER RELAY_PASSWORD
n=0 failed=0

compare() { # name, actual output, ref file
    n=$((n + 1))
    set -- "$1" "$(printf '%s' "$2")" "$3" # command substitution drops trailing newlines: both sides alike
    if [ "${GOLDEN_UPDATE:-}" = 1 ]; then
        printf '%s' "$2" > "$3"
    fi
    if [ "$2" = "$(cat "$3" 2>/dev/null)" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        diff -u "$3" <(printf '%s\n' "$2") | sed 's/^/# /'
        failed=$((failed + 1))
    fi
}

cd "$here/config" || exit 1
for conf in *.conf; do
    out=$("$ctl" -c "$conf" check 2>&1; echo "exit=$?")
    compare "check $conf" "$out" "${conf%.conf}.ref"
done

cd "$here" || exit 1
out=""
while read -r sender recipient; do
    out+="# route $sender${recipient:+ $recipient}"$'\n'
    out+=$("$ctl" -c routes.conf route "$sender" ${recipient:+"$recipient"} 2>&1; echo "exit=$?")$'\n'
done < routes.in
compare "route answers over routes.in" "$out" routes.ref

echo "1..$n"
[ "$failed" -eq 0 ]
