#!/bin/bash
# t_import_postfix.sh - import a hand-made Postfix relay setup (hash, lmdb and texthash
# tables), then for a table of senders compare `smarthostctl route` with what Postfix's
# own lookups give (postmap -q on the original tables, in Postfix's lookup order):
# same relay, same SASL user, same TLS policy. Unrepresentable setups are refused.
. "$SRCDIR/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"
C=$SMARTHOSTCTL
command -v postmap >/dev/null && command -v postconf >/dev/null ||
    tap_skip_all "postfix (postmap, postconf) not installed"
T=$(mktemp -d /tmp/t_import_pf.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || bail "no temp dir"
mkdir pf
cat > pf/relay <<'X'
# sender_dependent_relayhost_maps
@domain1.com            [smtp.mailgun.org]:587
@domain2.com            [smtp.sendgrid.net]:2525
alice@domain1.com       [smtp.sendgrid.net]:2525
bob@domain3.com         DUNNO
<>                      [bounce.example.net]
@domain4.com            [192.0.2.5]:25
X
cat > pf/sasl <<'X'
@domain1.com            mailgun-user:secret1
@domain2.com            sendgrid-user:secret2
carol@domain2.com       carol:secret3
[smtp.sendgrid.net]:2525 sg-host-user:secret4
relay.isp.example       isp-user:secret5
[bounce.example.net]    bounce-user:secret6
dave@domain5.com        dave:secret7
X
cat > pf/tls_policy <<'X'
[smtp.mailgun.org]:587  secure match=nexthop:dot-nexthop
[smtp.sendgrid.net]:2525 verify
[bounce.example.net]    encrypt
[192.0.2.5]:25          may
X
cat > pf/transport <<'X'
example.org             smtp:[lanes.example.net]:2526
.slow.example           slow:
X
cat > pf/master.cf <<'X'
smtp      unix  -       -       n       -       -       smtp
slow      unix  -       -       n       -       -       smtp
    -o smtp_connect_timeout=5
X
cat > pf/main.cf <<X
relayhost = [relay.isp.example]:587
smtp_sasl_auth_enable = yes
smtp_sender_dependent_authentication = yes
sender_dependent_relayhost_maps = hash:$T/pf/relay
smtp_sasl_password_maps = lmdb:$T/pf/sasl
smtp_tls_policy_maps = texthash:$T/pf/tls_policy
transport_maps = hash:$T/pf/transport
smtp_tls_security_level = encrypt
recipient_delimiter = +
X
lab_backdate pf/*
postmap -c pf hash:pf/relay lmdb:pf/sasl hash:pf/transport 2>/dev/null || bail "postmap"
printf 'recipient_delimiter = "+";\nvault_key = "%s/vault.key";\n@include "managed.conf"\n' "$T" > main.conf
"$C" -c main.conf key init >/dev/null || bail "key init"

ok "import postfix" "$C" -c main.conf import postfix pf
ok "no plaintext password written" bash -c "! grep -q 'secret[0-9]' managed.conf"
ok "imported config checks" "$C" -c main.conf check

pq() { postmap -c "$T/pf" -q "$1" "$2" 2>/dev/null; }
# Postfix's mail_addr_find order: address, address without +extension, @domain.
sender_q() {
    local s=$1 map=$2 noext
    pq "$s" "$map" && return
    noext=$(sed -E 's/^([^+@]+)\+[^@]*@/\1@/' <<<"$s")
    [ "$noext" != "$s" ] && pq "$noext" "$map" && return
    pq "@${s#*@}" "$map"
}
postfix_relay() {
    local v
    if [ "$1" = "<>" ]; then v=$(pq "<>" hash:pf/relay); else v=$(sender_q "$1" hash:pf/relay); fi
    [ -z "$v" ] || [ "$v" = DUNNO ] && v='[relay.isp.example]:587'
    [[ $v == *']' ]] && v="$v:25" # smarthostd writes the default port out
    echo "$v"
}
postfix_user() { # sender-dependent first (not for <>), then nexthop host, then nexthop
    local s=$1 nh=$2 v host
    [ "$s" != "<>" ] && v=$(sender_q "$s" lmdb:pf/sasl)
    host=${nh#[}; host=${host%%]*}
    [ -z "$v" ] && v=$(pq "$host" lmdb:pf/sasl)
    [ -z "$v" ] && v=$(pq "$nh" lmdb:pf/sasl) || true
    [ -z "$v" ] && v=$(pq "${nh%:25}" lmdb:pf/sasl) || true
    echo "${v:-none:}" | cut -d: -f1
}
postfix_tls() {
    local nh=$1 v
    v=$(pq "$nh" texthash:pf/tls_policy) || v=$(pq "${nh%:25}" texthash:pf/tls_policy) ||
        v=$(postconf -c pf -xh smtp_tls_security_level 2>/dev/null)
    echo "$v" | tr -s ' '
}
for s in alice@domain1.com alice+tag@domain1.com bob@domain1.com x@domain2.com \
         carol@domain2.com carol+x@domain2.com bob@domain3.com other@domain3.com \
         z@domain4.com dave@domain5.com e@sub.domain1.com nobody@unmatched.org '<>'; do
    want_relay=$(postfix_relay "$s")
    out=$("$C" -c main.conf route "$s")
    is "$(sed -n 's/^relay=//p' <<<"$out")" "$want_relay" "$s: relay as Postfix ($want_relay)"
    want_user=$(postfix_user "$s" "$want_relay")
    is "$(sed -n 's/^sasl_user=//p' <<<"$out")" "$want_user" "$s: sasl user as Postfix ($want_user)"
    want_tls=$(postfix_tls "$want_relay")
    is "$(sed -n 's/^tls=//p' <<<"$out")" "$want_tls" "$s: tls as Postfix ($want_tls)"
done
for r in x@example.org y@a.slow.example; do
    # transport(5): a transport with an empty nexthop resets the nexthop to the recipient domain
    d=${r#*@}; want=$(pq "$d" hash:pf/transport) || want=$(pq ".${d#*.}" hash:pf/transport)
    out=$("$C" -c main.conf route a@domain1.com "$r")
    is "$(sed -n 's/^transport=//p' <<<"$out"):$(sed -n 's/^relay=//p' <<<"$out")" \
        "${want%%:*}:$(n=${want#*:}; echo "${n:-$d (MX lookup)}")" "recipient $r: transport as Postfix ($want)"
done
is "$("$BUILDDIR/test/cli/dump_creds" main.conf | awk '{print $3}' | sort | tr '\n' ' ')" \
    "secret1 secret1 secret2 secret3 secret5 secret6 secret7 " \
    "passwords decrypt to the ones Postfix would send (alice@domain1.com: mailgun's at sendgrid; secret4 never asked)"

# Refused loudly, nothing written.
cp managed.conf before
ok "a second import into a non-empty managed file is refused" \
    bash -c "! '$C' -c main.conf import postfix pf 2>/dev/null && cmp -s before managed.conf"
rm managed.conf
refused() { # NAME PARAM=VALUE... : refused with a message matching GREP, nothing written
    local name=$1 grep=$2; shift 2
    cp -p pf/main.cf pf/main.cf.orig
    postconf -c pf "$@" 2>/dev/null
    lab_backdate pf/main.cf
    ok "$name" bash -c "! '$C' -c main.conf import postfix pf >/dev/null 2>err && grep -q '$grep' err &&
        ! grep -q relays managed.conf" || sed 's/^/# /' err
    mv pf/main.cf.orig pf/main.cf
}
echo '/^x@/ [a.example]' > pf/re
refused "regexp: table refused" "only texthash:, hash: and lmdb:" "sender_dependent_relayhost_maps=regexp:$T/pf/re"
refused "unbracketed relayhost (MX lookup) refused" "MX records" "relayhost=smtp.example.com:587"
refused "password under tls may refused" "encrypt or stronger" "smtp_tls_security_level=may"
refused "dane refused" "no dane" "smtp_tls_security_level=dane"
echo 'example.net smtp:[smtp.sendgrid.net]:2525' > pf/transport2
refused "transport to a nexthop with its own SASL entry refused" "sender rule instead" "transport_maps=texthash:$T/pf/transport2"
refused "delimiter mismatch refused" "recipient_delimiter" "recipient_delimiter=-"
touch -d '+10 seconds' pf/relay
refused "source newer than its .db refused" "run postmap" "relayhost=[relay.isp.example]:587"
touch -d '-10 seconds' pf/relay; postmap -c pf hash:pf/relay 2>/dev/null
postconf -c pf smtp_tls_security_level=may 2>/dev/null
lab_backdate pf/main.cf
ok "--encrypt-auth imports tls may as encrypt for relays with a password" bash -c \
    "'$C' -c main.conf import postfix --encrypt-auth pf >/dev/null &&
     '$C' -c main.conf route dave@domain5.com | grep -qx 'tls=encrypt' && '$C' -c main.conf route z@domain4.com | grep -qx 'tls=may'"
tap_done
