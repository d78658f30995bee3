#!/bin/bash
# report.sh - `smarthostctl report` on a committed maillog excerpt (a real Postfix 3.7 run,
# ports fixed, plus hand-written lines: RFC 3339 and journalctl stamps, retries, a second
# recipient, local and unknown relays, lines that are not deliveries) and on the same log
# with hostile lines appended; text and --prometheus output compared with the .ref files.
# GOLDEN_UPDATE=1 rewrites the .ref files instead (review the diff before committing).
set -u
here=$(cd "$(dirname "$0")/report" && pwd)
ctl=${SMARTHOSTCTL:?}
n=0 failed=0
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/compare.sh"

cd "$here" || exit 1
report() { "$ctl" -c report.conf report "$@" 2>&1; echo "exit=$?"; }
compare "report on the maillog excerpt" "$(report maillog)" report.ref
compare "report --prometheus on the maillog excerpt" "$(report --prometheus maillog)" \
    prometheus.ref

# Hostile lines: control bytes and a terminal escape in an address, NUL and 0xff bytes, a
# 10000-byte line, a CRLF line, a status without its parenthesis, an overlong address.
cp maillog "$tmp/hostile"
{
    printf 'Dec  1 01:00:00 mail postfix/qmgr[9]: 1111AAAA22: from=<\033[31mevil\001@alpha.test>, size=1, nrcpt=1 (queue active)\n'
    printf 'Dec  1 01:00:01 mail postfix/smtp[9]: 1111AAAA22: to=<a\000b@x>, relay=127.0.0.1[127.0.0.1]:2602, dsn=2.0.0, status=sent (250 \377ok\033[0m)\n'
    printf 'Dec  1 01:00:02 mail postfix/smtp[9]: 1111AAAA22: to=<c@x>, relay=127.0.0.1[127.0.0.1]:2602, dsn=4.0.0, status=deferred (no closing parenthesis 42\r\n'
    printf 'Dec  1 01:00:03 mail postfix/smtp[9]: 1111AAAA22: to=<d@x>, relay=%s[127.0.0.1]:2602, status=sent (ok)\n' "$(head -c 10000 /dev/zero | tr '\0' h)"
    printf 'Dec  1 01:00:04 mail postfix/qmgr[9]: 3333BBBB44: from=<%s@long.test>, size=1, nrcpt=1 (queue active)\n' "$(head -c 400 /dev/zero | tr '\0' u)"
    printf 'Dec  1 01:00:05 mail postfix/smtp[9]: 3333BBBB44: to=<e@x>, relay=127.0.0.1[127.0.0.1]:2602, status=sent (ok)\n'
    printf 'Dec  1 01:00:06 mail postfix/smtp[9]: 3333BBBB44: to=<e@x>, relay=127.0.0.1[127.0.0.1]:99999, status=sent (ok)\n'
    printf 'Dec 32 01:00:07 mail postfix/smtp[9]: 3333BBBB44: to=<e@x>, relay=none, status=sent (ok)\n'
    printf '\000\377\n\n'
} >>"$tmp/hostile"
compare "report with hostile lines appended" "$("$ctl" -c report.conf report - <"$tmp/hostile" 2>&1; echo "exit=$?")" \
    hostile.ref

n=$((n + 1))
if out=$("$ctl" -c report.conf report - <"$tmp/hostile" | LC_ALL=C grep -n '[^[:print:]]'); then
    echo "not ok $n - report output is printable ASCII"; failed=$((failed + 1))
    printf '%s\n' "$out" | cat -v | sed 's/^/# /'
else
    echo "ok $n - report output is printable ASCII"
fi

n=$((n + 1))
if ! command -v promtool >/dev/null; then
    echo "ok $n # SKIP promtool not installed"
elif out=$(grep -v "^exit=" prometheus.ref | promtool check metrics 2>&1); then
    echo "ok $n - promtool check metrics accepts prometheus.ref"
else
    echo "not ok $n - promtool check metrics accepts prometheus.ref"; failed=$((failed + 1))
    printf '%s\n' "$out" | sed 's/^/# /'
fi

# No LOGFILE and no readable /var/log/mail.log: the journal, through a stand-in journalctl
# that records its arguments and prints two short-iso lines.
n=$((n + 1))
if [ -r /var/log/mail.log ]; then
    echo "ok $n # SKIP /var/log/mail.log exists here"
else
    mkdir "$tmp/bin"
    cat >"$tmp/bin/journalctl" <<JOURNAL
#!/bin/sh
printf '%s\\n' "\$*" >"$tmp/journal-args"
echo '2026-11-30T19:50:00+0000 mail postfix/qmgr[3]: ABCDEF12: from=<a@alpha.test>, size=1, nrcpt=1 (queue active)'
echo '2026-11-30T19:50:01+0000 mail postfix/smtp[4]: ABCDEF12: to=<u@x>, relay=127.0.0.1[127.0.0.1]:2601, dsn=2.0.0, status=sent (250 ok)'
JOURNAL
    chmod +x "$tmp/bin/journalctl"
    out=$(PATH="$tmp/bin:$PATH" "$ctl" -c report.conf report 2>&1 | sed -n '1,5p')
    args=$(cat "$tmp/journal-args" 2>/dev/null)
    if [ "$args" = "-q --no-pager -o short-iso -u postfix*" ] &&
        printf '%s\n' "$out" | grep -q '^source: journalctl -u postfix\*$' &&
        printf '%s\n' "$out" | grep -qE '^alpha +1 +0 +0 +0$'; then
        echo "ok $n - without a log file the journal is read (journalctl -o short-iso -u postfix*)"
    else
        echo "not ok $n - without a log file the journal is read"; failed=$((failed + 1))
        printf 'args: %s\n%s\n' "$args" "$out" | sed 's/^/# /'
    fi
fi

gzip -c maillog >"$tmp/maillog.gz"
compare "a gzip'ed log is refused with a hint" "$(report "$tmp/maillog.gz" | sed "s|$tmp|TMP|")" gzip.ref
compare "usage errors" "$(report --since 5x maillog; report --bogus; report a b; report --follow --since 1h; report --control /x maillog)" usage.ref

echo "1..$n"
[ "$failed" -eq 0 ]
