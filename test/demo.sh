#!/bin/bash
# demo.sh - smarthostd routing real Postfix mail to three fake smarthosts, on loopback.
#
# Starts: "mailgun" (STARTTLS + AUTH), "ses" (implicit TLS like port 465 + AUTH), "isp"
# (plain, IP-allowlisted, no AUTH), "mx" (the recipient's own server, 127.0.0.2), smarthostd
# with test/demo/smarthostd.conf.in, and a throwaway Postfix using smarthostd's socketmaps.
# Sends mail from several senders, prints where each message went and why, then stops and
# removes everything it started. Needs root (Postfix). Nothing touches /etc/postfix.
#
# Recipients are rcpt@[127.0.0.2]: an address literal standing for the customer's MX, so
# direct delivery needs no DNS (smtp_tcp_port points Postfix at the "mx" fake's port).
set -euo pipefail

SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR/build}
SMARTHOSTD=${SMARTHOSTD:-$BUILDDIR/policy/smarthostd/smarthostd}
SMARTHOSTCTL=${SMARTHOSTCTL:-$BUILDDIR/policy/smarthostctl/smarthostctl}
export SRCDIR SMARTHOSTD
. "$SRCDIR/test/lib/postfix-lab.sh"

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (it starts a private Postfix): sudo $0"
for b in "$SMARTHOSTD" "$SMARTHOSTCTL"; do
    [ -x "$b" ] || die "$b not built: meson setup build && ninja -C build"
done
command -v postfix >/dev/null || die "postfix missing: sudo bash test/install-deps.sh"

# pick PREFERRED: that port when free, else any free one (the demo never fails on a busy port)
pick() { lab_free_port "$1"; }

lab_init
lab_cert
P_ISP=$(pick 2526); P_MG=$(pick 2587); P_SES=$(pick 2465); P_MX=$(pick 2025)
P_MAP=$(pick 2599); P_SMTPD=$(pick 2525)
RCPT='rcpt@[127.0.0.2]'
CONF=$LAB/etc/smarthostd/smarthostd.conf

echo "== fake smarthosts on loopback"
umask 077
printf 'mg-demo-secret' >"$LAB/mailgun.pass"
printf 'ses-demo-secret' >"$LAB/ses.pass"
umask 022
lab_fake isp "$P_ISP"
lab_fake mailgun "$P_MG" --starttls "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
    --users "$(lab_users mailgun 'postmaster@mg.example.com:mg-demo-secret')"
lab_fake ses "$P_SES" --smtps "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
    --users "$(lab_users ses 'ses-user:ses-demo-secret')"
lab_fake mx "$P_MX" --host 127.0.0.2
printf '   isp      127.0.0.1:%s  plain, no AUTH (IP-allowlisted)\n' "$P_ISP"
printf '   mailgun  127.0.0.1:%s  STARTTLS + AUTH\n' "$P_MG"
printf '   ses      127.0.0.1:%s  implicit TLS (like 465) + AUTH\n' "$P_SES"
printf '   mx       127.0.0.2:%s  the recipient'"'"'s own server (direct delivery)\n' "$P_MX"

echo "== smarthostd on inet:127.0.0.1:$P_MAP"
mkdir -p "$(dirname "$CONF")"
sed -e "s|@DIR@|$LAB|g" -e "s|@ISP_PORT@|$P_ISP|g" -e "s|@MAILGUN_PORT@|$P_MG|g" \
    -e "s|@SES_PORT@|$P_SES|g" "$SRCDIR/test/demo/smarthostd.conf.in" >"$CONF"
"$SMARTHOSTD" -n -c "$CONF" | sed 's/^/   /'
lab_smarthostd "$CONF" "$P_MAP"

echo "== Postfix (private instance, smtpd on 127.0.0.1:$P_SMTPD)"
lab_postfix_init "$P_SMTPD"
lab_postfix_hookup "$P_MAP"
lab_postconf -e "smtp_tcp_port = $P_MX"
lab_postfix_start
postconf -c "$LAB/etc" -n | grep -E 'socketmap|relayhost|smtp_sasl_auth_enable' | sed 's/^/   /'

SENDERS=(someone@shop.test alice@example.com news@eu.example.com billing@example.com
         ops@internal.example '<>')
echo "== sending ${#SENDERS[@]} messages to $RCPT"
i=0
for s in "${SENDERS[@]}"; do
    i=$((i + 1))
    lab_send "$s" "$RCPT" "demo-$i" || echo "   swaks failed for $s (see below)"
done

delivered() { lab_fake_has "$1" || lab_has_status "$1"; }
for ((j = 1; j <= i; j++)); do
    lab_wait 60 delivered "demo-$j" || echo "   demo-$j: no result within 60 s"
done

# route_field SENDER KEY: one key=value line of `smarthostctl route`
route_field() { "$SMARTHOSTCTL" -c "$CONF" route "$1" | sed -n "s/^$2=//p"; }

echo "== where each message went (seen by the fake smarthosts / the maillog) and why"
i=0
for s in "${SENDERS[@]}"; do
    i=$((i + 1))
    rule=$(route_field "$s" rule)
    origin=$(route_field "$s" rule_origin)
    origin=${origin#"$LAB/"}
    rec=$(lab_fake_find "demo-$i" | head -n 1)
    if [ -n "$rec" ]; then
        IFS=$'\t' read -r name port _ user _ tls <<<"$rec"
        if [ "$name" = mx ]; then
            where="direct to the recipient's server [127.0.0.2]:$port, no relay"
        else
            where="$name [127.0.0.1]:$port"
        fi
        [ "$user" != - ] && where="$where AUTH $user"
        [ "$tls" = yes ] && where="$where TLS"
    else
        where="not delivered: $(lab_maillog_status "demo-$i" | sed -n 's/.*\(relay=[^,]*\).*\(status=.*\)/\1 \2/p' | head -n 1)"
    fi
    printf '%s -> %s (rule %s, %s)\n' "$s" "$where" "$rule" "$origin"
done

echo "== why ops@internal.example skipped the default relay: smarthostctl route ops@internal.example"
"$SMARTHOSTCTL" -c "$CONF" route ops@internal.example | sed "s|$LAB/||; s/^/   /"
echo "== maillog for it:"
qid=$(lab_maillog_qid "demo-5" || true)
[ -n "$qid" ] && grep -E "$qid: to=" "$LAB/maillog" | sed 's/^/   /'

ok=$(grep -c '"event": "message"' "$LAB/fake.jsonl" || true)
echo "== $ok of ${#SENDERS[@]} messages delivered; cleaning up (Postfix, smarthostd, fakes, $LAB)"
echo "   next: ./test/run-tests   (meson test -C build --print-errorlogs)"
[ "$ok" = "${#SENDERS[@]}" ]
