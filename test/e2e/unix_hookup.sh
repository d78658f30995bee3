#!/bin/bash
# unix_hookup.sh - the hookup exactly as `smarthostctl postfix-conf` prints it:
# smarthostd on a unix socket under the queue directory, Postfix maps naming it
# relative to the queue directory (private/smarthostd), as chrooted daemons need (TAP).
set -uo pipefail
. "${SRCDIR:?}/test/lib/tap.sh"
. "$SRCDIR/test/lib/postfix-lab.sh"

lab_require_postfix

lab_init
lab_auth_relay unix-user unix-pass-7 || bail "fake relay"
P_SMTPD=$(lab_free_port)
RCPT='rcpt@[127.0.0.2]'

lab_postfix_init "$P_SMTPD"
mkdir -p "$LAB/queue/private"
chown postfix "$LAB/queue/private" && chmod 700 "$LAB/queue/private" # as postfix-script wants it
SOCK="$LAB/queue/private/smarthostd"
lab_start smarthostd.log "$SMARTHOSTD" -f -c "$LAB/smarthostd.conf" --socketmap "unix:$SOCK"
lab_wait 15 test -S "$SOCK" || bail "smarthostd did not create $SOCK"
is "$(stat -c '%a %G' "$SOCK")" "660 postfix" "socket is 0660 group postfix (the sasl map carries secrets)"

# Apply the printed main.cf lines as they are; the master.cf transport too.
conf=$("$SMARTHOSTCTL" -c "$LAB/smarthostd.conf" postfix-conf "unix:$SOCK" "$LAB/queue")
while IFS= read -r line; do
    lab_postconf -e "$line"
done < <(printf '%s\n' "$conf" | grep -E '^[a-z_]+ =')
lab_master_smtps
is "$(lab_postconf -h sender_dependent_relayhost_maps)" "socketmap:unix:private/smarthostd:relay" \
   "postfix-conf names the socket relative to the queue directory"
lab_postfix_start || bail "postfix did not start"

lab_send alice@example.com "$RCPT" u-one || diag "swaks failed"
lab_wait 60 lab_fake_has u-one || diag "the relay did not see u-one within 60 s"
is "$(lab_fake_find u-one)" "relay	$P_RELAY	alice@example.com	unix-user	unix-pass-7	yes" \
   "mail routed through the unix socket maps, AUTH with the file's password over TLS"
ok "no password in smarthostd's log" bash -c "! grep -q 'unix-pass-7' '$LAB/smarthostd.log'"

tap_done
