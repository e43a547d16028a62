# SPDX-License-Identifier: MIT
# TAP output for shell tests: one "ok N - what" line per check, diagnostics as "# ...".
# The plan comes last ("1..N"), which TAP allows. Source this file.

TAP_N=0
TAP_FAILED=0

ok() {
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N - $*"
}

not_ok() {
        TAP_N=$((TAP_N + 1))
        TAP_FAILED=$((TAP_FAILED + 1))
        echo "not ok $TAP_N - $*"
}

# skip "what" "why": a check that could not run here. tests/run counts it as a skip, which
# fails the run under CI=true.
skip() {
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N - $1 # SKIP $2"
}

diag() {
        printf '%s\n' "$@" | sed 's/^/# /'
}

# check "description" command args...: ok if the command succeeds; its output goes to the
# diagnostics when it fails.
check() {
        local desc=$1 out
        shift
        if out=$("$@" 2>&1); then
                ok "$desc"
        else
                not_ok "$desc"
                [ -n "$out" ] && diag "$out"
        fi
}

# check_not "description" command args...: ok if the command fails.
check_not() {
        local desc=$1 out
        shift
        if out=$("$@" 2>&1); then
                not_ok "$desc"
                [ -n "$out" ] && diag "$out"
        else
                ok "$desc"
        fi
}

tap_done() {
        echo "1..$TAP_N"
}

# Integration and system tests need root to build namespaces. Outside CI a non-root run is a
# TAP skip (the harness's equivalent of exit 77); under CI=true a skip is a failure, since CI must
# run them.
require_root() {
        if [ "$(id -u)" -ne 0 ]; then
                if [ "${CI:-}" = true ]; then
                        echo "1..1"
                        echo "not ok 1 - $(basename "$0") needs root, and CI=true must not skip it"
                        exit 1
                fi
                echo "1..0 # SKIP $(basename "$0") needs root (network namespaces)"
                exit 0
        fi
}
