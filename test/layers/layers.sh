#!/bin/bash
# layers.sh - every #include "..." in policy/ and milter/ points to its own folder or a lower layer.
#   util < codec < core < {smarthostd, smarthostctl, milter}
# The meson include paths already make most upward includes fail to compile; this also catches
# a header that happens to be reachable and a sideways include between the programs.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SRCDIR" || exit 1

rank() {
    case $1 in
    policy/util) echo 0 ;; policy/codec) echo 1 ;; policy/core) echo 2 ;;
    policy/smarthostd | policy/smarthostctl | milter) echo 3 ;;
    *) echo 9 ;;
    esac
}

n=0 bad=0
declare -A where
shopt -s nullglob
for h in policy/*/*.h milter/*.h; do where[$(basename "$h")]=$(dirname "$h"); done

for f in policy/*/*.[ch] milter/*.[ch]; do
    dir=$(dirname "$f") r=$(rank "$(dirname "$f")")
    while IFS= read -r inc; do
        n=$((n + 1))
        tdir=${where[$inc]:-}
        if [ -z "$tdir" ]; then
            echo "not ok $n - $f includes \"$inc\", which is no header of ours"; bad=$((bad + 1))
        elif [ "$tdir" = "$dir" ] || [ "$(rank "$tdir")" -lt "$r" ]; then
            echo "ok $n - $f -> $tdir/$inc"
        else
            echo "not ok $n - $f ($dir) includes $tdir/$inc: includes only point down"; bad=$((bad + 1))
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
# The rule itself must bite: a tree with one upward include is refused.
if [ -z "${LAYERS_SELFTEST:-}" ]; then
    n=$((n + 1))
    t=$(mktemp -d)
    mkdir -p "$t/policy/util" "$t/policy/core" "$t/milter"
    printf '#include "config.h"\n' >"$t/policy/util/planted.c"
    : >"$t/policy/core/config.h"
    if LAYERS_SELFTEST=1 SRCDIR=$t "$0" >/dev/null 2>&1; then
        echo "not ok $n - a planted util -> core include went unnoticed"; bad=$((bad + 1))
    else
        echo "ok $n - a planted util -> core include is refused"
    fi
    rm -rf "$t"
fi
echo "1..$n"
[ "$bad" -eq 0 ]
