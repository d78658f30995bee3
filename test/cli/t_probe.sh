#!/bin/bash
# t_probe.sh - smarthostctl probe against a loopback fake smarthost (aiosmtpd):
# success, wrong password, no STARTTLS offered, certificate name mismatch, implicit TLS.
. "$SRCDIR/test/lib/tap.sh"
C=$SMARTHOSTCTL
FAKE=$SRCDIR/test/lib/fake_smarthost.py
[ -f "$FAKE" ] || tap_skip_all "no test/lib/fake_smarthost.py"
"$PYTHON" -c 'import aiosmtpd' 2>/dev/null || tap_skip_all "python3-aiosmtpd missing"
T=$(mktemp -d /tmp/t_probe.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || bail "no temp dir"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_free_port: below the ephemeral range, checked free

# Certificates made here: one for 127.0.0.1, one for another name.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout good.key -out good.crt 2>/dev/null || bail "openssl"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other.example \
    -addext subjectAltName=DNS:other.example -keyout bad.key -out bad.crt 2>/dev/null || bail "openssl"
printf 'relay-user:right-password\n' > users
# The Postfix whose smtp_tls_* settings probe judges by (postconf -c DIR).
mkdir -p pf && : > pf/master.cf && printf 'compatibility_level = 3.6\n' > pf/main.cf

start() { # NAME PORT ARGS...
    local name=$1 port=$2; shift 2
    "$PYTHON" "$FAKE" --name "$name" --port "$port" --log "$T/log" --ready "$T/$name.ready" "$@" 2>"$T/$name.err" &
    PIDS+=($!)
    for _ in $(seq 300); do [ -f "$T/$name.ready" ] && return 0; sleep 0.1; done
    sed 's/^/# /' "$T/$name.err"
    bail "fake smarthost $name did not start within 30 s"
}
P1=$(lab_free_port) P2=$(lab_free_port) P3=$(lab_free_port) P4=$(lab_free_port) P5=$(lab_free_port)
start tls "$P1" --starttls good.crt good.key --users users --require-auth
start plain "$P2" --users users
start wrongcert "$P3" --starttls bad.crt bad.key --users users
start smtps "$P4" --smtps good.crt good.key --users users --require-auth
start wrongcert2 "$P5" --starttls bad.crt bad.key --users users

cat > main.conf <<CONF
vault_key = "$T/vault.key";
relays = {
  good     = { host = "127.0.0.1"; port = $P1; tls = "verify"; credentials = "right"; };
  badpw    = { host = "127.0.0.1"; port = $P1; tls = "verify"; credentials = "wrong"; };
  nostarttls = { host = "127.0.0.1"; port = $P2; tls = "encrypt"; credentials = "right"; };
  mismatch = { host = "127.0.0.1"; port = $P3; tls = "verify"; credentials = "right"; };
  encrypt  = { host = "127.0.0.1"; port = $P5; tls = "encrypt"; credentials = "right"; };
  smtps    = { host = "127.0.0.1"; port = $P4; implicit_tls = true; tls = "verify"; credentials = "right"; };
};
@include "managed.conf"
CONF
"$C" -c main.conf key init >/dev/null || bail "key init"
enc() { "$BUILDDIR/test/cli/vault_encrypt" "$T/vault.key" "$1" "$2"; }
# credentials go through the vault too; the wrong one is the same user with another password
sed -i "1a credentials = { right = { user = \"relay-user\"; password = \"$(enc right right-password)\"; };\n  wrong = { user = \"relay-user\"; password = \"$(enc wrong not-the-password)\"; }; };" main.conf
"$C" -c main.conf check >/dev/null 2>&1 || { "$C" -c main.conf check; bail "config"; }

out=$("$C" -c main.conf probe --postfix-dir "$T/pf" --ca-file good.crt good); rc=$?
is "$rc" 0 "probe: STARTTLS, verified certificate, AUTH ok"
ok "probe prints each step" bash -c "grep -q '^starttls  ok' <<<'$out' && grep -q '^tls       ok' <<<'$out' && grep -q '^auth      ok' <<<'$out' && grep -q '^quit      ok' <<<'$out'"
ok "probe never prints the password" bash -c "! grep -q right-password <<<'$out'"
out=$("$C" -c main.conf probe --postfix-dir "$T/pf" --ca-file good.crt badpw); rc=$?
is "$rc" 1 "wrong password: exit 1"
ok "wrong password: the server's 535 shown" bash -c "grep -q '<- 535' <<<'$out' && grep -q '^auth      FAILED' <<<'$out'"
out=$("$C" -c main.conf probe --postfix-dir "$T/pf" nostarttls); rc=$?
is "$rc" 1 "no STARTTLS offered: exit 1"
ok "no STARTTLS offered: said so" grep -q 'does not offer STARTTLS' <<<"$out"
out=$("$C" -c main.conf probe --postfix-dir "$T/pf" --ca-file bad.crt mismatch); rc=$?
is "$rc" 1 "certificate name mismatch: exit 1"
ok "certificate name mismatch: said so" bash -c "grep -qi 'tls       FAILED: .*mismatch' <<<'$out'"
out=$("$C" -c main.conf probe --postfix-dir "$T/pf" encrypt); rc=$?
is "$rc" 0 "tls = encrypt does not check the name"
out=$("$C" -c main.conf probe --postfix-dir "$T/pf" --ca-file good.crt smtps); rc=$?
is "$rc" 0 "implicit TLS (465-style) verified and authenticated"
out=$("$C" -c main.conf probe --postfix-dir "$T/pf" nosuch 2>&1 >/dev/null); rc=$?
is "$rc" 2 "unknown relay: usage error"
ok "unknown relay: named, with the known relays listed" bash -c \
    "grep -q 'no relay named \"nosuch\"' <<<'$out' && grep -q 'known relays: good badpw' <<<'$out'"

# relay add-* --probe: the probe runs on the relay as it would be saved; a failure writes nothing.
P6=$(lab_free_port) P7=$(lab_free_port)
start tls2 "$P6" --starttls good.crt good.key --users users --require-auth
start plain2 "$P7" --users users
ok "add-domain --probe: saved after a passing probe" bash -c \
    "'$C' -c main.conf relay add-domain ok.example 127.0.0.1 $P6 --probe --postfix-dir '$T/pf' >probe.out && grep -q '^quit      ok' probe.out && grep -q "\"@ok.example\"" managed.conf"
cp managed.conf before
ok "add-auth --probe with a wrong password: exit 1, the 535 shown" bash -c \
    "! echo not-the-password | '$C' -c main.conf relay add-auth ok.example relay-user --password-stdin --probe --postfix-dir '$T/pf' >probe.out 2>probe.err && grep -q '<- 535' probe.out && grep -q 'not saved' probe.err"
ok "add-auth --probe with a wrong password: nothing written" cmp -s before managed.conf
"$C" -c main.conf relay add-domain plain.example 127.0.0.1 "$P7" >/dev/null || bail "add-domain"
cp managed.conf before
ok "add-auth --probe at a relay offering no STARTTLS: nothing written" bash -c \
    "! echo right-password | '$C' -c main.conf relay add-auth plain.example relay-user --password-stdin --probe --postfix-dir '$T/pf' >probe.out 2>&1 && grep -q 'does not offer STARTTLS' probe.out && cmp -s before managed.conf"
ok "add-auth --probe with the right password: saved" bash -c \
    "echo right-password | '$C' -c main.conf relay add-auth ok.example relay-user --password-stdin --probe --postfix-dir '$T/pf' >probe.out 2>&1 && grep -q '^auth      ok' probe.out && ! cmp -s before managed.conf"
ok "--probe never prints the password" bash -c "! grep -q right-password probe.out"
cp managed.conf before
ok "default --probe to a closed port: nothing written" bash -c \
    "! '$C' -c main.conf relay default 127.0.0.1 $(lab_free_port) --probe --postfix-dir '$T/pf' >/dev/null 2>&1 && cmp -s before managed.conf"
tap_done
