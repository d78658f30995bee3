#!/bin/bash
# install-deps.sh - the ONE list of Debian 12 packages to build smarthostd and run every test.
# Idempotent: safe to run again; installs only what is missing. Needs root.
set -euo pipefail

PACKAGES=(
    # build
    meson ninja-build pkg-config gcc libc6-dev libconfig-dev libssl-dev libmilter-dev
    libhiredis-dev libpcre2-dev libsystemd-dev libidn2-dev
    # the real Postfix the e2e tests and the demo start (private instances only)
    postfix postfix-doc postfix-lmdb
    # test peers and tools
    openssl miltertest swaks python3 python3-aiosmtpd postfwd sasl2-bin libsasl2-modules
    redis-server ca-certificates procps iproute2
    # /usr/bin/time (attack-report-caps measures the peak RSS of report with it)
    time
    # promtool (checks the Prometheus text smarthostctl report --prometheus writes)
    prometheus
    # the format check (.ci/format-check): clang-format 14 on Debian 12
    clang-format
    # the Debian package (test/deb/ci-deb.sh: dpkg-buildpackage, lintian)
    debhelper devscripts lintian dpkg-dev fakeroot adduser
    # a real syslog daemon: ci-deb.sh starts rsyslogd itself (no systemd) and checks that
    # the packaged daemons' lines reach /var/log/mail.log (facility mail)
    rsyslog
    # its units: systemd-analyze verify/security. Harmless without systemd as PID 1: its
    # maintainer scripts start or restart nothing unless /run/systemd/system exists, and
    # PID 1 stays whatever booted (init comes from systemd-sysv, which this does not pull in)
    systemd
)

if [ "$(id -u)" != 0 ]; then
    echo "install-deps.sh: run as root (sudo bash test/install-deps.sh)" >&2
    exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps.sh: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks a question on install; "No configuration" writes no /etc/postfix/main.cf and
# starts nothing: the tests run their own private instances.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
