#!/bin/sh
# t_conf_example.sh - the commented milter example in etc/smarthostd.conf,
# uncommented on top of the shipped relays, is a valid configuration.
. "$SRCDIR/test/lib/tap.sh"
conf=$SRCDIR/etc/smarthostd.conf
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
for p in mailgun ses; do echo "$p-secret" > "$tmp/$p.pass"; chmod 600 "$tmp/$p.pass"; done
uncomment() { sed -E -e 's/^# ?([[:space:]]*([a-z_-]+[[:space:]]*=|[][{}()]))/\1/' -e "s|/etc/smarthostd/|$tmp/|"; }
{
    sed -n '/^# Relay used when no sender rule matches/,/^# docker-mailserver compatibility/p' "$conf" | uncomment
    sed -n '/^# Milter (smarthostd-milter/,$p' "$conf" | uncomment
} > "$tmp/example.conf"
out=$("$SMARTHOSTD_MILTER" -c "$tmp/example.conf" -n 2>&1)
diag "$out"
is "$out" "configuration OK" "the commented milter example is a valid config"
ok "it enables the privacy rules" grep -q "^    privacy = {" "$tmp/example.conf"
ok "etc/postfix-milter.cf sets milter_default_action" grep -q "^milter_default_action = tempfail" "$SRCDIR/etc/postfix-milter.cf"
tap_done
