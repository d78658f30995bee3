#!/bin/bash
# t_key_relay.sh - key init/rotate (incl. killed mid-way at every step) and the relay verbs.
. "$SRCDIR/test/lib/tap.sh"
C=$SMARTHOSTCTL
T=$(mktemp -d /tmp/t_key_relay.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || bail "no temp dir"

setup() { # a fresh main config with two encrypted credentials
    rm -rf "$T/w" && mkdir "$T/w" && cd "$T/w" || bail "setup"
    printf 'vault_key = "%s/w/vault.key";\n@include "managed.conf"\n' "$T" > main.conf
    "$C" -c main.conf key init >/dev/null 2>&1 &&
    "$C" -c main.conf relay add-domain domain1.com '[smtp.mailgun.org]' 587 >/dev/null &&
    echo 'mailgun-secret' | "$C" -c main.conf relay add-auth domain1.com mailgun-user --password-stdin >/dev/null &&
    "$C" -c main.conf relay add-domain @Domain2.COM smtp.sendgrid.net 2525 >/dev/null &&
    printf 'sendgrid-secret\n' | "$C" -c main.conf relay add-auth domain2.com sendgrid-user --password-stdin >/dev/null ||
        bail "setup failed"
}

setup
if id smarthostd >/dev/null 2>&1; then # the daemon's default user reads it through its group
    is "$(stat -c %a:%G vault.key)" "640:$(id -gn smarthostd)" "key init: mode 0640, smarthostd's group"
else
    is "$(stat -c %a vault.key)" 600 "key init: mode 0600"
fi
is "$(stat -c %U vault.key)" "$(id -un)" "key init: owned by the caller (root in CI)"
ok "key init --group: 0640, owner root, that group" bash -c \
    "'$C' -c main.conf key init --key '$PWD/k2' --group nogroup >/dev/null && [ \"\$(stat -c %a:%U:%G k2)\" = 640:root:nogroup ]"
ok "key init --group with no such group: refused, nothing made" bash -c \
    "! '$C' -c main.conf key init --key '$PWD/k3' --group no-such-group-x 2>/dev/null && [ ! -e k3 ]"
# The CLI holds secrets: no core dumps (RLIMIT_CORE 0, not dumpable). Seen while it waits on stdin.
mkfifo pwfifo
"$C" -c main.conf relay add-auth core.example u --password-stdin <pwfifo >/dev/null 2>&1 &
CPID=$!
exec 7>pwfifo
for _ in $(seq 100); do grep -q 'Max core file size *0 *0' /proc/$CPID/limits 2>/dev/null && break; sleep 0.05; done
ok "CLI runs with core dumps off" grep -q 'Max core file size *0 *0' /proc/$CPID/limits
exec 7>&-; wait $CPID 2>/dev/null; rm -f pwfifo
ok "key init refuses to overwrite" bash -c "! '$C' -c main.conf key init"
ok "relay verbs from another directory (the include is relative to the config's)" bash -c \
    "cd / && '$C' -c '$T/w/main.conf' relay exclude-domain cwd.example >/dev/null &&
     '$C' -c '$T/w/main.conf' relay del-domain cwd.example >/dev/null"
# The first command creates managed.conf: it follows the main file's group at once, so a
# daemon that dropped root can read it even before any relay change.
mkdir -p "$T/g" && printf 'vault_key = "%s/g/vault.key";\n@include "managed.conf"\n' "$T" > "$T/g/main.conf" &&
    chgrp nogroup "$T/g/main.conf" && chmod 0640 "$T/g/main.conf"
"$C" -c "$T/g/main.conf" key init >/dev/null 2>&1
is "$(stat -c %a:%G "$T/g/managed.conf" 2>&1)" "640:nogroup" "a new empty managed.conf gets the main file's group, 0640"
expected=$("$BUILDDIR/test/cli/dump_creds" main.conf)
is "$expected" "$(printf 's_domain1_com mailgun-user mailgun-secret\ns_domain2_com sendgrid-user sendgrid-secret')" "passwords round-trip through enc:v1:"
ok "no plaintext password on disk" bash -c "! grep -r secret '$T/w'"
ok "check passes, no literal-password warning" bash -c "'$C' -c main.conf check 2>&1 | grep -v warning | grep -q 'configuration OK'"
is "$("$C" -c main.conf route a@domain1.com | grep -E '^(relay|sasl_user|sasl_password)=' | tr '\n' ' ')" \
   "relay=[smtp.mailgun.org]:587 sasl_user=mailgun-user sasl_password=enc sha256:$(printf %s mailgun-secret | sha256sum | cut -c1-8) " \
   "route uses the managed relay and credentials, the password only as where and a fingerprint"

# --- validation: every error names the field and writes nothing
cp managed.conf before
ok "bad IPv4 octet refused" bash -c "'$C' -c main.conf relay add-domain d.com 256.1.1.1 2>&1 | grep -q '^smarthostctl: host'"
ok "port 0 refused" bash -c "'$C' -c main.conf relay add-domain d.com h.example 0 2>&1 | grep -q 'port \"0\"'"
ok "port 65536 refused" bash -c "! '$C' -c main.conf relay add-domain d.com h.example 65536"
ok "bad domain refused" bash -c "'$C' -c main.conf relay add-domain 'd..com' h.example 2>&1 | grep -q 'domain'"
ok "user with ':' refused" bash -c "echo pw | '$C' -c main.conf relay add-auth domain1.com 'a:b' --password-stdin 2>&1 | grep -q 'user'"
ok "empty password refused" bash -c "echo | '$C' -c main.conf relay add-auth domain1.com u --password-stdin 2>&1 | grep -q 'password'"
ok "no password, no tty: refused" bash -c "'$C' -c main.conf relay add-auth domain1.com u </dev/null 2>&1 | grep -q 'password-stdin'"
ok "tls level checked" bash -c "! '$C' -c main.conf relay set-tls domain1.com bogus"
ok "a result the loader refuses is not written" bash -c "'$C' -c main.conf relay set-tls domain1.com none 2>&1 | grep -q 'not saved'"
ok "nothing written by refused commands" cmp -s before managed.conf
ok "IPv6 relay accepted" "$C" -c main.conf relay add-domain v6.example '[2001:db8::1]' 25
ok "password on argv: warning" bash -c "'$C' -c main.conf relay add-auth domain1.com mailgun-user mailgun-secret 2>&1 | grep -q 'warning: a password on the command line'"
ok "exclude-domain" bash -c "'$C' -c main.conf relay exclude-domain domain3.com >/dev/null && '$C' -c main.conf route x@domain3.com | grep -q '^relay=direct'"
ok "default relay" bash -c "'$C' -c main.conf relay default 127.0.0.1 2525 >/dev/null && '$C' -c main.conf route x@other.org | grep -q '^relay=\[127.0.0.1\]:2525'"
ok "list shows where a password lives, not a character of it" bash -c "'$C' -c main.conf relay list | grep '@domain1.com' | grep -q 'password=(enc sha256:[0-9a-f]\{8\})' && ! '$C' -c main.conf relay list | grep -q 'secret\|mail\*'"
ok "del-domain" bash -c "'$C' -c main.conf relay del-domain domain2.com >/dev/null && '$C' -c main.conf route x@domain2.com | grep -q '^relay=\[127.0.0.1\]:2525'"
printf 'vault_key = "%s/w/vault.key";\nrelays = { r_smtp_mailgun_org_587 = { host = "x.example"; }; };\n@include "managed.conf"\n' "$T" > dup.conf
ok "a relay defined in both files is an error" bash -c "'$C' -c dup.conf check 2>&1 | grep -q 'defined twice'"
printf 'relays = { r = { host = "x.example"; }; };\n' > noinc.conf
ok "main file without the @include: refused, told what to add" bash -c "'$C' -c noinc.conf relay add-domain a.com b.example 2>&1 | grep -q '@include \"managed.conf\"'"
chmod 644 vault.key
ok "loose key file mode refused" bash -c "'$C' -c main.conf check 2>&1 | grep -q 'refused'"
chmod 600 vault.key

# --- key rotate, then killed at every step (test build with SH_TEST_HOOKS)
setup
old_key=$(cat vault.key)
ok "key rotate" "$C" -c main.conf key rotate
ok "rotate: new key" test "$(cat vault.key)" != "$old_key"
is "$("$BUILDDIR/test/cli/dump_creds" main.conf)" "$expected" "rotate: same passwords under the new key"
ok "rotate: no leftovers" bash -c "! ls | grep -E '\.(old|new|rotate|tmp)$'"
for step in 1 2 3 4 5 6; do
    setup
    old_key=$(cat vault.key); old_managed=$(cat managed.conf)
    SMARTHOSTCTL_CRASH_AT=$step "$CRASHCTL" -c main.conf key rotate >/dev/null 2>&1
    rc=$?
    is "$rc" 137 "rotate killed at step $step"
    is "$("$BUILDDIR/test/cli/dump_creds" main.conf 2>&1)" "$expected" "killed at step $step: the config still loads with the same passwords"
    "$C" -c main.conf key recover >/dev/null
    if [ "$(cat vault.key)" = "$old_key" ]; then
        state=old; [ "$(cat managed.conf)" = "$old_managed" ] || state=mix
    else
        state=new; [ "$(cat managed.conf)" != "$old_managed" ] || state=mix
    fi
    want=old; [ "$step" -ge 3 ] && want=new
    is "$state" "$want" "killed at step $step: recover leaves the $want state, never a mix"
    ok "killed at step $step: no leftovers after recover" bash -c "! ls | grep -E '\.(old|new|rotate|tmp)$'"
    is "$("$BUILDDIR/test/cli/dump_creds" main.conf 2>&1)" "$expected" "killed at step $step: passwords intact under vault.key alone"
done

# enc: values in the administrator's own file are not rewritten (smarthostctl never edits
# that file): rotate refuses before changing anything and names the value.
setup
sed -i "1a credentials = { own = { user = \"u\"; password = \"$("$BUILDDIR/test/cli/vault_encrypt" "$T/w/vault.key" own own-secret)\"; }; };" main.conf
cp vault.key key.before; cp managed.conf managed.before
out=$("$C" -c main.conf key rotate 2>&1); rc=$?
is "$rc" 1 "rotate with an enc: value in the main file: refused"
ok "rotate refusal names the value and the fix" bash -c "grep -q 'main.conf:2: credentials own' <<<'$out' && grep -q 'relay add-auth' <<<'$out'"
ok "rotate refusal: key and managed.conf unchanged, no leftovers" bash -c \
    "cmp -s vault.key key.before && cmp -s managed.conf managed.before && ! ls | grep -E '\.(old|new|rotate|tmp)$'"
tap_done
