#!/bin/bash
# report_caps.sh - `smarthostctl report` against a hostile log: more queue ids, relays,
# reasons and sender domains than its tables hold, and a 64 MiB line with no newline. It must
# finish, stay within a fixed memory bound, count what it could, and say what it left out (TAP).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
ctl=${SMARTHOSTCTL:?}
# GNU time measures the peak RSS (package "time", test/install-deps.sh installs it).
[ -x /usr/bin/time ] || tap_skip_all "/usr/bin/time is not installed (package time)"
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/conf" <<'CONF'
relays = { alpha = { host = "127.0.0.1"; port = 2601; }; };
senders = ( { match = "@.test"; relay = "alpha"; } ); # so unknown hosts are not "direct"
CONF

# 120000 messages (the queue id table holds 100000), never "removed"; each from its own
# domain (10000 kept), deferred for its own reason (1000 kept; letters, so they do not
# normalize together) by one of 300 unknown hosts (256 rows kept).
awk 'function word(n,   s) { s = ""; do { s = s sprintf("%c", 97 + n % 26); n = int(n / 26) } while (n); return s }
BEGIN {
    for (i = 0; i < 120000; i++) {
        q = sprintf("%X0", 1048576 + i)
        printf "Nov 30 10:00:00 h postfix/qmgr[1]: %s: from=<u@d%s.test>, size=1, nrcpt=1 (queue active)\n", q, word(i)
        printf "Nov 30 10:00:01 h postfix/smtp[2]: %s: to=<r@x>, relay=h%s.test[192.0.2.1]:25, dsn=4.0.0, status=deferred (busy %s)\n", q, word(i % 300), word(i)
    }
}' >"$tmp/log"
printf 'Nov 30 10:00:02 h postfix/smtp[2]: ' >>"$tmp/log"
head -c $((64 << 20)) /dev/zero | tr '\0' x >>"$tmp/log"

/usr/bin/time -f '%M %e' -o "$tmp/time" "$ctl" -c "$tmp/conf" report "$tmp/log" >"$tmp/out" 2>&1
rc=$?
read -r kb secs <"$tmp/time"
diag "report on $(du -m "$tmp/log" | cut -f1) MB: max RSS ${kb} KB, ${secs} s"
is "$rc" 0 "the report completes"
ok "memory stays under 96 MB (the 64 MiB line is streamed, the tables are capped)" \
    test "$kb" -lt $((96 * 1024))
ok "the overlong line is skipped and counted" grep -q '^lines: 240001 read, .* 1 too long' "$tmp/out"
ok "every delivery is counted in the relay table" \
    bash -c "awk 'NF == 5 && \$2 ~ /^[0-9]+\$/ { s += \$5 } END { exit s != 120000 }' '$tmp/out'"
ok "the queue id cap is reported" grep -q '^note: 20000 deliveries had no from= line in the input or the queue id table (100000' "$tmp/out"
ok "the relay cap is reported" grep -q '^note: relay table full (256 rows)' "$tmp/out"
ok "the reason cap is reported" grep -q '^note: reason table full (1000): 119000 deferrals' "$tmp/out"
ok "the sender domain cap is reported" grep -q '^note: sender domain table full (10000)' "$tmp/out"
is "$(sed -n '/^top deferral reasons:/,/^$/p' "$tmp/out" | grep -c ' busy ')" 10 \
    "only the top 10 reasons are printed"

"$ctl" -c "$tmp/conf" report --prometheus "$tmp/log" >"$tmp/prom"
ok "prometheus: the dropped counters say the same" \
    grep -qx 'smarthostd_report_dropped_total{table="queue_ids"} 20000' "$tmp/prom"
if command -v promtool >/dev/null; then
    ok "promtool check metrics accepts it" bash -c "promtool check metrics <'$tmp/prom'"
fi
# A log whose "removed" lines were lost: 100000 messages seen on November 1st fill the queue
# id table; a message on the 30th still gets its sender's route and domain, because messages
# first seen more than ten days earlier cannot still be queued and are forgotten.
awk 'BEGIN {
    for (i = 0; i < 100000; i++)
        printf "2026-11-01T10:00:00+00:00 h postfix/qmgr[1]: %X0: from=<u@old.test>, size=1, nrcpt=1 (queue active)\n", 1048576 + i
    print "2026-11-30T10:00:00+00:00 h postfix/qmgr[1]: ABCDEF0: from=<u@late.test>, size=1, nrcpt=1 (queue active)"
    print "2026-11-30T10:00:01+00:00 h postfix/smtp[2]: ABCDEF0: to=<r@x>, relay=127.0.0.1[127.0.0.1]:2601, dsn=2.0.0, status=sent (250 ok)"
    print "2026-11-30T10:00:02+00:00 h postfix/qmgr[1]: 1000000: from=<u@late2.test>, size=1, nrcpt=1 (queue active)"
}' >"$tmp/lost"
"$ctl" -c "$tmp/conf" report "$tmp/lost" >"$tmp/out" 2>&1
ok "a full table of messages a month old does not keep out a new one" \
    grep -qE '^  late\.test +alpha +1 +0 +0$' "$tmp/out"
ok "and nothing is reported dropped" bash -c "! grep -q '^note:' '$tmp/out'"

tap_done
