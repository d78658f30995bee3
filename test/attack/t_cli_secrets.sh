#!/bin/bash
# t_cli_secrets.sh - no CLI output shows any part of a password: every verb that reads a
# config with literal, file: and enc: passwords (and one given to import) is run, its
# stdout and stderr collected, and no 3-character piece of any password may appear in
# them. relay list and route show where a password lives and the first 8 hex digits of
# its SHA-256, which must match `openssl dgst -sha256`.
. "$SRCDIR/test/lib/tap.sh"
C=$SMARTHOSTCTL
T=$(mktemp -d /tmp/t_cli_secrets.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || bail "no temp dir"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_free_port
unset RELAY_HOST RELAY_PORT DEFAULT_RELAY_HOST RELAY_USER RELAY_PASSWORD
export SMARTHOSTD_PIDFILE=$T/none.pid SMARTHOSTD_MILTER_PIDFILE=$T/none-milter.pid

# Passwords of characters no normal output has in that order.
PW_LITERAL='Qz7#Vx!Kp2' PW_FILE='Wj4%Ry&Tm8' PW_ENC='Hn6@Lc^Db3' PW_IMPORT='Gf5*Zs~Xq9'
PW_ARGV='Yb8(Ue)Jw1'
printf '%s\n' "$PW_FILE" > file.pass && chmod 600 file.pass
PORT=$(lab_free_port)
cat > main.conf <<CONF
vault_key = "$T/vault.key";
credentials = {
  lit  = { user = "lit-user"; password = "$PW_LITERAL"; };
  file = { user = "file-user"; password = "file:$T/file.pass"; };
};
relays = {
  lit  = { host = "127.0.0.1"; port = $PORT; tls = "encrypt"; credentials = "lit"; };
  file = { host = "192.0.2.2"; port = 587; tls = "encrypt"; credentials = "file"; };
};
senders = (
  { match = "@lit.example"; relay = "lit"; },
  { match = "@file.example"; relay = "file"; }
);
@include "managed.conf"
CONF
out() { "$@" >>all.out 2>&1; }
out "$C" -c main.conf key init || bail "key init"
out "$C" -c main.conf relay add-domain enc.example 192.0.2.3 587 || bail "add-domain"
printf '%s\n' "$PW_ENC" | out "$C" -c main.conf relay add-auth enc.example enc-user --password-stdin ||
    bail "add-auth"
"$C" -c main.conf check >/dev/null 2>&1 || { "$C" -c main.conf check; bail "config does not load"; }

# Every verb that reads the config, and the error paths that name credentials.
out "$C" -c main.conf check
out "$C" -c main.conf relay list
for s in a@lit.example a@file.example a@enc.example '<>'; do out "$C" -c main.conf route "$s" b@x.example; done
out "$C" -c main.conf postfix-conf
out "$C" -c main.conf relay set-tls enc.example none   # refused by the loader: names no secret
out "$C" -c main.conf relay add-auth enc.example enc-user "$PW_ARGV" # argv: warned, stored
out "$C" -c main.conf route a@enc.example
out "$C" -c main.conf key rotate
out "$C" -c main.conf relay list
mkdir dms && printf '[192.0.2.9]:587 imp-user:%s\n' "$PW_IMPORT" > dms/postfix-sasl-password.cf &&
    printf '@imp.example [192.0.2.9]:587\n' > dms/postfix-relaymap.cf
out "$C" -c main.conf import dms dms
out "$C" -c main.conf relay list
printf '@imp.example [192.0.2.9:587\n' > dms/postfix-relaymap.cf
out "$C" -c main.conf import dms dms # refused: the message names the value, never the password
# probe authenticates at a loopback fake smarthost with the literal password.
if "$PYTHON" -c 'import aiosmtpd' 2>/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -keyout k.pem -out c.pem 2>/dev/null || bail "openssl"
    printf 'lit-user:%s\n' "$PW_LITERAL" > users
    "$PYTHON" "$SRCDIR/test/lib/fake_smarthost.py" --name lit --port "$PORT" --log "$T/smtp.log" \
        --ready "$T/ready" --starttls c.pem k.pem --users users --require-auth 2>fake.err &
    PIDS+=($!)
    wait_for 30 test -f ready || diag "the fake smarthost did not get ready within 30 s"
    out "$C" -c main.conf probe lit
    ok "probe authenticated (so the password was really sent)" grep -q '^auth      ok' all.out
    out "$C" -c main.conf probe file.example # connect fails: 192.0.2.2 is unreachable or slow
else
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - probe authenticated (so the password was really sent) # SKIP python3-aiosmtpd is not installed"
fi

# No 3-character piece of any password in all that output.
leaks=""
for pw in "$PW_LITERAL" "$PW_FILE" "$PW_ENC" "$PW_IMPORT" "$PW_ARGV"; do
    for ((i = 0; i + 3 <= ${#pw}; i++)); do
        grep -qF -- "${pw:i:3}" all.out && leaks+=" ${pw:i:3}"
    done
done
is "$leaks" "" "no piece (>= 3 characters) of any password in any CLI output"
ok "the output really covers list, route, rotate and import" bash -c \
    "grep -q 'password=(' all.out && grep -q '^sasl_password=' all.out && grep -q '^rotated' all.out && grep -q 'imported' all.out"

fp() { printf '%s' "$1" | openssl dgst -sha256 | sed 's/.*= //' | cut -c1-8; }
list=$("$C" -c main.conf relay list 2>&1)
ok "list: literal password as where and fingerprint" grep -qF "user=lit-user password=(literal sha256:$(fp "$PW_LITERAL"))" <<<"$list"
ok "list: file: password as where and fingerprint" grep -qF "user=file-user password=(file: sha256:$(fp "$PW_FILE"))" <<<"$list"
ok "list: enc password (the one given last) as where and fingerprint" grep -qF "user=enc-user password=(enc sha256:$(fp "$PW_ARGV"))" <<<"$list"
ok "list: imported password" grep -qF "user=imp-user password=(enc sha256:$(fp "$PW_IMPORT"))" <<<"$list"
is "$("$C" -c main.conf route a@file.example | grep '^sasl_password=')" "sasl_password=file: sha256:$(fp "$PW_FILE")" \
    "route: where and fingerprint"
tap_done
