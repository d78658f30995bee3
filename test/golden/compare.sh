# compare.sh - the golden comparison, sourced by the golden test scripts (TAP; uses n, failed).
# compare NAME ACTUAL REF_FILE: one test point; GOLDEN_UPDATE=1 rewrites REF_FILE first.
compare() {
    n=$((n + 1))
    set -- "$1" "$(printf '%s' "$2")" "$3" # command substitution drops trailing newlines: both sides alike
    if [ "${GOLDEN_UPDATE:-}" = 1 ]; then
        printf '%s' "$2" > "$3"
    fi
    if [ "$2" = "$(cat "$3" 2>/dev/null)" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        diff -u "$3" <(printf '%s\n' "$2") | sed 's/^/# /'
        failed=$((failed + 1))
    fi
}
