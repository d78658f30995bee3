#!/bin/bash
# t_probe_hostile.sh - smarthostctl probe against a hostile loopback SMTP server
# (test/lib/hostile_smtp.py): the probe must fail wherever Postfix's smtp(8) would defer
# (fingerprint pins, tls_match names, CA trust, expired and self-signed certificates,
# plaintext injected before the TLS handshake, malformed AUTH replies, AUTH or STARTTLS
# withheld) and pass where smtp(8) would deliver (long reply lines, the right pins).
. "$SRCDIR/test/lib/tap.sh"
C=$SMARTHOSTCTL
HOSTILE=$SRCDIR/test/lib/hostile_smtp.py
command -v openssl >/dev/null || tap_skip_all "no openssl"
command -v postconf >/dev/null || tap_skip_all "no postconf (Postfix) to read smtp_tls_* from"
T=$(mktemp -d /tmp/t_probe_hostile.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || bail "no temp dir"
. "$SRCDIR/test/lib/postfix-lab.sh" # lab_free_port

# A test CA; a leaf it signed for 127.0.0.1 and mail.example; the same expired (2020);
# a self-signed one.
q() { "$@" >/dev/null 2>&1 || bail "openssl: $*"; }
q openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=probe-test-ca \
    -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign \
    -keyout ca.key -out ca.crt
q openssl req -newkey rsa:2048 -nodes -subj /CN=mail.example \
    -addext subjectAltName=IP:127.0.0.1,DNS:mail.example -keyout leaf.key -out leaf.csr
q openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -copy_extensions copy -out leaf.crt
cat > ca.cnf <<'CNF'
[ca]
default_ca = d
[d]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
CNF
: > index.txt
echo 1000 > serial
q openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -notext \
    -startdate 20200101000000Z -enddate 20200201000000Z -in leaf.csr -out expired.crt
cp leaf.key expired.key
q openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout self.key -out self.crt

fpr() { # DIGEST FILE: the certificate's fingerprint, AB:CD:...
    openssl x509 -noout -fingerprint "-$1" -in "$2" | sed 's/.*=//'
}
FP_CERT=$(fpr sha256 leaf.crt)
FP_MD5=$(fpr md5 leaf.crt)
FP_WRONG=$(fpr sha256 self.crt)
FP_PKEY=$(openssl x509 -noout -pubkey -in leaf.crt | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -c | sed 's/.*= //')
[ -n "$FP_CERT" ] && [ -n "$FP_PKEY" ] && [ -n "$FP_MD5" ] || bail "fingerprints"

# Postfix configuration directories probe reads smtp_tls_* from (postconf -c DIR).
pfdir() { # NAME MAIN.CF-LINES...
    local d=$T/$1; shift
    mkdir -p "$d" && : > "$d/master.cf" && printf '%s\n' "$@" > "$d/main.cf"
}
pfdir pf "compatibility_level = 3.6" "smtp_tls_CAfile = $T/ca.crt"
pfdir pfmd5 "smtp_tls_CAfile = $T/ca.crt"        # compatibility_level 0: md5 fingerprints
pfdir pfnoca "compatibility_level = 3.6"         # no CAfile or CApath: smtp(8) trusts none
pfdir pfsni "compatibility_level = 3.6" "smtp_tls_CAfile = $T/ca.crt" \
    "smtp_tls_servername = relay.example"

# A relay is one nexthop with one tls setting, so each relay below has a port of its own.
start() { # NAME CERT MODE NPORTS [ARGS...]: a hostile server on NPORTS free ports, in P_NAME[]
    local name=$1 cert=$2 mode=$3 n=$4 p ports=(); shift 4
    for _ in $(seq "$n"); do
        p=$(lab_free_port) || bail "no free port"
        ports+=("$p")
    done
    "$PYTHON" "$HOSTILE" --name "$name" ${ports[@]/#/--port } --log "$T/log" --ready "$T/$name.ready" \
        --cert "$cert.crt" --key "$cert.key" --mode "$mode" "$@" 2>"$T/$name.err" &
    PIDS+=($!)
    eval "P_$name=(${ports[*]})"
    wait_for 30 test -f "$T/$name.ready" || { sed 's/^/# /' "$T/$name.err"; bail "$name did not start"; }
}
start ok leaf "" 13
start expired expired "" 1
start self self "" 1
start inject leaf inject 2
start mixed leaf auth-mixed 2
start garbage leaf auth-garbage 1
start c334 leaf auth-334 1
start closemid leaf close-mid 1
start long leaf longline 1
start preonly leaf auth-pre-only 1
start s454 leaf starttls-454 1
start strip leaf no-starttls 1
start smtps leaf "" 1 --implicit

relay() { # NAME PORT TLS [TLS_MATCH...]
    local name=$1 port=$2 tls=$3 m=""; shift 3
    [ $# -gt 0 ] && m=$(printf ' "%s",' "$@") && m=" tls_match = [${m%,} ];"
    printf '  %s = { host = "127.0.0.1"; port = %s; tls = "%s";%s credentials = "right"; };\n' \
        "$name" "$port" "$tls" "$m"
}
{
    echo "vault_key = \"$T/vault.key\";"
    echo "relays = {"
    relay fp_wrong "${P_ok[0]}" fingerprint "$FP_WRONG"
    relay fp_cert "${P_ok[1]}" fingerprint "$FP_CERT"
    relay fp_pkey "${P_ok[2]}" fingerprint "$FP_PKEY"
    relay fp_md5 "${P_ok[3]}" fingerprint "$FP_MD5"
    relay fp_two "${P_ok[4]}" fingerprint "$FP_WRONG" "$FP_CERT"
    relay v_default "${P_ok[5]}" verify
    relay v_other "${P_ok[6]}" verify other.example
    relay v_name "${P_ok[7]}" verify mail.example
    relay v_dot "${P_ok[8]}" verify .example
    relay v_dotself "${P_ok[9]}" verify .mail.example
    relay s_name "${P_ok[10]}" secure mail.example
    relay s_nexthop "${P_ok[11]}" secure nexthop
    relay s_other "${P_ok[12]}" secure other.example
    relay v_expired "$P_expired" verify
    relay v_self "$P_self" verify
    relay inject "$P_inject" encrypt
    relay mixed "$P_mixed" encrypt
    relay garbage "$P_garbage" encrypt
    relay c334 "$P_c334" encrypt
    relay closemid "$P_closemid" encrypt
    relay long "$P_long" encrypt
    relay preonly "$P_preonly" encrypt
    relay s454 "$P_s454" encrypt
    relay strip "$P_strip" encrypt
    relay closed "$(lab_free_port)" encrypt
    printf '  smtps_fp = { host = "127.0.0.1"; port = %s; implicit_tls = true; tls = "fingerprint"; tls_match = [ "%s" ]; credentials = "right"; };\n' \
        "$P_smtps" "$FP_WRONG"
    echo "};"
    echo '@include "managed.conf"'
} > main.conf
"$C" -c main.conf key init >/dev/null || bail "key init"
enc() { "$BUILDDIR/test/cli/vault_encrypt" "$T/vault.key" "$1" "$2"; }
sed -i "1a credentials = { right = { user = \"relay-user\"; password = \"$(enc right right-password)\"; }; };" main.conf
"$C" -c main.conf check >/dev/null 2>&1 || { "$C" -c main.conf check 2>&1 | sed 's/^/# /'; bail "config"; }

# probe RELAY [PFDIR] [ARGS...]: output in $out, exit status in $rc; the hostile log
# from this probe only in $seen.
probe() {
    local name=$1 pf=${2:-pf}; shift; [ $# -gt 0 ] && shift
    : > "$T/log"
    out=$("$C" -c main.conf probe --postfix-dir "$T/$pf" "$@" "$name" 2>&1); rc=$?
    seen=$(cat "$T/log")
    [ "$rc" = 0 ] || diag "$out"
}
has() { grep -q -- "$1" <<<"$2"; }
fails() { # DESCRIPTION PATTERN: the last probe exited 1 and printed PATTERN
    ok "$1" bash -c '[ "$1" = 1 ] && grep -qi -- "$2" <<<"$3"' _ "$rc" "$2" "$out"
}

# --- fingerprint: pins compared as smtp(8) does (certificate or public key digest,
# with smtp_tls_fingerprint_digest), a mismatch fails before any AUTH.
probe fp_wrong
fails "fingerprint: a wrong pin fails" "^tls       FAILED: certificate: No matching DANE TLSA"
ok "fingerprint: a wrong pin fails before AUTH (no AUTH reached the server)" bash -c "! grep -q AUTH <<<'$seen'"
ok "fingerprint: the server's fingerprints are shown" has "certificate sha256 fingerprint $FP_CERT" "$out"
probe fp_cert
is "$rc" 0 "fingerprint: the certificate's sha256 digest matches"
probe fp_pkey
is "$rc" 0 "fingerprint: the public key's sha256 digest matches"
probe fp_two
is "$rc" 0 "fingerprint: one matching pin of several is enough"
probe fp_md5
fails "fingerprint: an md5 pin under smtp_tls_fingerprint_digest = sha256 fails" "is a sha256 digest"
probe fp_md5 pfmd5
is "$rc" 0 "fingerprint: an md5 pin matches at compatibility_level 0 (md5 digest)"
probe fp_cert pfmd5
fails "fingerprint: a sha256 pin under md5 fails" "is a md5 digest"
probe smtps_fp
fails "fingerprint: implicit TLS with a wrong pin fails" "No matching DANE TLSA"
ok "fingerprint: implicit TLS, no AUTH sent" bash -c "! grep -q AUTH <<<'$seen'"

# --- verify/secure: tls_match names, CA trust as Postfix's smtp_tls_CAfile says.
probe v_default
is "$rc" 0 "verify: hostname (the nexthop's IP) matches, CA from Postfix's smtp_tls_CAfile"
probe v_other
fails "verify: tls_match other.example does not match the certificate" "Hostname mismatch"
ok "verify: no AUTH after a name mismatch" bash -c "! grep -q AUTH <<<'$seen'"
probe v_name
is "$rc" 0 "verify: tls_match mail.example matches"
probe v_dot
is "$rc" 0 "verify: tls_match .example matches mail.example"
probe v_dotself
fails "verify: tls_match .mail.example matches strict subdomains only" "Hostname mismatch"
probe s_name
is "$rc" 0 "secure: tls_match mail.example matches"
probe s_nexthop
is "$rc" 0 "secure: tls_match nexthop (the IP) matches"
probe s_other
fails "secure: tls_match other.example does not match" "Hostname mismatch"
probe v_default pfnoca
fails "verify: Postfix without smtp_tls_CAfile/CApath trusts no CA" "neither smtp_tls_CAfile nor smtp_tls_CApath"
probe v_expired
fails "verify: an expired certificate fails" "certificate has expired"
probe v_self
fails "verify: a self-signed certificate fails" "self-signed certificate"
probe v_default nopf
fails "verify: Postfix's settings unreadable: refused" "cannot read Postfix's smtp_tls_"

# --- SNI as smtp_tls_servername says: none by default.
probe fp_cert
ok "SNI: none sent with smtp_tls_servername empty (Postfix's default)" has "ok SNI none" "$seen"
probe v_default pfsni
ok "SNI: smtp_tls_servername = relay.example sends it" has "ok SNI relay.example" "$seen"

# --- plaintext after the STARTTLS 220, before the handshake (CVE-2011-0411 class).
probe inject
fails "injection: bytes before the TLS handshake fail the probe" "before the TLS handshake"
ok "injection: no AUTH was sent" bash -c "! grep -q AUTH <<<'$seen'"

# --- the AUTH reply parsed strictly: only a well-formed 235 is success.
probe mixed
fails "auth: a reply with codes 535 and 235 is malformed" "codes 535 and 235"
probe garbage
fails "auth: \"235x\" is malformed" "^auth      FAILED: malformed reply line"
probe c334
fails "auth: 334 to AUTH PLAIN with its response is a failure" "answered 334, not 235"
probe closemid
fails "auth: a connection closed mid-reply fails" "closed by the server"

# --- reply lines longer than 512 and than line_length_limit (2048): cut, as smtp(8) does.
probe long
is "$rc" 0 "long EHLO lines (1500 and 3000 bytes) are read, AUTH after them works"

# --- AUTH or STARTTLS withheld.
probe preonly
fails "AUTH offered before TLS only: fails" "AUTH before TLS only"
probe s454
fails "STARTTLS refused (454) at tls = encrypt: fails" "answered 454, not 220"
probe strip
fails "STARTTLS stripped at tls = encrypt: fails" "does not offer STARTTLS"
probe closed
fails "connect: errno shown" "Connection refused"

# --- add-auth --probe saves nothing a hostile server "verified".
"$C" -c main.conf relay add-domain inj.example 127.0.0.1 "${P_inject[1]}" >/dev/null 2>&1 || bail "add-domain"
cp managed.conf before
ok "add-auth --probe against plaintext injection: exit 1" bash -c \
    "! echo not-the-password | '$C' -c main.conf relay add-auth inj.example relay-user --password-stdin --probe --postfix-dir '$T/pf' >probe.out 2>&1"
ok "add-auth --probe against plaintext injection: nothing written" cmp -s before managed.conf
"$C" -c main.conf relay add-domain mix.example 127.0.0.1 "${P_mixed[1]}" >/dev/null 2>&1 || bail "add-domain"
cp managed.conf before
ok "add-auth --probe with a 535-then-235 reply: nothing written" bash -c \
    "! echo not-the-password | '$C' -c main.conf relay add-auth mix.example relay-user --password-stdin --probe --postfix-dir '$T/pf' >probe.out 2>&1 && cmp -s before managed.conf"
tap_done
