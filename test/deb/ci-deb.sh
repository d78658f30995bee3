#!/bin/bash
# ci-deb.sh - the package on this machine, end to end:
#   build the .deb (dpkg-buildpackage in a copy of the tree), lintian (errors fail),
#   apt-get install it; on the fresh install, a first `relay add-domain` and `add-auth`
#   with no other step (the conffile's @include, managed.conf and the vault key come
#   with the package); start both daemons with the packaged init.d scripts (no systemd
#   here: start, status, stop; their -u smarthostd makes them drop from root), with a
#   real syslog daemon (rsyslogd, Debian's rsyslog.conf, started here and stopped after)
#   whose /var/log/mail.log must receive their lines (facility mail); give the
#   machine's Postfix a minimal main.cf if it has none, `smarthostctl postfix-setup
#   --apply`, start Postfix, send one message to a fake smarthost and check relay + AUTH,
#   `--undo` and byte-compare main.cf/master.cf, stop everything, `dpkg --purge` and
#   check nothing of ours is left (the smarthostd account stays: README.Debian).
# Units: `systemd-analyze verify` (silent) and `security --offline` under a threshold; it
# runs without systemd as PID 1 (package systemd, test/install-deps.sh says why harmless).
# Upgrade: the tree is built twice, as the changelog's version V and as V+test1 (a
# changelog entry and a changed conffile made in the temporary copy only); V is installed,
# the admin edits the conffile and adds an encrypted credential to managed.conf (relay
# add-domain/add-auth, under the key the package made), the daemons run, then `apt-get install ./V+test1.deb` with
# --force-confold; the admin's files must be byte-identical afterwards, the account and
# the socket directory intact, the new files in place, and the daemons must start and answer.
#
# It changes the machine (packages, /etc/postfix, port 25 on loopback): it runs only
# with CI=true or --i-know, as root. Output is TAP; exit status 0 only if all passed.
set -uo pipefail

if [ "${CI:-}" != true ] && [ "${1:-}" != --i-know ]; then
    echo "ci-deb.sh: refusing: it installs and purges a package and edits /etc/postfix;" >&2
    echo "ci-deb.sh: run it only on a disposable machine, with CI=true or --i-know" >&2
    exit 2
fi
[ "$(id -u)" = 0 ] || { echo "ci-deb.sh: needs root" >&2; exit 2; }

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SRCDIR=$SRC PYTHON=/usr/bin/python3
. "$SRC/test/lib/tap.sh"
. "$SRC/test/lib/postfix-lab.sh"
T0=$SECONDS
PF=/etc/postfix
SPOOL=/var/spool/postfix/smarthostd
DAEMON_PIDS=()
MADE_MAINCF=0 INSTALLED=0 PF_STARTED=0 SYSLOG_PID= had_user=1
MAILLOG=/var/log/mail.log
# What rsyslogd may create with Debian's rsyslog.conf; removed after if it was not there.
RSYSLOG_FILES="/var/log/syslog /var/log/auth.log /var/log/cron.log /var/log/kern.log $MAILLOG /var/log/user.log"
RSYSLOG_NEW=

lab_init # $LAB, fake smarthosts; its EXIT trap is chained below
syslog_stop() { # the rsyslogd this run started, and the log files it made
    local f
    [ -n "$SYSLOG_PID" ] || return 0
    kill "$SYSLOG_PID" 2>/dev/null
    lab_wait_gone 10 "$SYSLOG_PID"
    SYSLOG_PID=
    for f in $RSYSLOG_NEW; do rm -f "$f"; done
}
ci_cleanup() {
    local rc=$?
    [ "$PF_STARTED" = 1 ] && postfix stop >/dev/null 2>&1
    for p in "${DAEMON_PIDS[@]}"; do kill "$p" 2>/dev/null; lab_wait_gone 10 "$p"; done
    syslog_stop
    if [ -e /var/lib/smarthostd/postfix-setup.state ] && command -v smarthostctl >/dev/null; then
        smarthostctl postfix-setup --undo >/dev/null 2>&1
    fi
    if [ "$MADE_MAINCF" = 1 ]; then
        rm -f "$PF/main.cf" "$PF"/smarthostd-ci-transport* /var/log/smarthostd-ci-maillog
    fi
    rm -f /etc/smarthostd/ci-relay.pass
    [ "$INSTALLED" = 1 ] && dpkg --purge smarthostd >/dev/null 2>&1
    if [ "$had_user" = 0 ] && getent passwd smarthostd >/dev/null; then # made by this run
        userdel smarthostd >/dev/null 2>&1; groupdel smarthostd >/dev/null 2>&1
    fi
    (exit "$rc"); lab_cleanup
}
trap ci_cleanup EXIT

# --- build (twice) and lint -------------------------------------------------------
B=$LAB/build
mkdir -p "$B/src"
tar -C "$SRC" --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . | tar -C "$B/src" -xf -
t=$SECONDS
(cd "$B/src" && dpkg-buildpackage -us -uc -b -jauto) >"$LAB/dpkg-buildpackage.log" 2>&1
rc=$?
[ $rc = 0 ] || tail -n 30 "$LAB/dpkg-buildpackage.log" | sed 's/^/# /'
is "$rc" 0 "dpkg-buildpackage -us -uc -b ($((SECONDS - t)) s)"
V1=$(cd "$B/src" && dpkg-parsechangelog -S Version)
V2=$V1+test1
ARCH=$(dpkg --print-architecture)
DEB=$B/smarthostd_${V1}_$ARCH.deb
[ -f "$DEB" ] || bail "no .deb built"
lintian --fail-on error "$B/smarthostd_${V1}_$ARCH.changes" >"$LAB/lintian.log" 2>&1
rc=$?
sed 's/^/# lintian: /' "$LAB/lintian.log" | grep -v 'root privileges'
is "$rc" 0 "lintian: no errors"
ok "lintian: no warnings either (overrides are justified in debian/)" \
    bash -c "! grep -q '^W:' '$LAB/lintian.log'"
# The newer version, for the upgrade: a changelog entry and a changed shipped config, so
# dpkg meets a conffile both sides changed (the case --force-confold decides). Only in
# this temporary copy; the unit tests already ran in the first build.
t=$SECONDS
(cd "$B/src" && DEBEMAIL=ci@smarthostd.invalid DEBFULLNAME=ci-deb.sh \
    dch -v "$V2" -D unstable --force-distribution "ci-deb.sh upgrade test build, never released." &&
    echo "# $V2: the shipped file changed" >>etc/smarthostd.conf &&
    DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b -jauto) >"$LAB/dpkg-buildpackage2.log" 2>&1
rc=$?
[ $rc = 0 ] || tail -n 30 "$LAB/dpkg-buildpackage2.log" | sed 's/^/# /'
DEB2=$B/smarthostd_${V2}_$ARCH.deb
is "$rc:$(test -f "$DEB2" && echo built)" "0:built" "the same tree as $V2, for the upgrade ($((SECONDS - t)) s)"

# --- install ------------------------------------------------------------------------
had_user=0; getent passwd smarthostd >/dev/null && had_user=1
(cd "$B" && DEBIAN_FRONTEND=noninteractive apt-get install -y "./$(basename "$DEB")") \
    >"$LAB/apt.log" 2>&1 || { tail -n 20 "$LAB/apt.log" | sed 's/^/# /'; bail "apt-get install"; }
INSTALLED=1
ok "binaries in /usr/sbin" test -x /usr/sbin/smarthostd -a -x /usr/sbin/smarthostd-milter -a -x /usr/sbin/smarthostctl
ok "the example config is a conffile" bash -c "dpkg-query -W -f='\${Conffiles}' smarthostd | grep -q /etc/smarthostd/smarthostd.conf"
ok "man pages smarthostd(8) smarthostd-milter(8) smarthostctl(8) smarthostd.conf(5)" \
    test -f /usr/share/man/man8/smarthostd.8.gz -a -f /usr/share/man/man8/smarthostd-milter.8.gz \
    -a -f /usr/share/man/man8/smarthostctl.8.gz -a -f /usr/share/man/man5/smarthostd.conf.5.gz
ok "system user smarthostd in group postfix" bash -c "id -nG smarthostd | grep -qw postfix && [ \$(id -u smarthostd) -lt 1000 ]"
is "$(stat -c '%U:%G %a' "$SPOOL")" "smarthostd:postfix 2750" "socket directory inside Postfix's chroot"
is "$(stat -c '%U:%G %a' /etc/smarthostd)" "root:smarthostd 750" "config directory group-readable by the daemons"
is "$(stat -c '%U:%G %a' /etc/smarthostd/smarthostd.conf)" "root:smarthostd 640" "config file too (managed.conf takes its group)"
ok "the shipped config is valid" smarthostctl check
ok "README.md and the conffile as shipped under /usr/share/doc/smarthostd" bash -c \
    "[ -f /usr/share/doc/smarthostd/README.md.gz ] &&
     cmp -s /usr/share/doc/smarthostd/examples/smarthostd.conf /etc/smarthostd/smarthostd.conf"

# --- first run: the first relay commands, with no other step ---------------------------
E=/etc/smarthostd
ok "the conffile includes managed.conf" grep -qx '@include "managed.conf"' $E/smarthostd.conf
is "$(stat -c '%U:%G %a' $E/managed.conf $E/vault.key 2>&1 | tr '\n' ' ')" \
    "root:smarthostd 640 root:smarthostd 640 " "postinst made managed.conf and the vault key: root:smarthostd 0640"
P_FIRST=$(lab_free_port) # only looked up, never connected to
smarthostctl relay add-domain first.example 127.0.0.1 "$P_FIRST" >"$LAB/first.out" 2>&1
rc=$?
sed 's/^/# /' "$LAB/first.out"
is "$rc" 0 "first command on the fresh install: relay add-domain"
echo first-pass-3 | smarthostctl relay add-auth first.example first-user --password-stdin >"$LAB/first.out" 2>&1
rc=$?
sed 's/^/# /' "$LAB/first.out"
is "$rc" 0 "then relay add-auth (encrypted under the package's vault key)"
ok "the route uses them" bash -c \
    "smarthostctl route a@first.example | grep -qx 'sasl_user=first-user' &&
     smarthostctl route a@first.example | grep -q '127.0.0.1\]:$P_FIRST'"
ok "no lock or temp file left in $E" bash -c "! ls $E | grep -q -e '\.lock\$' -e '\.tmp\$'"
ok "relay del-domain takes it away again" smarthostctl relay del-domain first.example

# --- the units ---------------------------------------------------------------------
# systemd-analyze reads unit files without a running systemd; verify exits 0 even for
# unknown keys or unparsable values (it only logs them), so any output is a failure.
UNITS="/lib/systemd/system/smarthostd.service /lib/systemd/system/smarthostd-milter.service"
command -v systemd-analyze >/dev/null || bail "no systemd-analyze: install systemd (test/install-deps.sh)"
systemd-analyze verify --man=no $UNITS >"$LAB/verify.log" 2>&1
rc=$?
sed 's/^/# verify: /' "$LAB/verify.log"
is "$rc:$(wc -c <"$LAB/verify.log")" "0:0" "systemd-analyze verify: both units load, no warning"
for u in $UNITS; do
    systemd-analyze security --offline=yes --threshold=20 --no-pager "$u" >"$LAB/security.log" 2>&1
    rc=$?
    ok "$(basename "$u"): $(grep -o 'exposure level.*' "$LAB/security.log" | tr -cd '[:print:]') (at most 2.0)" \
        test "$rc" = 0
    ok "$(basename "$u"): the hardening directives, with these values" bash -c \
        "u=$u; grep -qx Type=notify \$u && grep -qx User=smarthostd \$u && grep -q '^ExecStart=/usr/sbin/' \$u &&
         grep -qx 'ExecReload=/bin/kill -HUP \$MAINPID' \$u && grep -q '^RuntimeDirectory=smarthostd' \$u &&
         grep -qx ProtectSystem=strict \$u && grep -qx ProtectHome=yes \$u && grep -qx NoNewPrivileges=yes \$u &&
         grep -qx PrivateTmp=yes \$u && grep -qx 'CapabilityBoundingSet=' \$u &&
         grep -qx 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' \$u && grep -qx UMask=0027 \$u &&
         grep -qx 'SystemCallFilter=@system-service' \$u"
done

# --- the daemons, through the init.d scripts, logging to a real syslog daemon --------
ok "init.d scripts for both daemons" test -x /etc/init.d/smarthostd -a -x /etc/init.d/smarthostd-milter
# The scripts run the units' command lines without -f (the daemons detach).
for unit in smarthostd smarthostd-milter; do
    unit_cmd=$(sed -n 's/^ExecStart=//p' "/lib/systemd/system/$unit.service" | sed 's/ -f / /')
    init_cmd=$(sh -c '. "$1"; eval "echo $DAEMON $DAEMON_ARGS"' sh "/etc/init.d/$unit")
    is "$init_cmd" "$unit_cmd" "/etc/init.d/$unit runs $unit.service's ExecStart without -f"
done
command -v rsyslogd >/dev/null || bail "no rsyslogd: install rsyslog (test/install-deps.sh)"
if pgrep -x rsyslogd >/dev/null; then
    diag "rsyslogd already runs: using it"
else
    for f in $RSYSLOG_FILES; do [ -e "$f" ] || RSYSLOG_NEW+=" $f"; done
    rsyslogd -i "$LAB/rsyslogd.pid" 2>"$LAB/rsyslogd.err"
    lab_wait 10 test -s "$LAB/rsyslogd.pid" || bail "rsyslogd did not start: $(cat "$LAB/rsyslogd.err")"
    SYSLOG_PID=$(cat "$LAB/rsyslogd.pid")
fi
touch "$MAILLOG"
MAILLOG_FROM=$(($(stat -c %s "$MAILLOG") + 1))
maillog() { tail -c "+$MAILLOG_FROM" "$MAILLOG"; } # what this run added
start_daemons() { # as root, like a container would; -u in the scripts drops to smarthostd
    local unit p SU
    for unit in smarthostd smarthostd-milter; do
        timeout -k 5 30 /etc/init.d/$unit start >"$LAB/$unit.init" 2>&1
        rc=$?
        p=$(cat /run/$unit/$unit.pid 2>/dev/null)
        [ -n "$p" ] && DAEMON_PIDS+=("$p")
        [ $rc = 0 ] || { cat "$LAB/$unit.init"; echo; } | sed "s/^/# $unit: /"
        is "$rc" 0 "/etc/init.d/$unit start returns (the daemon detached)"
        ok "/etc/init.d/$unit status: running" /etc/init.d/$unit status
    done
    lab_wait 20 test -S "$SPOOL/socketmap" -a -S "$SPOOL/policy" -a -S "$SPOOL/milter" ||
        { maillog >&2; bail "daemons did not create their sockets"; }
    SU=$(id -u smarthostd)
    for p in "${DAEMON_PIDS[@]}"; do
        ok "pid $p ($(tr -d '\0' </proc/$p/comm)) runs as smarthostd (uid $SU), no capabilities" bash -c \
            "grep -qx 'Uid:	$SU	$SU	$SU	$SU' /proc/$p/status && grep -qx 'CapEff:	0000000000000000' /proc/$p/status"
    done
}
stop_daemons() {
    local unit p
    for unit in smarthostd smarthostd-milter; do
        ok "/etc/init.d/$unit stop" /etc/init.d/$unit stop
        /etc/init.d/$unit status >/dev/null 2>&1
        is "$?" 3 "/etc/init.d/$unit status: not running (3)"
    done
    for p in "${DAEMON_PIDS[@]}"; do kill "$p" 2>/dev/null; lab_wait_gone 10 "$p"; done
    DAEMON_PIDS=()
    ok "stopped daemons removed their sockets" bash -c "[ -z \"\$(ls -A '$SPOOL')\" ]"
}
# The test's relay: a fake smarthost with STARTTLS and AUTH; the password in a file as
# README.Debian says (root:smarthostd 0640, so reloads after the drop read it).
lab_cert
P_RELAY=$(lab_free_port)
lab_fake relay "$P_RELAY" --starttls "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
    --users "$(lab_users relay 'ci-user:ci-pass-42')" || bail "fake smarthost"
cp /etc/smarthostd/smarthostd.conf "$LAB/smarthostd.conf.shipped"
echo 'ci-pass-42' >/etc/smarthostd/ci-relay.pass
chown root:smarthostd /etc/smarthostd/ci-relay.pass && chmod 640 /etc/smarthostd/ci-relay.pass
cat >/etc/smarthostd/smarthostd.conf <<CONF
credentials = { ci = { user = "ci-user"; password = "file:/etc/smarthostd/ci-relay.pass"; }; };
relays = { ci = { host = "127.0.0.1"; port = $P_RELAY; credentials = "ci"; tls = "encrypt"; }; };
default_relay = "ci";
# Something for the policy service and the milter to do, so postfix-setup hooks both;
# every decision logged, so mail.log shows the policy service was asked.
log_lookups = true;
policy = { relay_guard = true; local_domains = [ ]; trusted_networks = [ "127.0.0.0/8" ]; };
milter = { add_date = true; add_message_id = true; };
CONF
ok "the test config is valid" smarthostctl check
start_daemons
is "$(stat -c '%G %a' "$SPOOL/socketmap") $(stat -c '%G' "$SPOOL/milter")" "postfix 660 postfix" \
    "sockets: group postfix, 0660"

# --- the machine's Postfix ----------------------------------------------------------
if [ ! -e "$PF/main.cf" ]; then
    # "No configuration" install: a minimal main.cf, loopback only, no DNS.
    cat >"$PF/main.cf" <<'EOF'
compatibility_level = 3.6
myhostname = ci.smarthostd.test
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
maillog_file = /var/log/smarthostd-ci-maillog
EOF
    MADE_MAINCF=1
fi
if [ "$MADE_MAINCF" = 1 ]; then
    # What an admin's main.cf already has: a hash: transport map with an entry of its own,
    # and opendkim's milter pair with its own failure mode (nothing listens on its port:
    # milter_default_action = accept lets mail pass, as opendkim's admins set it).
    P_LANE=$(lab_free_port)
    lab_fake lane "$P_LANE" || bail "fake lane server"
    echo "admin-lane.test smtp:[127.0.0.1]:$P_LANE" >"$PF/smarthostd-ci-transport"
    postmap "$PF/smarthostd-ci-transport"
    P_DKIM=$(lab_free_port) # only named, never listened on
    cat >>"$PF/main.cf" <<EOF
transport_maps = hash:$PF/smarthostd-ci-transport
smtpd_milters = inet:127.0.0.1:$P_DKIM
non_smtpd_milters = \$smtpd_milters
milter_default_action = accept
EOF
fi
cp -p "$PF/main.cf" "$LAB/main.cf.orig"
cp -p "$PF/master.cf" "$LAB/master.cf.orig"
postfix status >/dev/null 2>&1 && bail "the machine's Postfix already runs: not touching it"

smarthostctl postfix-setup --dry-run >"$LAB/dry.out" 2>&1
is "$?" 0 "postfix-setup --dry-run"
ok "--dry-run changed nothing" cmp -s "$LAB/main.cf.orig" "$PF/main.cf"
smarthostctl postfix-setup --apply >"$LAB/apply.out" 2>&1
rc=$?
sed 's/^/# /' "$LAB/apply.out"
is "$rc" 0 "postfix-setup --apply against $PF"
is "$(postconf -h sender_dependent_relayhost_maps)" "socketmap:unix:smarthostd/socketmap:relay" \
    "maps name the socket relative to the chroot"

postfix start >"$LAB/postfix-start.log" 2>&1 || { cat "$LAB/postfix-start.log" >&2; bail "postfix start"; }
PF_STARTED=1
lab_wait 20 lab_port_busy 25 || bail "postfix does not listen on 25"
swaks --server 127.0.0.1:25 --helo ci-client.test --from alice@example.com --to 'rcpt@[127.0.0.2]' \
    --header "Subject: ci-deb-one" --body "through the packaged smarthostd" --timeout 30 \
    >"$LAB/swaks.log" 2>&1 || diag "swaks failed: $(tail -n 3 "$LAB/swaks.log" | tr '\n' ' ')"
lab_wait 60 lab_fake_has ci-deb-one || diag "the fake smarthost saw nothing within 60 s"
is "$(lab_fake_find ci-deb-one)" "relay	$P_RELAY	alice@example.com	ci-user	ci-pass-42	yes" \
    "relayed by the machine's Postfix (chrooted smtp) to the smarthost, AUTH over STARTTLS"
ok "$MAILLOG: smarthostd's lines (syslog facility mail)" \
    lab_wait 10 bash -c "tail -c +$MAILLOG_FROM $MAILLOG | grep -q ' smarthostd\\[[0-9]*\\]: '"
ok "$MAILLOG: smarthostd-milter's lines" \
    bash -c "tail -c +$MAILLOG_FROM $MAILLOG | grep -q ' smarthostd-milter\\[[0-9]*\\]: '"
ok "$MAILLOG: no doubled program prefix" \
    bash -c "! tail -c +$MAILLOG_FROM $MAILLOG | grep -q ']: smarthostd\\(-milter\\)\\?: '"
ok "$MAILLOG: the policy service was consulted for the sender" \
    bash -c "tail -c +$MAILLOG_FROM $MAILLOG | grep ' smarthostd\\[' | grep -i policy | grep -q 'alice@example.com'"
ok "no password in $MAILLOG" bash -c "! tail -c +$MAILLOG_FROM $MAILLOG | grep -q ci-pass-42"
if [ "$MADE_MAINCF" = 1 ]; then
    is "$(postconf -xh smtpd_milters | grep -o smarthostd | wc -l) $(postconf -xh non_smtpd_milters | grep -o smarthostd | wc -l)" \
        "1 1" "our milter appears once in smtpd_milters and once in the admin's \$smtpd_milters copy"
    is "$(postconf -h milter_default_action)" accept "the other milter's default action is unchanged"
    swaks --server 127.0.0.1:25 --helo ci-client.test --from alice@example.com \
        --to rcpt@admin-lane.test --header "Subject: ci-deb-lane" --body "admin transport" \
        --timeout 30 >"$LAB/swaks-lane.log" 2>&1 || diag "swaks failed: $(tail -n 3 "$LAB/swaks-lane.log")"
    lab_wait 60 lab_fake_has ci-deb-lane || diag "the admin's lane saw nothing within 60 s"
    is "$(lab_fake_find ci-deb-lane | cut -f1,2)" "lane	$P_LANE" \
        "the admin's transport_maps entry still routes after --apply"
fi
/etc/init.d/smarthostd reload >/dev/null 2>&1
ok "init.d reload (SIGHUP) after the drop reloads (config and password file group-readable)" \
    lab_wait 10 bash -c "tail -c +$MAILLOG_FROM $MAILLOG | grep -q 'reloaded configuration'"
postfix stop >/dev/null 2>&1
lab_wait 20 bash -c '! postfix status >/dev/null 2>&1'
PF_STARTED=0

smarthostctl postfix-setup --undo >"$LAB/undo.out" 2>&1
is "$?" 0 "postfix-setup --undo"
ok "main.cf byte-identical to the original" cmp "$LAB/main.cf.orig" "$PF/main.cf"
ok "master.cf byte-identical to the original" cmp "$LAB/master.cf.orig" "$PF/master.cf"

# --- an admin's state, then the upgrade to V+test1 -----------------------------------
# As an admin would: the conffile edited (the relay above, plus the include), a vault key
# and an encrypted credential in managed.conf; the running smarthostd reloads each change.
# From / on purpose: the verbs must not depend on the working directory.
echo '@include "managed.conf"' >>$E/smarthostd.conf
ok "key init refuses: the package made the key, it is never replaced" bash -c \
    "cd / && ! smarthostctl key init >/dev/null 2>&1"
P_UP=$(lab_free_port) # only looked up below, never connected to
ok "relay add-domain: accepted by both running daemons" bash -c \
    "cd / && smarthostctl relay add-domain upgrade.example 127.0.0.1 $P_UP >$LAB/add.out &&
     grep -q 'smarthostd pid .* accepted' $LAB/add.out && grep -q 'smarthostd-milter pid .* accepted' $LAB/add.out"
ok "relay add-auth (encrypted in managed.conf): accepted by the running daemon" bash -c \
    "cd / && echo up-pass-7 | smarthostctl relay add-auth upgrade.example up-user --password-stdin | grep -q accepted"
is "$(stat -c '%U:%G %a' $E/managed.conf $E/vault.key | tr '\n' ' ')" "root:smarthostd 640 root:smarthostd 640 " \
    "managed.conf and vault.key: root:smarthostd 0640"
SMQ=socketmap:unix:$SPOOL/socketmap
is "$(postmap -q a@upgrade.example "$SMQ:sasl")" "up-user:up-pass-7" "smarthostd decrypts it (socketmap sasl)"
admin_state() { # contents, owners and modes of what must survive; the account; the spool
    sha256sum $E/smarthostd.conf $E/managed.conf $E/vault.key $E/ci-relay.pass
    stat -c '%n %U:%G %a' $E $E/smarthostd.conf $E/managed.conf $E/vault.key "$SPOOL" /var/lib/smarthostd
    id smarthostd; getent group smarthostd
}
admin_state >"$LAB/state.before"
ino_before=$(stat -c %i /usr/sbin/smarthostd /usr/sbin/smarthostd-milter /usr/sbin/smarthostctl)
t=$SECONDS
(cd "$B" && DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confold \
    "./$(basename "$DEB2")") >"$LAB/upgrade.log" 2>&1
rc=$?
[ $rc = 0 ] || tail -n 20 "$LAB/upgrade.log" | sed 's/^/# /'
is "$rc" 0 "apt-get install ./$(basename "$DEB2") over $V1, --force-confold ($((SECONDS - t)) s)"
is "$(dpkg-query -W -f='${Version} ${db:Status-Abbrev}' smarthostd)" "$V2 ii " "dpkg: $V2 installed"
admin_state >"$LAB/state.after"
ok "conffile edit, managed.conf, vault key: byte-identical; owners, modes, account, spool intact" \
    diff -u "$LAB/state.before" "$LAB/state.after"
ok "the package's new conffile waits beside it as .dpkg-dist" \
    grep -qx "# $V2: the shipped file changed" $E/smarthostd.conf.dpkg-dist
ok "the admin's conffile is the only file differing from the package (dpkg --verify)" bash -c \
    "[ \"\$(dpkg --verify smarthostd | awk '{print \$NF}')\" = $E/smarthostd.conf ]"
mkdir "$LAB/new" && dpkg-deb -x "$DEB2" "$LAB/new"
ok "new binaries in place: replaced files (new inodes), identical to the $V2 package's" bash -c \
    "[ \"\$(stat -c %i /usr/sbin/smarthostd /usr/sbin/smarthostd-milter /usr/sbin/smarthostctl)\" != '$ino_before' ] &&
     for f in smarthostd smarthostd-milter smarthostctl; do cmp -s /usr/sbin/\$f '$LAB/new/usr/sbin/'\$f || exit 1; done"
ok "changelog of $V2 installed" bash -c "zcat /usr/share/doc/smarthostd/changelog.gz | head -n 1 | grep -qF '($V2)'"
ok "the upgrade restarted no daemon here (policy-rc.d, no systemd): the old ones still run" \
    bash -c "kill -0 ${DAEMON_PIDS[*]}"
stop_daemons
start_daemons
smarthostctl postfix-setup --dry-run >"$LAB/dry2.out" 2>&1
is "$(grep -c ': answering$' "$LAB/dry2.out")" 3 "after the upgrade: socketmap, policy and milter answer"
is "$(postmap -q a@upgrade.example "$SMQ:sasl")" "up-user:up-pass-7" \
    "after the upgrade: managed.conf and the vault key read after the drop (socketmap sasl)"
is "$(postmap -q a@upgrade.example "$SMQ:relay")" "[127.0.0.1]:$P_UP" "after the upgrade: the managed relay routes"

# --- stop, purge --------------------------------------------------------------------
stop_daemons
syslog_stop
rm -f /etc/smarthostd/ci-relay.pass
if [ "$MADE_MAINCF" = 1 ]; then rm -f "$PF/main.cf" /var/log/smarthostd-ci-maillog; MADE_MAINCF=0; fi
dpkg --purge smarthostd >"$LAB/purge.log" 2>&1
is "$?" 0 "dpkg --purge smarthostd"
INSTALLED=0
left=$(ls -d /etc/smarthostd "$SPOOL" /var/lib/smarthostd /run/smarthostd /run/smarthostd-milter \
    /usr/sbin/smarthostd /usr/sbin/smarthostd-milter /usr/sbin/smarthostctl \
    /lib/systemd/system/smarthostd*.service /usr/lib/tmpfiles.d/smarthostd.conf \
    /usr/share/man/man8/smarthost* /usr/share/man/man5/smarthostd* /usr/share/doc/smarthostd 2>/dev/null)
is "$left" "" "nothing of ours left after purge (files, sockets, state)"
ok "no process of ours left" bash -c "! pgrep -u smarthostd >/dev/null"
is "$(find /etc /var /run /usr -xdev -user smarthostd 2>/dev/null | head -n 5)" "" "no file owned by smarthostd left"
ok "the smarthostd account stays (Debian consensus: never delete system users; README.Debian)" \
    getent passwd smarthostd
if [ "$had_user" = 0 ]; then
    # The test's own cleanup, not the package's: leave the machine as this run found it.
    userdel smarthostd >/dev/null 2>&1; groupdel smarthostd >/dev/null 2>&1
    diag "removed the smarthostd account this run created (test cleanup)"
    had_user=1
fi
diag "ci-deb.sh took $((SECONDS - T0)) s"
tap_done
