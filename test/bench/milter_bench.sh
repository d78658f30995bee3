#!/bin/bash
# milter_bench.sh - Postfix end to end (smtp-source -> Postfix -> smtp-sink),
# without and with smarthostd-milter (privacy rules on), same run. Root only.
#   SRCDIR=. SMARTHOSTD_MILTER=build/milter/smarthostd-milter test/bench/milter_bench.sh [MESSAGES] [SESSIONS]
set -uo pipefail
. "${SRCDIR:?}/test/lib/postfix-lab.sh"
N=${1:-2000}; S=${2:-20}
MILTER=${SMARTHOSTD_MILTER:?}
lab_init
P_SINK=$(lab_free_port); P_SMTPD=$(lab_free_port); P_MILTER=$(lab_free_port)
cat >"$LAB/smarthostd.conf" <<CONF
relays = { sink = { host = "127.0.0.1"; port = $P_SINK; tls = "none"; }; };
default_relay = "sink";
milter = {
  hostname = "milter.example.test";
  privacy = { internal_networks = [ "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16" ];
              internal_hosts = [ "*.lan" ]; remove_mailer = true; };
};
CONF
smtp-sink -u postfix "127.0.0.1:$P_SINK" 256 >/dev/null 2>&1 & LAB_PIDS+=("$!")
"$MILTER" -c "$LAB/smarthostd.conf" -f -p "inet:$P_MILTER@127.0.0.1" 2>"$LAB/milter.log" & LAB_PIDS+=("$!")
lab_wait 10 lab_port_busy "$P_SINK" && lab_wait 10 lab_port_busy "$P_MILTER" || exit 1
lab_postfix_init "$P_SMTPD"
lab_postconf -e "relayhost = [127.0.0.1]:$P_SINK" "default_process_limit = 100" \
    "smtp_destination_concurrency_limit = 20" "default_destination_concurrency_limit = 20"
lab_postfix_start || exit 1

sent() { grep -c 'status=sent' "$LAB/maillog"; }
run() { # LABEL
    local before t0 t1 n
    before=$(sent)
    t0=$(date +%s.%N)
    smtp-source -s "$S" -m "$N" -f alice@example.org -t rcpt@example.net "127.0.0.1:$P_SMTPD"
    lab_wait 300 bash -c "[ \$(grep -c 'status=sent' '$LAB/maillog') -ge $((before + N)) ]" || echo "# $1: timeout"
    t1=$(date +%s.%N)
    n=$(($(sent) - before))
    awk -v l="$1" -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%-16s %d msgs in %.2f s = %.0f msg/s\n", l, n, b - a, n / (b - a) }'
}
run "warmup" >/dev/null
run "no milter"
lab_postconf -e "smtpd_milters = inet:127.0.0.1:$P_MILTER" "milter_default_action = tempfail"
postfix -c "$LAB/etc" reload >/dev/null 2>&1; sleep 2
run "with milter"
lab_postconf -e "smtpd_milters ="
postfix -c "$LAB/etc" reload >/dev/null 2>&1; sleep 2
run "no milter (2)"
