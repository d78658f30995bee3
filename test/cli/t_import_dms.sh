#!/bin/bash
# t_import_dms.sh - import docker-mailserver's documented example files, then compare
# `smarthostctl route` with what Postfix answers from the same files (postmap -q,
# in Postfix's lookup order: full address, @domain, then the relayhost / nexthop).
. "$SRCDIR/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"
C=$SMARTHOSTCTL
command -v postmap >/dev/null || tap_skip_all "postfix (postmap) not installed"
T=$(mktemp -d /tmp/t_import.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || bail "no temp dir"
mkdir dms pf && : > pf/main.cf
cat > dms/postfix-relaymap.cf <<'X'
# docker-mailserver documentation example
@domain1.com        [smtp.mailgun.org]:587
@domain2.com        [smtp.sendgrid.net]:2525
@domain3.com
X
cat > dms/postfix-sasl-password.cf <<'X'
@domain1.com        mailgun-user:secret
@domain2.com        sendgrid-user:secret
[email-smtp.us-west-2.amazonaws.com]:2587  aws-user:secret
X
printf 'vault_key = "%s/vault.key";\n@include "managed.conf"\n' "$T" > main.conf
"$C" -c main.conf key init >/dev/null || bail "key init"
export DEFAULT_RELAY_HOST='[email-smtp.us-west-2.amazonaws.com]:2587'
ok "import dms" "$C" -c main.conf import dms dms
ok "no plaintext password written" bash -c "! grep -q secret managed.conf"
unset DEFAULT_RELAY_HOST # now in managed.conf; the route below must not need it

grep -E '^@[^ ]+ +[^ ]' dms/postfix-relaymap.cf > pf/relaymap   # Postfix's table
lab_backdate pf/main.cf pf/relaymap dms/postfix-sasl-password.cf
pq() { postmap -c "$T/pf" -q "$1" "texthash:$2" 2>/dev/null; }
postfix_relay() {
    local s=$1 d=@${1#*@} v
    grep -qE "^$d *$" dms/postfix-relaymap.cf && { echo direct; return; } # opt-out
    v=$(pq "$s" pf/relaymap) || v=$(pq "$d" pf/relaymap) || v='[email-smtp.us-west-2.amazonaws.com]:2587'
    echo "$v"
}
postfix_user() {
    local s=$1 d=@${1#*@} relay=$2 v
    [ "$relay" = direct ] && { echo none; return; }
    v=$(pq "$s" dms/postfix-sasl-password.cf) || v=$(pq "$d" dms/postfix-sasl-password.cf) ||
        v=$(pq "$relay" dms/postfix-sasl-password.cf) || { echo none; return; }
    echo "${v%%:*}"
}
for s in a@domain1.com b+tag@domain1.com c@domain2.com d@domain3.com e@other.org f@sub.domain1.com; do
    want_relay=$(postfix_relay "$s")
    want_user=$(postfix_user "$s" "$want_relay")
    out=$("$C" -c main.conf route "$s")
    is "$(sed -n 's/^relay=//p' <<<"$out")" "$want_relay" "$s: relay as Postfix ($want_relay)"
    is "$(sed -n 's/^sasl_user=//p' <<<"$out")" "$want_user" "$s: sasl user as Postfix ($want_user)"
done
is "$("$BUILDDIR/test/cli/dump_creds" main.conf | awk '{print $3}' | sort -u)" secret "passwords decrypt to the imported ones"
printf '@bad..domain [x.example]:25\n' > dms/postfix-relaymap.cf
cp managed.conf before
ok "a bad line: refused with file:line, nothing written" bash -c "'$C' -c main.conf import dms dms 2>&1 | grep -q 'postfix-relaymap.cf:1' && cmp -s before managed.conf"
tap_done
