# tap.sh - tiny TAP producer for shell tests (the plan is printed at the end).
TAP_N=0
TAP_FAILED=0

tap_skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# ok CMD... -- DESCRIPTION : one test point, passes when CMD succeeds.
# Written as: ok "description" cmd args...
ok() {
    local desc=$1; shift
    TAP_N=$((TAP_N + 1))
    if "$@" >&2; then
        echo "ok $TAP_N - $desc"
    else
        echo "not ok $TAP_N - $desc"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}

# is GOT EXPECTED DESCRIPTION
is() {
    TAP_N=$((TAP_N + 1))
    if [ "$1" = "$2" ]; then
        echo "ok $TAP_N - $3"
    else
        echo "not ok $TAP_N - $3"
        printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}

diag() { printf '%s\n' "$*" | sed 's/^/# /'; }  # every line a TAP comment

# bail REASON: stop the whole test file (setup failed); cleanup traps still run.
bail() { echo "Bail out! $*"; exit 1; }

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds, at most SECONDS
wait_for() {
    local n=$(($1 * 10)); shift
    while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}

tap_done() {
    echo "1..$TAP_N"
    [ "$TAP_FAILED" -eq 0 ]
}
