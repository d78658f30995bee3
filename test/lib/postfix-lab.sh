# postfix-lab.sh - a throwaway Postfix (plus fake smarthosts and smarthostd) on loopback.
#
# Source it from bash, then:
#   lab_require_postfix [CMD...]   TAP skip unless root with Postfix and each CMD installed
#                                  (tap.sh first)
#   lab_init                       temp dir $LAB, EXIT trap that stops and removes everything
#   lab_start LOG CMD...           run CMD in the background, output to $LAB/LOG; stopped at exit
#   lab_daemon NAME PORT CMD...    lab_start NAME.log CMD..., wait until it listens on PORT
#   port=$(lab_free_port [PREF])   a free loopback port (PREF if free), never handed out twice
#   lab_cert                       self-signed $LAB/cert.pem + $LAB/key.pem (CN=localhost)
#   lab_fake NAME PORT [args]      start test/lib/fake_smarthost.py, records in $LAB/fake.jsonl
#   lab_smarthostd CONF PORT [ENV=V..] [-- OPTS]  start $SMARTHOSTD -f on inet:127.0.0.1:PORT, wait until it answers
#   lab_auth_relay USER PASS       fake "relay" (STARTTLS + AUTH) on $P_RELAY and $LAB/smarthostd.conf
#                                  making it the default relay (password in a 0600 file)
#   lab_postfix_init SMTPD_PORT    config in $LAB/etc: queue/data dirs, maillog, chroot n everywhere
#   lab_postfix_hookup PORT        the smarthostd socketmap lines + the smarthost and
#                                  smarthost-smtps transports
#   lab_postfix_policy PORT        smtpd asks the policy service on PORT at RCPT and end of data
#   lab_postfix_milter PORT        the milter on PORT for smtpd and sendmail(1), tempfail on trouble
#   lab_postfix_start / lab_postfix_stop
#   lab_send FROM TO [SUBJECT]     submit one message through the lab's smtpd (swaks)
#   lab_wait SECONDS CMD...        poll CMD until it succeeds or SECONDS pass
#   lab_backdate FILE...           date a just-written main.cf an hour back (see below)
#   lab_fake_count / lab_fake_find SUBJECT / lab_maillog_status SUBJECT
#
# Facts behind the choices: /work/shared/POSTFIX-LAB.md (verified on Debian 12, Postfix 3.7).
# Nothing here touches /etc/postfix or the host's Postfix; only loopback addresses are used.

LAB_PY=${PYTHON:-/usr/bin/python3}
LAB_SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LAB_FAKE=$LAB_SRCDIR/test/lib/fake_smarthost.py
LAB_PIDS=()
LAB_POSTFIX_UP=0

lab_log() { printf '# %s\n' "$*" >&2; }

lab_require_postfix() {
    [ "$(id -u)" = 0 ] || tap_skip_all "needs root"
    local cmd
    for cmd in postfix "$@"; do
        command -v "$cmd" >/dev/null || tap_skip_all "$cmd not installed"
    done
}

lab_init() {
    LAB=$(mktemp -d "${TMPDIR:-/tmp}/smarthostd-lab.XXXXXX")
    chmod 755 "$LAB"            # postfix daemons must traverse it
    : >"$LAB/fake.jsonl"
    chmod 644 "$LAB/fake.jsonl"
    trap lab_cleanup EXIT
    trap 'exit 130' INT TERM HUP
}

lab_cleanup() {
    local rc=$?
    if [ "$LAB_POSTFIX_UP" = 1 ]; then lab_postfix_stop; fi
    local pid
    for pid in "${LAB_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${LAB_PIDS[@]}"; do lab_wait_gone 5 "$pid"; done
    if [ -n "${LAB:-}" ] && [ -d "$LAB" ]; then
        if [ "$rc" != 0 ] || [ -n "${LAB_KEEP:-}" ]; then
            if [ -f "$LAB/maillog" ]; then
                lab_log "--- maillog (last 40 lines) ---"
                tail -n 40 "$LAB/maillog" | sed 's/^/# /' >&2
            fi
            if [ -s "$LAB/smarthostd.log" ]; then
                lab_log "--- smarthostd.log (last 20 lines) ---"
                tail -n 20 "$LAB/smarthostd.log" | sed 's/^/# /' >&2
            fi
        fi
        if [ -n "${LAB_KEEP:-}" ]; then lab_log "kept $LAB"; else rm -rf "$LAB"; fi
    fi
    return "$rc"
}

# lab_wait SECONDS CMD... : poll every 0.2 s; status 0 as soon as CMD succeeds, 1 on timeout.
lab_wait() {
    local secs=$1; shift
    local deadline=$((SECONDS + secs))
    while :; do
        if "$@"; then return 0; fi
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

lab_wait_gone() {
    local secs=$1 pid=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

# Any TCP socket on the port, listening or connected: a busy client port blocks bind() too.
lab_port_busy() { ss -Htan "( sport = :$1 )" 2>/dev/null | grep -q .; }

# A free loopback port below the kernel's ephemeral range (where Postfix, smarthostd and the
# load tests get their client ports), from a random start. Each port handed out is reserved
# with an atomic mkdir, so neither two calls (even from $(...) subshells) nor two tests running
# in parallel get the same one; a reservation expires after 10 minutes.
LAB_PORT_DIR=${TMPDIR:-/tmp}/smarthostd-test-ports
lab_free_port() {
    local lo=10000 hi p i eph want=${1:-}
    read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=32768
    hi=$((eph > lo + 2000 ? eph - 1 : 65535))
    [ "$hi" = 65535 ] && lo=61000
    mkdir -p "$LAB_PORT_DIR"
    find "$LAB_PORT_DIR" -mindepth 1 -maxdepth 1 -mmin +10 -exec rmdir {} + 2>/dev/null
    for ((i = 0; i < 200; i++)); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
        [ "$i" = 0 ] && [ -n "$want" ] && p=$want
        lab_port_busy "$p" && continue
        mkdir "$LAB_PORT_DIR/$p" 2>/dev/null || continue
        echo "$p"
        return 0
    done
    echo "lab_free_port: no free port found" >&2
    return 1
}

lab_cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 2 \
        -keyout "$LAB/key.pem" -out "$LAB/cert.pem" 2>/dev/null
    chmod 600 "$LAB/key.pem"
}

# lab_fake NAME PORT [fake_smarthost.py options]: start it and wait until it listens.
lab_fake() {
    local name=$1 port=$2; shift 2
    local ready=$LAB/fake-$name.ready
    "$LAB_PY" "$LAB_FAKE" --name "$name" --port "$port" --log "$LAB/fake.jsonl" \
        --ready "$ready" "$@" 2>>"$LAB/fake-$name.err" &
    LAB_PIDS+=("$!")
    if ! lab_wait 15 test -s "$ready"; then
        echo "fake smarthost $name did not start:" >&2
        cat "$LAB/fake-$name.err" >&2
        return 1
    fi
}

# lab_users NAME user:password... : a users file for lab_fake --users (passwords stay off argv
# of the fake; the test's own argv is a throwaway fixture).
lab_users() {
    local f=$LAB/users-$1; shift
    printf '%s\n' "$@" >"$f"
    chmod 600 "$f"
    echo "$f"
}

# lab_backdate FILE...: date each FILE an hour back. Postfix programs (postconf, postmap,
# postfix) read a main.cf, master.cf or texthash: file again and again, 0.3 s apart, until its
# mtime is more than a second older than the read: about 2 s for every first call after a
# write. A test writes its files whole before it calls them, so they may look old at once.
lab_backdate() {
    touch -d '1 hour ago' "$@"
}

# An empty main.cf for postmap -c (no /etc/postfix/main.cf on a fresh install), made once.
lab_postmap_dir() {
    if [ ! -f "$LAB/postmap/main.cf" ]; then
        mkdir -p "$LAB/postmap"
        : >"$LAB/postmap/main.cf"
        lab_backdate "$LAB/postmap/main.cf"
    fi
    echo "$LAB/postmap"
}

# lab_query PORT MAP KEY: Postfix's own socketmap client.
lab_query() {
    postmap -c "$(lab_postmap_dir)" -q "$3" "socketmap:inet:127.0.0.1:$1:$2"
}

# lab_start LOG CMD...: CMD in the background, stdout and stderr appended to $LAB/LOG; its pid
# in LAB_PID, and lab_cleanup stops it.
lab_start() {
    local log=$1; shift
    "$@" >>"$LAB/$log" 2>&1 &
    LAB_PID=$!
    LAB_PIDS+=("$LAB_PID")
}

# lab_daemon NAME PORT CMD...: lab_start NAME.log CMD..., then wait until something listens on
# 127.0.0.1:PORT; after 15 s without, its log goes to stderr and the status is 1.
lab_daemon() {
    local name=$1 port=$2; shift 2
    lab_start "$name.log" "$@"
    if ! lab_wait 15 lab_port_busy "$port"; then
        echo "$name did not start:" >&2
        cat "$LAB/$name.log" >&2
        return 1
    fi
}

# lab_smarthostd CONF PORT [env assignments...] [-- daemon options...]: start the daemon in
# the foreground (stderr to $LAB/smarthostd.log) and wait until it answers a socketmap query.
lab_smarthostd() {
    local conf=$1 port=$2 envs=(); shift 2
    : "${SMARTHOSTD:?SMARTHOSTD must point at the smarthostd binary}"
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ $# -gt 0 ] && shift # the rest are the daemon's own options
    lab_daemon smarthostd "$port" env "${envs[@]}" "$SMARTHOSTD" -f -c "$conf" \
        --socketmap "inet:127.0.0.1:$port" "$@"
    local rc=$?
    SMARTHOSTD_PID=$LAB_PID
    return "$rc"
}

lab_auth_relay() {
    local user=$1 pass=$2
    [ -f "$LAB/cert.pem" ] || lab_cert
    P_RELAY=$(lab_free_port) || return 1
    lab_fake relay "$P_RELAY" --starttls "$LAB/cert.pem" "$LAB/key.pem" --require-auth \
        --users "$(lab_users relay "$user:$pass")" || return 1
    (umask 077 && echo "$pass" >"$LAB/relay.pass")
    cat >"$LAB/smarthostd.conf" <<CONF
credentials = { relay = { user = "$user"; password = "file:$LAB/relay.pass"; }; };
relays = { relay = { host = "127.0.0.1"; port = $P_RELAY; credentials = "relay"; }; };
default_relay = "relay";
CONF
}

# lab_postconf ARGS...: postconf on the lab's config, dated back first (the test or the
# program under test may have just written it).
lab_postconf() {
    lab_backdate "$LAB/etc/main.cf" "$LAB/etc/master.cf"
    postconf -c "$LAB/etc" "$@"
}

# lab_postfix_init SMTPD_PORT: a private instance; smtpd on 127.0.0.1:SMTPD_PORT.
lab_postfix_init() {
    LAB_SMTPD_PORT=$1
    mkdir -p "$LAB/etc" "$LAB/queue" "$LAB/data"
    chown postfix "$LAB/data"
    : >"$LAB/maillog"
    cat >"$LAB/etc/main.cf" <<EOF
# throwaway lab instance ($LAB)
compatibility_level = 3.6
queue_directory = $LAB/queue
data_directory = $LAB/data
maillog_file = $LAB/maillog
maillog_file_prefixes = $LAB
myhostname = lab.smarthostd.test
mydomain = smarthostd.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject
smtp_dns_support_level = disabled
smtp_connect_timeout = 5s
smtp_helo_timeout = 20s
biff = no
delay_warning_time = 0
minimal_backoff_time = 30s
maximal_backoff_time = 60s
queue_run_delay = 30s
smtputf8_enable = no
EOF
    # Our own master.cf (Debian's services, nothing chrooted, smtpd on a loopback port).
    cat >"$LAB/etc/master.cf" <<EOF
127.0.0.1:$LAB_SMTPD_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# lab_postfix_hookup PORT: route through smarthostd's socketmap on 127.0.0.1:PORT
# (the lines README.md documents and `smarthostctl postfix-conf` prints).
lab_postfix_hookup() {
    local m="socketmap:inet:127.0.0.1:$1"
    lab_postconf -e \
        "relayhost =" \
        "sender_dependent_relayhost_maps = $m:relay" \
        "sender_dependent_default_transport_maps = $m:sender_transport" \
        "smtp_sasl_auth_enable = yes" \
        "smtp_sender_dependent_authentication = no" \
        "smtp_sasl_password_maps = $m:sasl" \
        "smtp_sasl_security_options = noanonymous, noplaintext" \
        "smtp_sasl_tls_security_options = noanonymous" \
        "smtp_tls_policy_maps = $m:tls" \
        "transport_maps = $m:transport" \
        "smtp_tls_security_level = may"
    lab_master_smtps
}

# lab_postfix_policy PORT: smtpd asks the policy service on 127.0.0.1:PORT at RCPT and at end
# of data, any number of requests a connection.
lab_postfix_policy() {
    local pol="check_policy_service inet:127.0.0.1:$1"
    lab_postconf -e "smtpd_recipient_restrictions = $pol" \
        "smtpd_end_of_data_restrictions = $pol" "smtpd_policy_service_request_limit = 0"
}

# lab_postfix_milter PORT: the milter on 127.0.0.1:PORT for smtpd and for sendmail(1)
# submissions; mail is tempfailed while it cannot be reached.
lab_postfix_milter() {
    lab_postconf -e "smtpd_milters = inet:127.0.0.1:$1" "non_smtpd_milters = inet:127.0.0.1:$1" \
        "milter_default_action = tempfail"
}

lab_master_smtps() {
    grep -q '^smarthost-smtps ' "$LAB/etc/master.cf" && return 0
    cat >>"$LAB/etc/master.cf" <<'EOF'
smarthost unix - - n - - smtp
  -o smtp_sender_dependent_authentication=yes
  -o smtp_fallback_relay=
smarthost-smtps unix - - n - - smtp
  -o smtp_tls_wrappermode=yes
  -o smtp_tls_security_level=encrypt
  -o smtp_sender_dependent_authentication=yes
  -o smtp_fallback_relay=
EOF
}

lab_postfix_start() {
    lab_backdate "$LAB/etc/main.cf" "$LAB/etc/master.cf"
    if ! postfix -c "$LAB/etc" start >"$LAB/postfix-start.log" 2>&1; then
        cat "$LAB/postfix-start.log" >&2
        return 1
    fi
    LAB_POSTFIX_UP=1
    if ! lab_wait 20 lab_port_busy "$LAB_SMTPD_PORT"; then
        echo "postfix smtpd did not listen on $LAB_SMTPD_PORT" >&2
        return 1
    fi
}

lab_postfix_stop() {
    postfix -c "$LAB/etc" stop >/dev/null 2>&1 || true
    # master exits within a few seconds; wait so the queue dir can be removed
    local pidf=$LAB/queue/pid/master.pid pid
    if [ -f "$pidf" ]; then
        pid=$(tr -dc 0-9 <"$pidf")
        [ -n "$pid" ] && lab_wait_gone 10 "$pid"
    fi
    LAB_POSTFIX_UP=0
}

lab_flush() { postqueue -c "$LAB/etc" -f 2>/dev/null || true; }

# lab_send FROM TO [SUBJECT] [extra swaks args...]
lab_send() {
    local from=$1 to=$2 subject=${3:-"lab $1 -> $2"}
    shift 2; [ $# -gt 0 ] && shift
    swaks --server "127.0.0.1:$LAB_SMTPD_PORT" --helo lab-client.test \
        --from "$from" --to "$to" --header "Subject: $subject" \
        --body "lab message: $subject" --timeout 20 "$@" >>"$LAB/swaks.log" 2>&1
}

# --- reading results ---------------------------------------------------------------

# Records (JSON lines) of one event kind with a given Subject, as TSV:
# name port mail_from auth_user auth_password tls
lab_fake_find() {
    "$LAB_PY" - "$LAB/fake.jsonl" "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("event") == "message" and r.get("subject") == sys.argv[2]:
        print("\t".join(str(r.get(k) if r.get(k) is not None else "-")
                        for k in ("name", "port", "mail_from", "auth_user", "auth_password", "tls")))
EOF
}

lab_fake_has() { [ -n "$(lab_fake_find "$1")" ]; }

# Status lines in the maillog for the message with this Subject (via its queue id).
lab_maillog_status() {
    local qid
    qid=$(lab_maillog_qid "$1") || return 1
    grep -E "[: ]$qid: to=<[^>]*>,.* status=" "$LAB/maillog"
}

lab_maillog_qid() {
    # The maillog never shows the Subject; swaks.log has it and smtpd's "queued as QID".
    local subject=$1
    awk -v s="$subject" '
        { sub(/\r$/, "") }
        /^=== Trying/ { want = 0 }
        $0 ~ /^ -> Subject: / && substr($0, 14) == s { want = 1 }
        want && /queued as/ { sub(/.*queued as /, ""); print; exit }
    ' "$LAB/swaks.log" | tr -dc 'A-Za-z0-9'
}

lab_has_status() { lab_maillog_status "$1" >/dev/null 2>&1; }
