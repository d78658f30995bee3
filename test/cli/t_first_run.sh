#!/bin/bash
# t_first_run.sh - the managed-file verbs on a fresh install: what a failed first command
# leaves behind (nothing), the empty managed.conf the package makes, and the lock file.
. "$SRCDIR/test/lib/tap.sh"
C=$SMARTHOSTCTL
T=$(mktemp -d /tmp/t_first_run.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || bail "no temp dir"
q() { "$@" >/dev/null 2>&1; } # a command's output is not TAP

# The main file without the @include (the package's conffile before it had one).
printf 'vault_key = "%s/vault.key";\n' "$T" >main.conf
out=$("$C" -c main.conf relay add-domain first.example 127.0.0.1 2525 2>&1)
is "$?" 1 "relay add-domain without the @include: refused"
ok "the message says which line to add" grep -qF '@include "managed.conf"' <<<"$out"
is "$(ls -A)" "main.conf" "and leaves nothing behind (no managed.conf, no lock file)"
"$C" -c main.conf key init >/dev/null 2>&1
is "$?:$(ls -A)" "1:main.conf" "key init without the @include: refused, nothing left"

# With the @include and the empty managed.conf the package's postinst writes.
printf '@include "managed.conf"\n' >>main.conf
printf '%s\n' '# managed.conf - written by smarthostctl (relay, import, key rotate).' \
    '# Do not edit: the main configuration @includes it; put your own settings there.' \
    'managed = { };' >managed.conf
ok "the empty managed.conf loads" q "$C" -c main.conf check
ok "relay add-domain, the first command, works" q "$C" -c main.conf relay add-domain first.example 127.0.0.1 2525
cp managed.conf managed.before
out=$(echo pw | "$C" -c main.conf relay add-auth first.example user --password-stdin 2>&1)
is "$?" 1 "add-auth without a vault key: refused"
ok "it names the missing key" grep -q 'vault.key' <<<"$out"
ok "managed.conf unchanged, no lock or temp file left" bash -c \
    "cmp -s managed.conf managed.before && [ \"\$(ls -A | sort | tr '\n' ' ')\" = 'main.conf managed.before managed.conf ' ]"
ok "key init, then add-auth works" bash -c \
    "'$C' -c main.conf key init >/dev/null &&
     echo pw | '$C' -c main.conf relay add-auth first.example user --password-stdin >/dev/null"
ok "no lock file left after success" test ! -e managed.conf.lock

# The lock: a writer holding it refuses others and keeps its file; a stale one is reused.
exec 8>managed.conf.lock
flock -n 8 || bail "flock"
out=$("$C" -c main.conf relay del-domain first.example 2>&1)
is "$?:$out" "1:smarthostctl: ./managed.conf.lock: another smarthostctl is writing" \
    "a held lock: refused"
ok "the holder's lock file stays" test -e managed.conf.lock
exec 8>&-
ok "an unheld lock file left by a killed run is reused" q "$C" -c main.conf relay del-domain first.example
ok "and removed afterwards" test ! -e managed.conf.lock
tap_done
