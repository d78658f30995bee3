#!/bin/bash
# clean-build.sh - does debian/control's Build-Depends suffice on a clean Debian 12?
# (a clean machine builds it after `apt-get build-dep ./`)
#
# debootstraps a bookworm buildd base (--variant=buildd: Essential + build-essential,
# what Debian's own autobuilders start from; nothing else is added) from the Debian
# mirror this machine's apt already uses, copies the source in (`git archive HEAD`, or
# the tracked files as they are in the working tree with --worktree), then inside the
# chroot: `apt-get update && apt-get -y build-dep ./` as root and
# `dpkg-buildpackage -us -uc -b` as an unprivileged user (Rules-Requires-Root: no), so
# debian/rules' dh_auto_test subset (unit + golden) runs as it would on a buildd.
# Prints the .deb names and exits 0; on failure shows what was missing and exits 1.
#
# Opt-in, NOT part of .ci/run or meson: it downloads a base system (~250 MB, minutes).
# Needs root (debootstrap, chroot, mount); installs debootstrap on the host if missing.
#   test/deb/clean-build.sh [--worktree] [--keep] [--out DIR]
#   MIRROR=http://...  overrides the mirror; CLEAN_BUILD_CACHE=DIR keeps debootstrap's
#   downloaded .debs between runs (the base is still unpacked fresh each time).
# The full log is kept in ${TMPDIR:-/tmp}/smarthostd-clean-build.*.log (path printed).
set -uo pipefail

WORKTREE=0 KEEP=0 OUT=
while [ $# -gt 0 ]; do
    case $1 in
        --worktree) WORKTREE=1 ;;
        --keep) KEEP=1 ;;
        --out) OUT=${2:?--out needs a directory}; shift ;;
        *) echo "usage: $0 [--worktree] [--keep] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "clean-build.sh: needs root (debootstrap, chroot, mount)" >&2; exit 2; }

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SUITE=bookworm
T0=$SECONDS
say() { printf 'clean-build: [%4ds] %s\n' $((SECONDS - T0)) "$*"; }
die() { say "FAIL: $*"; exit 1; }

# The mirror apt uses here: deb822 *.sources first (URIs of a stanza whose Suites has
# bookworm), then one-line "deb URI bookworm ..." entries. Security/updates suites are
# skipped: the question is whether bookworm's own packages suffice.
find_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$SUITE" '
            /^[ \t]*$/ { if (u != "" && ok) { print u; exit } u = ""; ok = 0; next }
            tolower($1) == "uris:" { u = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
            END { if (u != "" && ok) print u }' "$f"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk -v s="$SUITE" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($(i+1) == s) print $i; break } }'
}
MIRROR=${MIRROR:-$(find_mirror | grep -v -e security -e '^$' | head -n1)}
[ -n "$MIRROR" ] || die "no Debian $SUITE mirror in /etc/apt/sources.list*; set MIRROR="

if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap on the host"
    apt-get install -y debootstrap >/dev/null || die "apt-get install debootstrap"
fi

WORK=$(mktemp -d /var/tmp/smarthostd-clean-build.XXXXXX) || die mktemp
LOG=$(mktemp "${TMPDIR:-/tmp}/smarthostd-clean-build.XXXXXX.log") || die mktemp
R=$WORK/root
MOUNTED=()

# Every mount point under $R, deepest first (debootstrap may leave its own in containers).
mounts_under() { awk -v r="$R/" 'index($2 "/", r) == 1 { print $2 }' /proc/self/mounts | sort -r; }
cleanup() {
    local m i
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[i]}" 2>/dev/null; done
    for m in $(mounts_under); do umount "$m" 2>/dev/null || umount -l "$m"; done
    if [ -n "$(mounts_under)" ]; then
        say "still mounted under $R, NOT removing it:"; mounts_under; return
    fi
    if [ "$KEEP" = 1 ]; then say "kept (unmounted): $R"; else rm -rf --one-file-system "$WORK"; fi
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

# run LIMIT DESC CMD...: bounded, output to the log; on failure the log's tail.
run() {
    local limit=$1 desc=$2 rc; shift 2
    say "$desc"
    echo "=== $desc: $*" >> "$LOG"
    timeout --kill-after=30 "$limit" "$@" >> "$LOG" 2>&1; rc=$?
    [ $rc = 0 ] && return 0
    [ $rc = 124 ] && say "timed out after $limit"
    say "failed (exit $rc); last lines of $LOG:"
    tail -n 40 "$LOG" | sed 's/^/    /'
    return $rc
}
# as root inside the chroot, clean environment (an array: `timeout` cannot run a function)
IN_ROOT=(chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
    DEBIAN_FRONTEND=noninteractive)

say "mirror $MIRROR, suite $SUITE, log $LOG"
CACHE=()
[ -n "${CLEAN_BUILD_CACHE:-}" ] && mkdir -p "$CLEAN_BUILD_CACHE" && CACHE=(--cache-dir="$(cd "$CLEAN_BUILD_CACHE" && pwd)")
run 1200 "debootstrap --variant=buildd $SUITE" \
    debootstrap --variant=buildd "${CACHE[@]}" "$SUITE" "$R" "$MIRROR" || die "debootstrap"

mount -t proc proc "$R/proc" && MOUNTED+=("$R/proc") || die "mount proc"
if [ ! -c "$R/dev/null" ] || ! "${IN_ROOT[@]}" sh -c ': > /dev/null' 2>/dev/null; then
    mount --bind /dev "$R/dev" && MOUNTED+=("$R/dev") || die "bind /dev"
fi
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null

# The source: committed state (git archive HEAD) or, with --worktree, the tracked files
# as they are now (to try an uncommitted debian/ change); never build/ or other debris.
mkdir -p "$R/build/smarthostd" || die mkdir
if [ "$WORKTREE" = 1 ]; then
    (cd "$SRC" && git ls-files -z --cached | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -xf - -C "$R/build/smarthostd" || die "copy working tree"
    say "source: working tree of $SRC (tracked files)"
else
    git -C "$SRC" archive --format=tar HEAD | tar -xf - -C "$R/build/smarthostd" || die "git archive"
    say "source: git archive HEAD ($(git -C "$SRC" rev-parse --short HEAD)) of $SRC"
fi
"${IN_ROOT[@]}" useradd -m builder >> "$LOG" 2>&1 || die "useradd builder"
chown -R --reference="$R/home/builder" "$R/build" || die chown

BASE=$("${IN_ROOT[@]}" dpkg-query -W -f '${Package}\n' | sort)
run 600 "apt-get update" "${IN_ROOT[@]}" apt-get update || die "apt-get update"
if ! run 1200 "apt-get -y build-dep ./" "${IN_ROOT[@]}" sh -c 'cd /build/smarthostd && apt-get -y build-dep ./'; then
    grep -E 'Unmet|but it is not|Unable to locate|has no installation candidate' "$LOG" | sed 's/^/    /'
    die "apt-get build-dep: debian/control's Build-Depends cannot be satisfied on $SUITE"
fi
ADDED=$(comm -13 <(echo "$BASE") <("${IN_ROOT[@]}" dpkg-query -W -f '${Package}\n' | sort) | wc -l)
say "build-dep installed $ADDED packages"

if ! run 1800 "dpkg-buildpackage -us -uc -b (as builder)" \
        chroot --userspec=builder:builder "$R" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/home/builder \
        LANG=C.UTF-8 sh -c 'cd /build/smarthostd && dpkg-buildpackage -us -uc -b'; then
    # what meson or the compiler could not find: a missing Build-Depends
    grep -E 'found: NO|not found|Program .* found: NO|No such file or directory|command not found|fatal error:' "$LOG" |
        sort -u | head -n 20 | sed 's/^/    missing? /'
    die "dpkg-buildpackage"
fi

# dh_auto_test's subset must have run, and passed (nocheck is not set here).
grep -E '^(Ok|Fail|Expected Fail|Unexpected Pass|Skipped|Timeout): ' "$LOG" | sed 's/^/    dh_auto_test /'
grep -qE '^Ok: +[1-9]' "$LOG" && grep -qE '^Fail: +0[[:space:]]*$' "$LOG" || die "dh_auto_test (unit + golden) did not run or did not pass"

DEBS=$(cd "$R/build" && ls ./*.deb 2>/dev/null | sed 's|^\./||')
[ -n "$DEBS" ] || die "no .deb produced"
if [ -n "$OUT" ]; then
    mkdir -p "$OUT" && (cd "$R/build" && cp $DEBS "$OUT"/) || die "copy to $OUT"
fi
say "built on a clean $SUITE buildd chroot in $((SECONDS - T0))s:"
printf '%s\n' $DEBS
exit 0
