#!/bin/bash
# SPDX-License-Identifier: MIT
# A second tree, built from the release tarball with -fsanitize=address,undefined, runs the unit
# and integration suites. Any AddressSanitizer, LeakSanitizer or UBSan report fails. (The
# valgrind test is left out: valgrind cannot run sanitized binaries.)
set -u
. "$(dirname "$0")/lib/tap.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

tmp=$(mktemp -d /tmp/vpr-sanitize.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
reports=$tmp/reports
mkdir -p "$reports"

if ! make -s -C "$top_builddir" dist-gzip >"$tmp/dist.log" 2>&1; then
        not_ok "make dist for the sanitizer tree"
        diag "$(cat "$tmp/dist.log")"
        tap_done
        exit 1
fi
tarball=$(ls -t "$top_builddir"/vpc-peer-routes-*.tar.gz | head -n 1)
tar -C "$tmp" -xzf "$tarball"
rm -f "$tarball"
tree=$(ls -d "$tmp"/vpc-peer-routes-*/)

flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
if (cd "$tree" && ./configure -q --enable-werror CFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" &&
        make -j"$(nproc)") >"$tmp/build.log" 2>&1; then
        ok "the tree builds with -fsanitize=address,undefined"
else
        not_ok "the tree builds with -fsanitize=address,undefined"
        diag "$(tail -n 30 "$tmp/build.log")"
        tap_done
        exit 1
fi

tests=$(cd "$tree" && make -s -f Makefile -f - print-tests <<<'print-tests: ; @echo $(UNIT_TESTS) $(INTEGRATION_TESTS)')
tests=$(printf '%s\n' $tests | grep -v memory.sh | tr '\n' ' ')
(
        cd "$tree" &&
        ASAN_OPTIONS="log_path=$reports/asan:abort_on_error=1:detect_leaks=1" \
        UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1" \
        make -j"$(nproc)" check TESTS="$tests"
) >"$tmp/check.out" 2>&1
status=$?

# The test logs hold the harness's verdict per case ("PASS: tests/x.sh 3 - what"). Every test
# of the list must have left one; make check's own status must agree with them.
any_failed=
for t in $tests; do
        t=${t%.sh}
        if [ ! -f "$tree/$t.trs" ]; then
                not_ok "sanitized $t ran and left a result"
                any_failed=1
                continue
        fi
        failed_here=
        while IFS= read -r line; do
                case $line in
                PASS:* | XFAIL:*) ok "sanitized ${line#*: }" ;;
                SKIP:*) skip "sanitized ${line#*: }" "skipped in the sanitizer tree" ;;
                FAIL:* | ERROR:* | XPASS:*) not_ok "sanitized ${line#*: }"; failed_here=1 ;;
                esac
        done < <(grep -E '^(PASS|FAIL|ERROR|SKIP|XPASS|XFAIL): ' "$tree/$t.log")
        [ -n "$failed_here" ] && diag "$(grep -vE '^(ok|PASS)' "$tree/$t.log" | tail -n 40)" && any_failed=1
done
if [ $status -ne 0 ] && [ -z "$any_failed" ]; then
        not_ok "the sanitized make check exited $status without a failing case saying why"
        diag "$(tail -n 40 "$tmp/check.out")"
fi
if [ -z "$(ls "$reports")" ]; then
        ok "no sanitizer report from any process"
else
        not_ok "no sanitizer report from any process"
        diag "$(cat "$reports"/* | head -n 80)"
fi
tap_done
