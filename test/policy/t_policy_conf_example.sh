#!/bin/sh
# t_policy_conf_example.sh - the commented policy example in etc/smarthostd.conf,
# uncommented on top of the commented relay example, passes `smarthostctl check`,
# and `smarthostctl route` shows the SMTP-time rules for a sender.
. "$SRCDIR/test/lib/tap.sh"
ctl=$SMARTHOSTCTL
conf=$SRCDIR/etc/smarthostd.conf
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
for p in mailgun ses; do echo "$p-secret" > "$tmp/$p.pass"; chmod 600 "$tmp/$p.pass"; done
uncomment() { sed -E -e 's/^# ?([[:space:]]*([a-z_-]+[[:space:]]*=|[][{}()]))/\1/' -e "s|/etc/smarthostd/|$tmp/|"; }
{
    sed -n '/^# Relay used when no sender rule matches/,/^# docker-mailserver compatibility/p' "$conf" | uncomment
    sed -n '/^# Policy delegation service/,$p' "$conf" | uncomment
} > "$tmp/example.conf"

ok "shipped config still passes check" "$ctl" -c "$conf" check
ok "the commented policy example is a valid config" "$ctl" -c "$tmp/example.conf" check
out=$("$ctl" -c "$tmp/example.conf" route billing@example.com 2>&1)
printf '%s\n' "$out" | sed 's/^/# /'
is "$(printf '%s\n' "$out" | grep '^policy_require_tls=' | cut -d' ' -f1)" "policy_require_tls=yes" "route: require_tls shown"
is "$(printf '%s\n' "$out" | grep '^policy_logins=')" "policy_logins=none" "route: nobody owns billing@"
is "$(printf '%s\n' "$out" | grep -c '^policy_rate_limit=ses-')" "2" "route: the ses relay limits apply"
is "$(printf '%s\n' "$out" | grep '^policy_max_size=' | cut -d' ' -f1)" "policy_max_size=10240000" "route: max_size shown"
out=$("$ctl" -c "$tmp/example.conf" route alice+x@example.com 2>&1)
is "$(printf '%s\n' "$out" | grep '^policy_logins=')" "policy_logins=alice@example.com" "route: alice owns her address"
tap_done
