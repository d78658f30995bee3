#!/bin/bash
# t_scenarios.sh - docker-mailserver's relay scenarios (its relay docs, its BATS tests
# mail_with_relays.bats and default_relay_host.bats, and the layouts its relay helper
# accepts) as a table: each is set up once with `import dms` and once with the
# equivalent `relay` commands, smarthostd is started on the result, and Postfix's own
# client (postmap -q) must get, for every sender, the expected relay, SASL user, TLS
# level and transport.
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

C=$SMARTHOSTCTL
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (the sasl map answers root and postfix only)"
command -v postmap >/dev/null || tap_skip_all "postfix (postmap) not installed"
unset RELAY_HOST RELAY_PORT RELAY_USER RELAY_PASSWORD DEFAULT_RELAY_HOST
export SMARTHOSTD_PIDFILE=/nonexistent/none.pid SMARTHOSTD_MILTER_PIDFILE=/nonexistent/none.pid
lab_init

# fresh NAME: an empty config directory with a vault key; cd into it.
fresh() {
    W=$LAB/$1 && rm -rf "$W" && mkdir -p "$W/dms" && cd "$W" || bail "fresh $1"
    printf 'vault_key = "%s/vault.key";\n@include "managed.conf"\n' "$W" >main.conf
    "$C" -c main.conf key init >/dev/null 2>&1 || bail "key init"
}
# cli ARGS...: a relay command; passwords are always "pw-<user>" on stdin.
cli() {
    local user=""
    case "$1" in add-auth) user=$3 ;; default-auth) user=$2 ;; esac
    if [ -n "$user" ]; then
        echo "pw-$user" | "$C" -c main.conf relay "$@" --password-stdin >>cli.log 2>&1
    else
        "$C" -c main.conf relay "$@" >>cli.log 2>&1
    fi || { cat cli.log >&2; return 1; }
}
q() { postmap -c "$(lab_postmap_dir)" -q "$2" "socketmap:inet:127.0.0.1:$P:$1" 2>/dev/null; }
# answer SENDER: ANSWER="relay user tls transport" as smarthostd answers Postfix, and
# PASSWORD the password it answers (or none).
answer() {
    local relay user tls tr sasl
    relay=$(q relay "$1") || relay=direct
    if sasl=$(q sasl "$1"); then user=${sasl%%:*} PASSWORD=${sasl#*:}; else user=none PASSWORD=none; fi
    if [ "$relay" = direct ]; then tls=-; else tls=$(q tls "$relay") || tls=none; fi
    tr=$(q sender_transport "$1") || tr=default
    ANSWER="$relay $user $tls $tr"
}
# check SCENARIO HOW: start smarthostd on ./main.conf and compare every "sender expected"
# line of $EXPECT; also no password but the expected one is ever answered.
check() {
    P=$(lab_free_port)
    lab_smarthostd "$W/main.conf" "$P" || { ok "$1 ($2): smarthostd starts" false; return; }
    while read -r sender want; do
        [ -n "$sender" ] || continue
        answer "$sender"
        is "$ANSWER" "$want" "$1 ($2): $sender -> $want"
        [ "$PASSWORD" = none ] || is "$PASSWORD" "pw-$(cut -d' ' -f2 <<<"$want")" "$1 ($2): $sender gets its own password"
    done <<<"$EXPECT"
    kill "$SMARTHOSTD_PID"; lab_wait_gone 5 "$SMARTHOSTD_PID"
}
# scenario NAME: import DIR with ENV (array), then the CLI commands of CLI (lines).
scenario() {
    local name=$1 out rc
    fresh "$name-import"
    [ -n "${RELAYMAP:-}" ] && printf '%s\n' "$RELAYMAP" >dms/postfix-relaymap.cf
    [ -n "${SASL:-}" ] && printf '%s\n' "$SASL" >dms/postfix-sasl-password.cf
    [ -n "${ACCOUNTS:-}" ] && printf '%s\n' "$ACCOUNTS" >dms/postfix-accounts.cf
    [ -n "${VIRTUAL:-}" ] && printf '%s\n' "$VIRTUAL" >dms/postfix-virtual.cf
    out=$(env "${ENV[@]}" "$C" -c main.conf import dms dms 2>&1); rc=$?
    is "$rc" 0 "$name (import dms): exit 0"
    [ "$rc" = 0 ] || diag "$out"
    [ -z "${WARN:-}" ] || ok "$name (import dms): warns: $WARN" grep -qF -- "$WARN" <<<"$out"
    check "$name" "import dms"
    if [ -n "${CLI:-}" ]; then
        fresh "$name-cli"
        local line ok=0
        while read -r line; do
            [ -n "$line" ] || continue
            eval "cli $line" || { ok=1; diag "relay $line failed"; }
        done <<<"$CLI"
        is "$ok" 0 "$name (relay commands): all succeed"
        check "$name" "relay commands"
    fi
    unset RELAYMAP SASL ACCOUNTS VIRTUAL CLI WARN
}

# --- docker-mailserver's relay docs: per-domain relays and logins, opt-out, a host key
RELAYMAP='@domain1.com        [smtp.mailgun.org]:587
@domain2.com        [smtp.sendgrid.net]:2525
@domain3.com'
SASL='@domain1.com        mailgun-user:pw-mailgun-user
@domain2.com        sendgrid-user:pw-sendgrid-user
[email-smtp.us-west-2.amazonaws.com]:2587 aws-user:pw-aws-user'
ENV=(DEFAULT_RELAY_HOST='[email-smtp.us-west-2.amazonaws.com]:2587')
CLI='default email-smtp.us-west-2.amazonaws.com 2587
default-auth aws-user
add-domain domain1.com smtp.mailgun.org 587
add-auth domain1.com mailgun-user
add-domain domain2.com smtp.sendgrid.net 2525
add-auth domain2.com sendgrid-user
exclude-domain domain3.com'
EXPECT='a@domain1.com [smtp.mailgun.org]:587 mailgun-user encrypt smarthost
b+tag@domain1.com [smtp.mailgun.org]:587 mailgun-user encrypt smarthost
c@domain2.com [smtp.sendgrid.net]:2525 sendgrid-user encrypt smarthost
d@domain3.com direct none - default
e@other.org [email-smtp.us-west-2.amazonaws.com]:2587 aws-user encrypt smarthost'
scenario docs

# --- mail_with_relays.bats: RELAY_HOST/PORT/USER/PASSWORD, a relay map line, an opt-out
RELAYMAP=$'@domaintwo.tld\t\t[other.relay.com]:587\n@domainthree.tld'
SASL=$'@domaintwo.tld\t\tsmtp_user_2:pw-smtp_user_2'
ACCOUNTS='user1@domainone.tld|{SHA512-CRYPT}$6$x$y
user2@domaintwo.tld|{SHA512-CRYPT}$6$x$y
user3@domainthree.tld|{SHA512-CRYPT}$6$x$y'
VIRTUAL='@domain1.tld user1@domainone.tld'
ENV=(RELAY_HOST=default.relay.com RELAY_PORT=2525 RELAY_USER=smtp_user RELAY_PASSWORD=pw-smtp_user)
CLI='default default.relay.com 2525
default-auth smtp_user
add-domain domaintwo.tld other.relay.com 587
add-auth domaintwo.tld smtp_user_2
exclude-domain domainthree.tld'
EXPECT='user1@domainone.tld [default.relay.com]:2525 smtp_user encrypt smarthost
x@domain1.tld [default.relay.com]:2525 smtp_user encrypt smarthost
user2@domaintwo.tld [other.relay.com]:587 smtp_user_2 encrypt smarthost
user3@domainthree.tld direct none - default'
scenario mail_with_relays

# --- default_relay_host.bats: DEFAULT_RELAY_HOST without brackets
ENV=(DEFAULT_RELAY_HOST=default.relay.host.invalid:25)
WARN='has no [brackets]'
CLI='default default.relay.host.invalid 25'
EXPECT='a@example.test [default.relay.host.invalid]:25 none may smarthost'
scenario default_relay_host

# --- the docs' advice: RELAY_HOST only, per-domain logins in postfix-sasl-password.cf
# (one relay host, a login per domain: the Mailgun/SendGrid case)
SASL='@a.test a-user:pw-a-user
@b.test b-user:pw-b-user'
ENV=(RELAY_HOST=smtp.mg.test RELAY_PORT=587)
CLI='default smtp.mg.test 587
add-auth a.test a-user
add-auth b.test b-user'
EXPECT='x@a.test [smtp.mg.test]:587 a-user encrypt smarthost
x@b.test [smtp.mg.test]:587 b-user encrypt smarthost
x@c.test [smtp.mg.test]:587 none encrypt smarthost'
scenario env_default_domain_logins

# --- two domains on one relay host through the relay map, each with its own login
RELAYMAP='@a.test [smtp.mg.test]:587
@b.test [smtp.mg.test]:587
@c.test [smtp.mg.test]:587'
SASL='@a.test a-user:pw-a-user
@b.test b-user:pw-b-user'
ENV=()
CLI='add-domain a.test smtp.mg.test 587
add-domain b.test smtp.mg.test 587
add-domain c.test smtp.mg.test 587
add-auth a.test a-user
add-auth b.test b-user'
EXPECT='x@a.test [smtp.mg.test]:587 a-user encrypt smarthost
x@b.test [smtp.mg.test]:587 b-user encrypt smarthost
x@c.test [smtp.mg.test]:587 none encrypt smarthost
x@d.test direct none - default'
scenario shared_host

# --- address keys in both files
RELAYMAP='boss@domain1.test [vip.relay.test]:587
@domain1.test [smtp.relay.test]:587'
SASL='boss@domain1.test boss-user:pw-boss-user
@domain1.test d1-user:pw-d1-user
user2@domain1.test u2-user:pw-u2-user'
ENV=()
CLI='add-domain domain1.test smtp.relay.test 587
add-auth domain1.test d1-user
add-domain boss@domain1.test vip.relay.test 587
add-auth boss@domain1.test boss-user
add-auth user2@domain1.test u2-user'
EXPECT='boss@domain1.test [vip.relay.test]:587 boss-user encrypt smarthost
boss+news@domain1.test [vip.relay.test]:587 boss-user encrypt smarthost
a@domain1.test [smtp.relay.test]:587 d1-user encrypt smarthost
user2@domain1.test [smtp.relay.test]:587 u2-user encrypt smarthost'
scenario address_keys

# --- an opt-out with credentials for the same domain; a host key without brackets
RELAYMAP='@out.test
@h.test [smtp.h.test]:587'
SASL='@out.test out-user:pw-out-user
smtp.h.test h-user:pw-h-user'
ENV=(RELAY_HOST=relay.test)
EXPECT='a@out.test direct none - default
a@h.test [smtp.h.test]:587 h-user encrypt smarthost
a@else.test [relay.test]:25 none may smarthost'
scenario optout_and_host_key

# --- port 465: implicit TLS (RFC 8314), by import and by add-domain alone
RELAYMAP='@s.test [smtp.ses.test]:465'
SASL='@s.test ses-user:pw-ses-user'
ENV=()
CLI='add-domain s.test smtp.ses.test 465
add-auth s.test ses-user'
EXPECT='a@s.test [smtp.ses.test]:465 ses-user encrypt smarthost-smtps'
scenario implicit_tls

# --- RELAY_HOST with DEFAULT_RELAY_HOST: docker-mailserver's own domains go to RELAY_HOST
ACCOUNTS='user@own.test|{SHA512-CRYPT}$6$x$y'
VIRTUAL='@alias.test user@own.test'
RELAYMAP='@optout.test'
ENV=(RELAY_HOST=rh.test RELAY_PORT=587 DEFAULT_RELAY_HOST='[dh.test]:2525' RELAY_USER=u RELAY_PASSWORD=pw-u)
WARN='RELAY_HOST and DEFAULT_RELAY_HOST are both set'
CLI='default dh.test 2525
default-auth u
add-domain own.test rh.test 587
add-domain alias.test rh.test 587
exclude-domain optout.test'
EXPECT='a@own.test [rh.test]:587 none may smarthost
b@alias.test [rh.test]:587 none may smarthost
c@other.test [dh.test]:2525 u encrypt smarthost
d@optout.test direct none - default'
scenario relay_host_and_default

# --- the issue's reproductions through the CLI alone
fresh repro
cli default smtp.z.test 587 && cli add-auth d.test u2
ok "default, then add-auth DOMAIN: saved (no tls clash)" grep -q '"@d.test"' managed.conf
ok "... said that the default relay's tls went to encrypt" grep -q 'tls may -> encrypt' cli.log
cli default smtp.new.test 587
ok "relay default NEW carries the domain's login along" bash -c \
    "'$C' -c main.conf route a@d.test | grep -qx 'relay=\[smtp.new.test\]:587' &&
     '$C' -c main.conf route a@d.test | grep -qx 'sasl_user=u2'"
cli add-domain s.test smtp.ses.test 465 --starttls
ok "add-domain ... 465 --starttls: STARTTLS on 465 when the admin says so" bash -c \
    "'$C' -c main.conf route a@s.test | grep -qx 'transport=smarthost'"
cli add-domain s.test smtp.ses.test 465 --implicit-tls
ok "... and --implicit-tls turns it back" bash -c \
    "'$C' -c main.conf route a@s.test | grep -qx 'transport=smarthost-smtps'"

# --- import again: the imported part equals the files, hand-made entries stay
fresh reimport
printf '@a.test [a.relay.test]:587\n@b.test [b.relay.test]:587\n' >dms/postfix-relaymap.cf
printf '@a.test a-user:pw-a-user\n' >dms/postfix-sasl-password.cf
"$C" -c main.conf import dms dms >/dev/null 2>&1 || bail "import"
cli add-domain hand.test hand.relay.test 587
printf '@a.test [a.relay.test]:587\n' >dms/postfix-relaymap.cf
: >dms/postfix-sasl-password.cf
ok "import again after removing lines" bash -c "'$C' -c main.conf import dms dms >/dev/null 2>&1"
ok "the removed route is gone" bash -c "'$C' -c main.conf route x@b.test | grep -qx relay=direct"
ok "the removed login is gone" bash -c "'$C' -c main.conf route x@a.test | grep -qx sasl_user=none"
ok "the hand-made route stays" bash -c \
    "'$C' -c main.conf route x@hand.test | grep -qx 'relay=\[hand.relay.test\]:587'"
ok "no relay or login of the removed lines is left in managed.conf" bash -c \
    "! grep -q 'b.relay.test\|a-user' managed.conf"
printf '@hand.test [other.test]:25\n' >>dms/postfix-relaymap.cf
cp managed.conf before
out=$("$C" -c main.conf import dms dms 2>&1); rc=$?
ok "a line for a hand-made rule: refused, named, nothing written" bash -c \
    "[ $rc = 1 ] && grep -q 'postfix-relaymap.cf:2' <<<'$out' && cmp -s before managed.conf"
printf '@a.test [a.relay.test]:587\n@a.test [x.relay.test]:587\n' >dms/postfix-relaymap.cf
out=$("$C" -c main.conf import dms dms 2>&1); rc=$?
ok "a duplicate key is never dropped with exit 0" bash -c "[ $rc = 1 ] && grep -q 'postfix-relaymap.cf:2' <<<'$out'"
printf '@a.test [a.relay.test]:587\n' >dms/postfix-relaymap.cf
printf 'boss@a.test nocolon\n' >dms/postfix-sasl-password.cf
out=$("$C" -c main.conf import dms dms 2>&1); rc=$?
ok "a malformed sasl line is never dropped with exit 0" bash -c "[ $rc = 1 ] && grep -q 'postfix-sasl-password.cf:1' <<<'$out'"

# --- route/check see the default relay the daemon has from its environment file
fresh envfile
printf '# the units read this\nRELAY_HOST=env.relay.test\nRELAY_PORT=2525\n' >env
out=$("$C" -c main.conf --env-file "$W/env" route a@x.test)
ok "route with the daemon's environment file: the env relay, and where it came from" bash -c \
    "grep -qx 'relay=\[env.relay.test\]:2525' <<<'$out' && grep -qx 'rule_origin=RELAY_HOST ($W/env:2)' <<<'$out'"
out=$("$C" -c main.conf --env-file "$W/env" check 2>&1)
ok "check names the environment file's default relay" grep -q "default relay \[env.relay.test\]:2525 from RELAY_HOST ($W/env:2)" <<<"$out"
ok "without it: direct (as a daemon without that environment)" bash -c \
    "'$C' -c main.conf route a@x.test | grep -qx relay=direct"
ok "both units read that file" bash -c \
    "grep -qx 'EnvironmentFile=-/etc/default/smarthostd' '$SRCDIR/debian/smarthostd.service' &&
     grep -qx 'EnvironmentFile=-/etc/default/smarthostd' '$SRCDIR/debian/smarthostd.smarthostd-milter.service'"
tap_done
