#!/bin/bash
# miltertest.sh - the real smarthostd-milter on a temp unix socket, driven by
# miltertest Lua scripts (one TAP point each), plus -n, reload and stop checks.
set -u
. "$SRCDIR/test/lib/tap.sh"
HERE=$SRCDIR/test/milter
export MT_LIB=$HERE/mt_lib.lua   # the preamble every mt_*.lua loads
MILTER=${SMARTHOSTD_MILTER:?}
command -v miltertest >/dev/null || tap_skip_all "miltertest not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/smarthostd-mt.XXXXXX")
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT

write_conf() { # HOSTNAME LOCAL_SUBMISSION
    cat >"$T/smarthostd.conf" <<CONF
relays = {
  isp = { host = "127.0.0.1"; port = 2626; };
  ses = { host = "127.0.0.2"; port = 2627; };
};
default_relay = "isp";
senders = ( { match = "@verified.example"; relay = "ses"; } );
policy = {
  logins = ( { user = "alice"; senders = [ "alice@own.example" ]; } );
  require_auth = [ "@own.example" ];
  require_tls = [ "@tls.example" ];
};
milter = {
  hostname = "$1";
  privacy = {
    internal_networks = [ "10.0.0.0/8", "192.168.0.0/16", "fd00::/8" ];
    internal_hosts = [ "*.lan", "*.corp.example" ];
    remove_mailer = true;
  };
  local_submission = "$2";
  headers = ( { remove = "X-Spam-Flag"; },
              { remove = "X-Campaign"; senders = [ "@news.example" ]; },
              { add = "X-Relayed-By"; value = "smarthostd"; relay = "ses"; } );
  header_checks = "$HERE/smtp_header_checks";
  list_unsubscribe = ( { domain = "news.example"; url = "<https://news.example/u>"; one_click = true; },
                       { senders = [ "@.lists.example" ]; url = "<mailto:leave@lists.example>"; } );
  sender_rewrite = ( { relay = "ses"; identity = "bounce@verified.example"; from_header = true; } );
};
CONF
}


write_conf mx.example.test trust
out=$("$MILTER" -c "$T/smarthostd.conf" -n 2>&1)
is "$out" "configuration OK" "-n accepts the test config"
printf 'milter = { privacy = { internal_networks = "10.0.0.1/8"; }; };\n' >"$T/bad.conf"
out=$("$MILTER" -c "$T/bad.conf" -n 2>&1); rc=$?
is "$rc:$out" "1:$T/bad.conf:1: milter.privacy.internal_networks: \"10.0.0.1/8\": write a network as 10.0.0.0/8 or fd00::/8 (host bits zero)" \
    "-n names file:line and the setting"

SOCK=unix:$T/milter.sock
"$MILTER" -c "$T/smarthostd.conf" -f -p "$SOCK" 2>"$T/milter.log" &
PID=$!
wait_for 10 test -S "$T/milter.sock" || bail "milter did not start: $(cat "$T/milter.log")"

for t in privacy rewrite header_checks malformed enforce senders internal; do
    ok "miltertest $t" env MILTER_SOCK="$SOCK" miltertest -s "$HERE/mt_$t.lua"
done
ok "miltertest unknown family under trust: not a local submission" env MILTER_SOCK="$SOCK" \
    miltertest -s "$HERE/mt_local.lua"
ok "oversize messages are logged as rejected" grep -q "reject: message headers exceed" "$T/milter.log"
for text in "<alice@own.example>: Sender address rejected: authentication required" \
    "<x@tls.example>: Sender address rejected: must use STARTTLS" \
    "<bob@own.example>: Sender address rejected: not owned by user alice"; do
    ok "policy text: $text" grep -qF "reject: 5.7.1 $text" "$T/milter.log"
done

# reload: pinned snapshot on the open connection, new config on new ones
cat >"$T/reload.sh" <<RELOAD
#!/bin/bash
sed -i 's/hostname = "mx.example.test"/hostname = "reloaded.example.test"/' "$T/smarthostd.conf"
n=\$(grep -c '^smarthostd-milter: reloaded' "$T/milter.log")
kill -HUP $PID
for i in \$(seq 100); do
    [ "\$(grep -c '^smarthostd-milter: reloaded' "$T/milter.log")" -gt "\$n" ] && exit 0
    sleep 0.05
done
exit 1
RELOAD
chmod +x "$T/reload.sh"
ok "miltertest reload (snapshot pinned per connection)" env MILTER_SOCK="$SOCK" \
    HOST_BEFORE=mx.example.test HOST_AFTER=reloaded.example.test RELOAD_CMD="$T/reload.sh" \
    miltertest -s "$HERE/mt_reload.lua"

# local submissions with local_submission = "enforce": rejected at end of message
sed -i 's/local_submission = "trust"/local_submission = "enforce"/' "$T/smarthostd.conf"
n=$(grep -c '^smarthostd-milter: reloaded' "$T/milter.log")
kill -HUP "$PID"
reloaded() { [ "$(grep -c '^smarthostd-milter: reloaded' "$T/milter.log")" -gt "$n" ]; }
ok "reload with local_submission = enforce" wait_for 5 reloaded
ok "miltertest unknown family under enforce" env MILTER_SOCK="$SOCK" \
    miltertest -s "$HERE/mt_local.lua"

# a bad reload keeps the running config
echo 'milter = { bogus = 1; };' >>"$T/smarthostd.conf"
kill -HUP "$PID"
ok "bad reload is logged and refused" wait_for 5 grep -q "reload failed: .*; keeping previous configuration" "$T/milter.log"
ok "still serving the previous config" env MILTER_SOCK="$SOCK" miltertest -s "$HERE/mt_privacy_host.lua"

kill -TERM "$PID"
stopped() { ! kill -0 "$PID" 2>/dev/null; }
ok "SIGTERM stops the milter" wait_for 10 stopped
wait "$PID"; rc=$?
is "$rc" "0" "exit status 0 after SIGTERM"
PID=
tap_done
