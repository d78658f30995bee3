# as-root.sh - for the README's two commands: run as root, through sudo when not root,
# and give build/ back to the user who ran sudo.
# Sourced by test/quickstart and test/run-tests after a cd to the source root.

# as_root NAME WHY SCRIPT ARGS...: return as root, or re-execute SCRIPT through sudo,
# or exit 1 with a message saying how to run it.
as_root() {
    local name=$1 why=$2 script=$3
    shift 3
    [ "$(id -u)" = 0 ] && return 0
    if command -v sudo >/dev/null; then
        echo "$name: needs root ($why): re-running through sudo" >&2
        exec sudo -- "$script" "$@"
    fi
    echo "$name: needs root ($why), and sudo is not installed:" >&2
    echo "$name: run it in a root shell (su -, or as root in the container)" >&2
    exit 1
}

# On exit: build/ belongs again to the user who ran sudo (not when root ran it), so
# that user's own meson/ninja runs can write there.
give_build_back() {
    if [ -n "${SUDO_UID:-}" ] && [ "$SUDO_UID" != 0 ] && [ -d build ]; then
        chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" build
    fi
}
