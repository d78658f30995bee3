#!/bin/bash
# t_units.sh - the packaged systemd units: AF_NETLINK allowed (the peer-uid check of
# loopback TCP clients asks sock_diag, and fails closed without it), an explicit UMask=,
# ExecReload sending the signal the daemons reload on (SIGHUP: core/lifecycle.c), and
# systemd-analyze verify where it can run (it needs systemd as PID 1).
set -u
. "$SRCDIR/test/lib/tap.sh"
D=$SRCDIR/debian
for u in smarthostd.service smarthostd.smarthostd-milter.service; do
    f=$D/$u
    ok "$u: RestrictAddressFamilies has AF_NETLINK" \
        grep -Eq '^RestrictAddressFamilies=.*\bAF_NETLINK\b' "$f"
    ok "$u: UMask= set" grep -Eq '^UMask=0[0-7]{3}$' "$f"
    ok "$u: ExecReload sends SIGHUP" grep -Eq '^ExecReload=/bin/kill -HUP \$MAINPID$' "$f"
done
ok "the daemons reload on SIGHUP (lifecycle)" grep -q 'if (sig == SIGHUP)' "$SRCDIR/policy/core/lifecycle.c"
if command -v systemd-analyze >/dev/null && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    for u in smarthostd.service smarthostd.smarthostd-milter.service; do
        ok "$u: systemd-analyze verify" systemd-analyze verify "$D/$u"
    done
else
    TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP systemd-analyze verify: no systemd as PID 1"
fi
tap_done
