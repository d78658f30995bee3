#!/bin/bash
# hookup.sh - the packaged sockets, pidfiles and Postfix lines have one source: what
# `smarthostctl defaults` prints (core/hookup.h). The units, init scripts, tmpfiles,
# etc/postfix-*.cf, README.md, README.Debian and the man pages must say the same (TAP).
set -u
. "$SRCDIR/test/lib/tap.sh"

CTL=$SMARTHOSTCTL
S=$SRCDIR
export SMARTHOSTCTL_ENV_FILE=

declare -A D
out=$("$CTL" -c "$S/etc/smarthostd.conf" defaults 2>/dev/null) || bail "smarthostctl defaults failed"
while read -r k v; do
    case $k in main.cf | milter.cf | master.cf) ;; *) D[$k]=$v ;; esac
done <<<"$out"
for k in queue_directory socket_dir socketmap policy milter control pidfile milter_control \
    milter_pidfile socketmap_main_cf policy_main_cf milter_main_cf; do
    [ -n "${D[$k]:-}" ] || bail "smarthostctl defaults printed no $k"
done

# same GOT EXPECTED DESC: multi-line texts equal, the difference as TAP comments.
same() {
    if [ "$1" = "$2" ]; then
        ok "$3" true
    else
        ok "$3" false
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$1") | diag "$(cat)"
    fi
}

# contains FILE TEXT DESC: FILE (with man-page hyphens unescaped) has TEXT literally.
contains() {
    local f=$1 t=$2 d=$3
    if sed 's/\\-/-/g' "$f" | grep -qF -- "$t"; then
        ok "$d" true
    else
        ok "$d" false
        diag "$f does not say: $t"
    fi
}

# The daemon and the CLI take their built-in defaults from the table.
"$SMARTHOSTD" --help 2>&1 | grep -qF -- "default ${D[socketmap]}"
ok "smarthostd --help: default --socketmap is the table's" test $? -eq 0
"$CTL" postfix-conf --help 2>&1 | grep -qF -- "default ${D[socketmap]}"
ok "postfix-conf --help: default socket is the table's" test $? -eq 0
pc=$("$CTL" -c "$S/etc/smarthostd.conf" postfix-conf 2>/dev/null)
grep -qF "sender_dependent_relayhost_maps = socketmap:${D[socketmap_main_cf]}:relay" <<<"$pc"
ok "postfix-conf names the socketmap socket the daemons listen on" test $? -eq 0
mapfile -t main_cf < <(sed -n 's/^main\.cf //p' <<<"$out")
same "$(grep -v '^#' <<<"$pc" | sed -n '/^$/q;p')" "$(printf '%s\n' "${main_cf[@]}")" \
    "postfix-conf prints the table's main.cf lines"

# etc/postfix-smarthostd.cf is postfix-conf's output, byte for byte.
same "$(cat "$S/etc/postfix-smarthostd.cf")" "$pc" "etc/postfix-smarthostd.cf = smarthostctl postfix-conf"
# etc/postfix-milter.cf hooks the milter where the unit has it listen.
while read -r line; do
    contains "$S/etc/postfix-milter.cf" "$line" "etc/postfix-milter.cf: $line"
done < <(sed -n 's/^milter\.cf //p' <<<"$out")

# The systemd units and the init scripts pass the table's sockets and files.
unit=$S/debian/smarthostd.service munit=$S/debian/smarthostd.smarthostd-milter.service
for a in "--socketmap ${D[socketmap]}" "--policy ${D[policy]}" "--control unix:${D[control]}" \
    "--pidfile ${D[pidfile]}" "ReadWritePaths=${D[socket_dir]}" "RuntimeDirectory=$(basename "$(dirname "${D[pidfile]}")")"; do
    contains "$unit" "$a" "smarthostd.service: $a"
done
for a in "-p ${D[milter]}" "--control unix:${D[milter_control]}" "--pidfile ${D[milter_pidfile]}" \
    "ReadWritePaths=${D[socket_dir]}" "RuntimeDirectory=$(basename "$(dirname "${D[milter_pidfile]}")")"; do
    contains "$munit" "$a" "smarthostd-milter.service: $a"
done
# init scripts: their ExecStart without -f, with $SPOOL and $PIDFILE spelled out.
expand_init() {
    local spool pid
    spool=$(sed -n 's/^SPOOL=//p' "$1") pid=$(sed -n 's/^PIDFILE=//p' "$1")
    sed -n 's/^DAEMON_ARGS=//p' "$1" | sed "s|\$SPOOL|$spool|g; s|\$PIDFILE|$pid|g"
}
init=$(expand_init "$S/debian/smarthostd.init")
for a in "--socketmap ${D[socketmap]}" "--policy ${D[policy]}" "--control unix:${D[control]}" \
    "--pidfile ${D[pidfile]}"; do
    grep -qF -- "$a" <<<"$init"
    ok "smarthostd.init: $a" test $? -eq 0
done
init=$(expand_init "$S/debian/smarthostd.smarthostd-milter.init")
for a in "-p ${D[milter]}" "--control unix:${D[milter_control]}" "--pidfile ${D[milter_pidfile]}"; do
    grep -qF -- "$a" <<<"$init"
    ok "smarthostd-milter.init: $a" test $? -eq 0
done
for d in "${D[socket_dir]}" "$(dirname "${D[pidfile]}")" "$(dirname "${D[milter_pidfile]}")"; do
    grep -q "^d $d " "$S/debian/smarthostd.tmpfiles"
    ok "smarthostd.tmpfiles makes $d" test $? -eq 0
done

# The README's Postfix hookup section shows postfix-conf's main.cf lines.
readme=$(awk '/^## Postfix hookup/ {s = 1; next} s && /^## / {exit} s' "$S/README.md" |
    awk '/^```/ {n++; next} n == 1' )
same "$readme" "$(printf '%s\n' "${main_cf[@]}")" "README.md, Postfix hookup: postfix-conf's main.cf lines"

# Every socket, pidfile and spool path any document names is one of the table's.
docs=("$S/README.md" "$S/debian/README.Debian" "$S"/debian/man/* "$S"/etc/* "$S"/debian/*.service
    "$S"/debian/*.init "$S/debian/smarthostd.postinst" "$S/debian/smarthostd.tmpfiles")
allowed=("${D[socketmap]}" "${D[policy]}" "${D[milter]}" "${D[socketmap]#unix:}" "${D[policy]#unix:}"
    "${D[milter]#unix:}" "unix:${D[socketmap_main_cf]#unix:}"
    "${D[policy_main_cf]}" "${D[milter_main_cf]}" "unix:${D[control]}" "unix:${D[milter_control]}"
    "${D[control]}" "${D[milter_control]}" "${D[pidfile]}" "${D[milter_pidfile]}"
    "${D[socket_dir]}" "${D[socket_dir]}/" "unix:${D[socket_dir]}/" "${D[queue_directory]}"
    "$(dirname "${D[pidfile]}")" "$(dirname "${D[milter_pidfile]}")")
bad=0
for f in "${docs[@]}"; do
    while IFS= read -r tok; do
        tok=${tok%[.;:]}
        case $tok in socketmap:unix:*) tok=${tok#socketmap:}; tok=${tok%:*} ;; esac
        hit=0
        for a in "${allowed[@]}"; do [ "$tok" = "$a" ] && hit=1 && break; done
        if [ $hit = 0 ]; then
            diag "${f#"$S"/}: $tok is none of smarthostctl defaults' sockets and files"
            bad=$((bad + 1))
        fi
    done < <(sed 's/\\-/-/g; s/\\e//g' "$f" |
        grep -oE "(socketmap:)?unix:(/var/spool/postfix|/run|private|smarthostd)[^] ,{}\`'\")]*|/var/spool/postfix[^] ,{}\`'\")]*|/run/smarthostd[^] ,{}\`'\")]*")
done
ok "every socket and pidfile the units, etc/, README and man pages name is the table's" test $bad -eq 0

tap_done
