#!/bin/bash
# oracle.sh - the oracle suite: address forms x rule types through one real Postfix (TAP).
#
# Sets up the lab once: a private Postfix 3.7 (smtpd on 127.0.0.1, its inet_interfaces: a
# literal [127.0.0.1] would be local to it, so the relays live on 127.0.0.2), smarthostd
# (socketmap + policy), smarthostd-milter, and oracle_server.py's recorders:
#   alpha, beta, gamma  127.0.0.2, STARTTLS + AUTH (their own users): relays
#   isp                 127.0.0.2, STARTTLS offered, AUTH in the clear taking any login: the
#                       default relay (tls none, no credentials: an IP-allowlisted relay)
#   hostile             127.0.0.2:$P_H, no TLS, AUTH in the clear, takes any login: what a
#                       direct delivery to [127.0.0.2] meets on the relays' own host
#   mx                  127.0.0.3:$P_H, STARTTLS, takes any login: a recipient's own server
#   lane                127.0.0.4:$P_H, STARTTLS, takes any login: a lane's nexthop
#   home                127.0.0.6:$P_H, plain, no AUTH: where local.test's mail is sent
#   bare                127.0.0.6:$P_S, plain, no AUTH: a relay that cannot do STARTTLS
# Direct delivery lands on those because smtp_tcp_port is $P_H and recipients are literals.
# Then oracle.py runs every row of oracle.tsv under its layout (oracle-layouts.conf).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix saslpasswd2 postsuper
: "${SMARTHOSTD_MILTER:?}"
"$LAB_PY" -c 'import aiosmtpd' 2>/dev/null || tap_skip_all "python3-aiosmtpd not installed"

export REALM="oracle$$.test"      # SASL users of this run only
export SASL_PASS="alice-secret-$$"

lab_init
lab_cert
for v in P_A P_B P_G P_I P_H P_S P_MAP P_POL P_MILTER P_SMTPD; do
    printf -v "$v" '%s' "$(lab_free_port)" || bail "no free port"
    export "${v?}"
done
export LAB

sasl_cleanup() { saslpasswd2 -d -u "$REALM" alice 2>/dev/null || true; }
trap 'rc=$?; sasl_cleanup; (exit $rc); lab_cleanup' EXIT
printf '%s' "$SASL_PASS" | saslpasswd2 -p -c -u "$REALM" alice || bail "saslpasswd2"
chown root:postfix /etc/sasldb2 && chmod 640 /etc/sasldb2

umask 077
for c in alpha:alpha-pass beta:beta-pass gamma:gamma-pass boss:boss-pass; do
    printf '%s' "${c#*:}" >"$LAB/${c%%:*}.pass"
done
umask 022
users=$(lab_users relays alpha-user:alpha-pass beta-user:beta-pass gamma-user:gamma-pass \
    boss-user:boss-pass)

export ORACLE_LOG=$LAB/oracle.jsonl
: >"$ORACLE_LOG"
lab_start oracle-server.log "$LAB_PY" "$SRCDIR/test/lib/oracle_server.py" \
    --log "$ORACLE_LOG" --ready "$LAB/oracle.ready" \
    --cert "$LAB/cert.pem" --key "$LAB/key.pem" --users "$users" \
    --listen "alpha,127.0.0.2,$P_A,starttls,users" \
    --listen "beta,127.0.0.2,$P_B,starttls,users" \
    --listen "gamma,127.0.0.2,$P_G,starttls,users" \
    --listen "isp,127.0.0.2,$P_I,starttls,any" \
    --listen "hostile,127.0.0.2,$P_H,none,any" \
    --listen "mx,127.0.0.3,$P_H,starttls,any" \
    --listen "lane,127.0.0.4,$P_H,starttls,any" \
    --listen "home,127.0.0.6,$P_H,none,none" \
    --listen "bare,127.0.0.6,$P_S,none,none"
lab_wait 15 test -s "$LAB/oracle.ready" || { cat "$LAB/oracle-server.log" >&2; bail "recorders"; }

# The first layout's config, so that both daemons start; oracle.py switches layouts.
export ORACLE_CONF=$LAB/smarthostd.conf ORACLE_TABLE=$SRCDIR/test/e2e/oracle.tsv
export ORACLE_LAYOUTS=$SRCDIR/test/e2e/oracle-layouts.conf
"$LAB_PY" - <<'EOF' || bail "layouts"
import os, sys
sys.path.insert(0, os.environ["SRCDIR"] + "/test/e2e")
import oracle
ls = oracle.load_layouts(os.environ["ORACLE_LAYOUTS"])
for name, text in ls.items():
    open(os.environ["LAB"] + f"/layout-{name}.conf", "w").write(text)
open(os.environ["ORACLE_CONF"], "w").write(next(iter(ls.values())))
EOF
for f in "$LAB"/layout-*.conf; do
    "$SMARTHOSTD" -n -c "$f" >"$LAB/check.out" 2>&1 || diag "$(basename "$f"): $(cat "$LAB/check.out")"
done

lab_smarthostd "$ORACLE_CONF" "$P_MAP" -- --policy "inet:127.0.0.1:$P_POL" ||
    bail "smarthostd did not start"
export SMARTHOSTD_PID SMARTHOSTD_LOG=$LAB/smarthostd.log
lab_daemon milter "$P_MILTER" "$SMARTHOSTD_MILTER" -c "$ORACLE_CONF" -f \
    -p "inet:$P_MILTER@127.0.0.1" || bail "milter did not start"
export MILTER_PID=$LAB_PID MILTER_LOG=$LAB/milter.log

lab_postfix_init "$P_SMTPD"
cat >>"$LAB/etc/master.cf" <<'EOF'
lane unix - - n - - smtp
  -o syslog_name=postfix/lane
EOF
lab_postfix_hookup "$P_MAP"
lab_postfix_policy "$P_POL"
lab_postfix_milter "$P_MILTER"
mkdir -p "$LAB/sasl"
printf '%s\n' 'pwcheck_method: auxprop' 'auxprop_plugin: sasldb' 'mech_list: PLAIN LOGIN' \
    >"$LAB/sasl/smtpd.conf"
lab_postconf -e \
    "mydestination = local.test" \
    "recipient_delimiter = +-" \
    "smtputf8_enable = yes" \
    "smtp_tcp_port = $P_H" \
    "smtpd_sasl_auth_enable = yes" "cyrus_sasl_config_path = $LAB/sasl" \
    "smtpd_sasl_local_domain =" \
    "smtpd_tls_cert_file = $LAB/cert.pem" "smtpd_tls_key_file = $LAB/key.pem" \
    "smtpd_tls_security_level = may" \
    "smtpd_soft_error_limit = 1000" "smtpd_hard_error_limit = 1000" \
    "smtpd_junk_command_limit = 1000" "smtpd_error_sleep_time = 0"
for v in myorigin=lab.smarthostd.test mydomain=smarthostd.test myhostname=lab.smarthostd.test; do
    [ "$(lab_postconf -xh "${v%%=*}")" = "${v#*=}" ] || bail "the base layout's postfix group is not Postfix's ${v%%=*}"
done
lab_postfix_start || bail "postfix did not start"
export MAILLOG=$LAB/maillog

"$LAB_PY" "$SRCDIR/test/e2e/oracle.py"
