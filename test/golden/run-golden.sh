#!/bin/bash
# Golden tests: `smarthostctl check` on each test/golden/config/*.conf and
# `smarthostctl route` over routes.in, compared with the committed .ref files.
# GOLDEN_UPDATE=1 rewrites the .ref files instead (review the diff before committing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
ctl=${SMARTHOSTCTL:?}
unset RELAY_HOST RELAY_PORT DEFAULT_RELAY_HOST RELAY_USER RELAY_PASSWORD
n=0 failed=0

. "$(dirname "$0")/compare.sh"

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

# etc/postfix-smarthostd.cf is exactly what `postfix-conf` prints for the shipped config.
out=$("$ctl" -c "$SRCDIR/etc/smarthostd.conf" postfix-conf 2>&1)
compare "postfix-conf matches etc/postfix-smarthostd.cf" "$out" "$SRCDIR/etc/postfix-smarthostd.cf"

# The shipped config passes as is, and so does its commented example once uncommented.
n=$((n + 1))
if "$ctl" -c "$SRCDIR/etc/smarthostd.conf" check >/dev/null 2>&1; then
    echo "ok $n - shipped etc/smarthostd.conf passes check"
else
    echo "not ok $n - shipped etc/smarthostd.conf passes check"; failed=$((failed + 1))
fi
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
for p in mailgun ses; do echo "$p-secret" > "$tmp/$p.pass"; chmod 600 "$tmp/$p.pass"; done
sed -n '/^# Relay used when no sender rule matches/,/^# docker-mailserver compatibility/p' \
    "$SRCDIR/etc/smarthostd.conf" \
    | sed -E -e 's/^# ?([[:space:]]*([a-z_-]+[[:space:]]*=|[][{}()]))/\1/' -e "s|/etc/smarthostd/|$tmp/|" \
    > "$tmp/example.conf"
n=$((n + 1))
if out=$("$ctl" -c "$tmp/example.conf" check 2>&1); then
    echo "ok $n - the commented example in etc/smarthostd.conf is a valid config"
else
    echo "not ok $n - the commented example in etc/smarthostd.conf is a valid config"
    printf '%s\n' "$out" | sed 's/^/# /'; failed=$((failed + 1))
fi

echo "1..$n"
[ "$failed" -eq 0 ]
