#!/bin/bash
# t_import_postfix_xport.sh - import postfix with default_transport,
# sender_dependent_default_transport_maps and smtp_fallback_relay: per-sender transports
# become relays with the transport's implicit TLS, fallback relays become failover
# relays that log in as the route does, and what smarthostd cannot express is refused
# naming the entry and the reason, with nothing written.
. "$SRCDIR/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"
C=$SMARTHOSTCTL
export SMARTHOSTCTL_ENV_FILE=
command -v postmap >/dev/null && command -v postconf >/dev/null ||
    tap_skip_all "postfix (postmap, postconf) not installed"
T=$(mktemp -d /tmp/t_import_pfx.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || bail "no temp dir"
mkdir pf
cat > pf/master.cf <<'X'
smtp      unix  -       -       n       -       -       smtp
smtps     unix  -       -       n       -       -       smtp
    -o smtp_tls_wrappermode=yes
    -o smtp_tls_security_level=encrypt
    -o smtp_fallback_relay=[backup-tls.isp.test]:465
bound     unix  -       -       n       -       -       smtp
    -o smtp_bind_address=127.0.0.2
nofb      unix  -       -       n       -       -       smtp
    -o smtp_fallback_relay=
deliver   unix  -       n       n       -       -       lmtp
X
cat > pf/relay <<'X'
@d1.test                [smtp.d1.test]:587
@wrap.test              [smtp.wrap.test]:465
X
cat > pf/xp <<'X'
@ses.test               smtps:[email-smtp.test]:465
@wrap.test              smtps:
carol@d1.test           DUNNO
@d1.test                smtp:
X
cat > pf/sasl <<'X'
@ses.test               ses-user:pw1
@d1.test                d1-user:pw2
[relay.isp.test]:587    isp-user:pw3
[backup.isp.test]:587   isp-user:pw3
X
: > pf/transport
cat > pf/main.cf <<X
relayhost = [relay.isp.test]:587
recipient_delimiter = +
smtp_sasl_auth_enable = yes
smtp_sender_dependent_authentication = yes
sender_dependent_relayhost_maps = texthash:$T/pf/relay
sender_dependent_default_transport_maps = texthash:$T/pf/xp
smtp_sasl_password_maps = texthash:$T/pf/sasl
smtp_fallback_relay = [backup.isp.test]:587
smtp_tls_security_level = encrypt
X
lab_backdate pf/main.cf pf/master.cf
printf 'recipient_delimiter = "+";\nvault_key = "%s/vault.key";\n@include "managed.conf"\n' "$T" > main.conf
"$C" -c main.conf key init >/dev/null || bail "key init"

ok "import postfix with per-sender transports and a fallback relay" \
    "$C" -c main.conf import postfix pf
ok "imported config checks" "$C" -c main.conf check
route() { "$C" -c main.conf route "$1" | grep -E '^(relay|transport|tls|sasl_user)=' | tr '\n' ' '; }
# What Postfix does, per sender (postconf(5) default_transport: the nexthop of
# sender_dependent_default_transport_maps beats the relay maps; smtp(8) tries the
# transport's smtp_fallback_relay after the nexthop, logging in with the sender's
# credentials or else the fallback's own).
is "$(route a@ses.test)" \
    "relay=[email-smtp.test]:465, [backup-tls.isp.test]:465 transport=smarthost-smtps tls=encrypt sasl_user=ses-user " \
    "@ses.test: smtps:[nexthop] -> implicit-TLS relay at that nexthop, the smtps fallback, the sender's login"
is "$(route a@wrap.test)" \
    "relay=[smtp.wrap.test]:465, [backup-tls.isp.test]:465 transport=smarthost-smtps tls=encrypt sasl_user=none " \
    "@wrap.test: smtps: without nexthop -> the relay map's nexthop, implicit TLS, the transport's tls level"
is "$(route carol@d1.test)" \
    "relay=[smtp.d1.test]:587, [backup.isp.test]:587 transport=smarthost tls=encrypt sasl_user=d1-user " \
    "carol@d1.test: DUNNO -> default_transport, the relay map's nexthop, main.cf's fallback"
is "$(route carol+x@d1.test)" "$(route carol@d1.test)" "carol+x@d1.test routes as carol@d1.test"
is "$(route other@unmatched.test)" \
    "relay=[relay.isp.test]:587, [backup.isp.test]:587 transport=smarthost tls=encrypt sasl_user=isp-user " \
    "unmatched sender: relayhost, failover with the same host login"
is "$("$BUILDDIR/test/cli/dump_creds" main.conf | awk '{print $3}' | sort | tr '\n' ' ')" \
    "pw1 pw2 pw3 " "failover relays share their route's credentials (no copies)"

# Refused loudly, nothing written.
rm -f managed.conf
refused() { # NAME GREP FILE CONTENT: refused with a message matching GREP, nothing written
    local name=$1 grep=$2 file=$3 content=$4
    cp "pf/$file" "pf/$file.orig"
    printf '%s\n' "$content" > "pf/$file"
    lab_backdate pf/main.cf pf/master.cf
    ok "$name" bash -c "! '$C' -c main.conf import postfix pf >/dev/null 2>err && grep -q -- '$grep' err &&
        [ ! -s managed.conf ] || ! grep -q relays managed.conf" || sed 's/^/# /' err
    mv "pf/$file.orig" "pf/$file"
}
refused "a transport with an -o setting no relay has: refused naming the entry" \
    "xp:1 (@bound.test).*smtp_bind_address" xp '@bound.test bound:[smtp.b.test]:587'
refused "an lmtp transport: refused" "not smtp(8)" xp '@l.test deliver:[127.0.0.1]:24'
refused "a transport master.cf lacks: refused" "no such transport" xp '@n.test nosuch:[x.test]:25'
refused "a transport nexthop without brackets (MX lookup): refused" "MX records" xp '@m.test smtp:mx.test'
refused "one nexthop both with and without wrappermode: refused" "one transport per nexthop" \
    xp '@w.test smtps:[relay.isp.test]:587'
refused "a fallback relay that would log in otherwise: refused" "log in" \
    sasl "$(printf '[relay.isp.test]:587 isp-user:pw3\n[backup.isp.test]:587 other:pw4')"
refused "direct senders with a fallback relay: refused" "direct route has no failover" \
    relay '@d1.test [smtp.d1.test]:587'"$(printf '\n@direct.test DUNNO')"
cp pf/main.cf pf/main.cf.orig
sed -i 's/^relayhost = .*/relayhost =/' pf/main.cf
refused "no relayhost, main.cf's fallback relay after the MX hosts: refused" \
    "direct route has no failover" xp '@ses.test smtps:[email-smtp.test]:465'
printf 'transport_maps = texthash:%s/pf/transport\n' "$T" >> pf/main.cf.orig
mv pf/main.cf.orig pf/main.cf
refused "a lane smtp(8) would follow with the fallback relay: refused" "lanes have no failover" \
    transport 'example.org smtp:[lanes.test]:25'
printf 'example.org nofb:[lanes.test]:25\n' > pf/transport
lab_backdate pf/main.cf
ok "a lane whose transport turns the fallback relay off imports" \
    bash -c "'$C' -c main.conf import postfix pf >/dev/null && '$C' -c main.conf route a@d1.test x@example.org | grep -qx 'transport=nofb'"
tap_done
