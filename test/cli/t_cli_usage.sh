#!/bin/bash
# t_cli_usage.sh - smarthostctl's command line: --help and --version, exit statuses,
# the nearest verb for a typo, relay arguments checked with a useful answer, route
# refusing what is not an address, and verbs taking a domain where they take a relay.
. "$SRCDIR/test/lib/tap.sh"
C=$SMARTHOSTCTL
T=$(mktemp -d /tmp/t_cli_usage.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || bail "no temp dir"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_free_port
unset RELAY_HOST RELAY_PORT DEFAULT_RELAY_HOST RELAY_USER RELAY_PASSWORD
export SMARTHOSTD_PIDFILE=$T/none.pid SMARTHOSTD_MILTER_PIDFILE=$T/none-milter.pid
printf 'vault_key = "%s/vault.key";\n@include "managed.conf"\n' "$T" > main.conf

# run ARGS...: stdout in $out, stderr in $err, status in $rc
run() { "$C" "$@" >o 2>e; rc=$?; out=$(cat o); err=$(cat e); }

run --help
is "$rc" 0 "--help: exit 0"
ok "--help: usage on stdout, nothing on stderr" bash -c "grep -q '^usage: smarthostctl' o && ! test -s e"
ok "--help: documents the exit statuses" grep -q '2 usage error' o
version=$(sed -n "s/^ *version : '\([^']*\)'.*/\1/p" "$SRCDIR/meson.build" | head -1)
run --version
is "$rc:$out" "0:smarthostctl $version" "--version: the meson project version, exit 0"
run relay --help
ok "VERB --help: the verb's usage on stdout, exit 0" bash -c "[ $rc = 0 ] && grep -q 'relay add-domain' o"
run -c main.conf
is "$rc" 2 "no verb: usage error"

# A mistyped verb or sub-verb: the bad word named, the nearest known one suggested.
run -c main.conf rely list
is "$rc:$err" '2:smarthostctl: unknown verb "rely": did you mean "relay"?
(smarthostctl --help lists them all)' "typo in the verb"
run -c main.conf relay add-domian a.example 192.0.2.1
is "$rc:$err" '2:smarthostctl: unknown relay verb "add-domian": did you mean "add-domain"?' \
    "typo in a relay verb"
run -c main.conf key rotat
ok "typo in a key verb" bash -c "[ $rc = 2 ] && grep -q 'did you mean \"rotate\"' e"
run -c main.conf import dsm /tmp
ok "typo in an import source" bash -c "[ $rc = 2 ] && grep -q 'did you mean \"dms\"' e"
run -c main.conf relay frobnicate
ok "no near verb: the known ones listed" bash -c \
    "[ $rc = 2 ] && grep -q 'unknown relay verb \"frobnicate\"; known: add-domain add-auth' e"
run -c main.conf relay add-domain a.example 192.0.2.1 25 --bogus
ok "unknown option: named, usage error" bash -c "[ $rc = 2 ] && grep -q -- '--bogus' e"

# relay arguments: checked before anything is touched.
run -c main.conf relay add-domain d.example host.example:587
ok "HOST:PORT: told to give the port as its own argument" bash -c \
    "[ $rc = 2 ] && grep -q 'give the port as its own argument' e && ! grep -qi ipv6 e"
run -c main.conf relay add-domain d.example '[host.example]:587'
ok "[HOST]:PORT: the same advice" bash -c "[ $rc = 2 ] && grep -q 'give the port as its own argument' e"
ok "refused arguments wrote nothing" test ! -e managed.conf
run -c main.conf relay add-domain d.example 192.0.2.1 99999
ok "bad port: usage error naming the port" bash -c "[ $rc = 2 ] && grep -q 'port \"99999\"' e"
run -c main.conf relay add-domain d.example 2001:db8::1
is "$rc" 0 "a bare IPv6 address is still a host, not HOST:PORT"
run -c main.conf relay add-domain nx.example no-such-host.invalid 587
is "$rc" 0 "an unresolvable host is saved (exit 0)"
ok "an unresolvable host is warned about, with the probe to run" bash -c \
    "grep -q 'warning: host \"no-such-host.invalid\" does not resolve' e && grep -q 'smarthostctl probe nx.example' e"
run -c main.conf relay add-domain ip.example 192.0.2.9 587
ok "an IP address is not looked up: no warning" bash -c "[ $rc = 0 ] && ! grep -q warning e"

# route: what is not an address is refused.
run -c main.conf route 'not an address'
ok "route 'not an address': exit 2, says why" bash -c "[ $rc = 2 ] && grep -q 'sender \"not an address\": not an address' e && ! test -s o"
run -c main.conf route a@ip.example 'not an address'
ok "route with a bad recipient: exit 2" bash -c "[ $rc = 2 ] && grep -q 'recipient' e"
run -c main.conf route a@
is "$rc" 2 "route a@: exit 2"
run -c main.conf route '<>'
is "$rc" 0 "route <>: the null sender is fine"
run -c main.conf route A@IP.Example.
ok "route with a trailing dot: fine" bash -c "[ $rc = 0 ] && grep -q '^relay=\[192.0.2.9\]:587' o"

# A verb that takes a relay takes the domain too; errors list the known relays.
PORT=$(lab_free_port) # nothing listens there
"$C" -c main.conf relay add-domain ux.example 127.0.0.1 "$PORT" >/dev/null 2>&1 || bail "add-domain"
run -c main.conf probe ux.example
ok "probe DOMAIN probes the relay the CLI made for it" bash -c \
    "grep -q '^probe     relay r_127_0_0_1_$PORT \[127.0.0.1\]:$PORT' o && grep -q '^connect .*FAILED' o"
is "$rc" 1 "probe of a relay that does not answer: exit 1"
run -c main.conf probe @UX.example
ok "probe @DOMAIN, any case" grep -q "relay r_127_0_0_1_$PORT" o
run -c main.conf probe r_127_0_0_1_$PORT
ok "probe RELAY still works" grep -q "relay r_127_0_0_1_$PORT" o
run -c main.conf probe nosuch.example
ok "probe of an unknown name: exit 2, the known relays listed" bash -c \
    "[ $rc = 2 ] && grep -q 'no relay named \"nosuch.example\"' e && grep -q 'known relays:.* r_127_0_0_1_$PORT' e"
run -c main.conf relay set-tls nosuch.example verify
ok "set-tls of an unknown name lists the managed relays" bash -c \
    "[ $rc = 1 ] && grep -q 'managed relays:.* r_127_0_0_1_$PORT' e"
run -c main.conf relay set-tls ux.example verify
is "$rc" 0 "set-tls DOMAIN"
tap_done
