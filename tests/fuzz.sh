#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer harnesses (clang, ASan, UBSan) in a tree made from the release tarball
# and runs each for FUZZ_SECONDS (60) on its seed corpus from tests/fuzz/corpus. A crash, a leak,
# a timeout or an out-of-memory is a failure; its input is printed to turn into a unit test.
set -u
. "$(dirname "$0")/lib/tap.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
SECONDS_EACH=${FUZZ_SECONDS:-60}

tmp=$(mktemp -d /tmp/vpr-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! command -v clang >/dev/null; then
        not_ok "clang is installed (tests/deps installs it)"
        tap_done
        exit 1
fi
make -s -C "$top_builddir" dist-gzip >"$tmp/dist.log" 2>&1 || { not_ok "make dist"; diag "$(cat "$tmp/dist.log")"; tap_done; exit 1; }
tarball=$(ls -t "$top_builddir"/vpc-peer-routes-*.tar.gz | head -n 1)
tar -C "$tmp" -xzf "$tarball"
rm -f "$tarball"
tree=$(ls -d "$tmp"/vpc-peer-routes-*/)
if (cd "$tree" && ./configure -q CC=clang && make -j"$(nproc)" fuzz) >"$tmp/build.log" 2>&1; then
        ok "make fuzz builds the harnesses with clang"
else
        not_ok "make fuzz builds the harnesses with clang"
        diag "$(tail -n 30 "$tmp/build.log")"
        tap_done
        exit 1
fi

run_one() {
        local name=$1 corpus=$2 max_len=$3 work=$tmp/work-$1
        mkdir -p "$work" "$tmp/artifacts-$name"
        (cd "$tmp/artifacts-$name" && "$tree/tests/fuzz/fuzz-$name" -max_total_time="$SECONDS_EACH" -timeout=10 \
                -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 "$work" "$top_srcdir/tests/fuzz/corpus/$corpus") \
                >"$tmp/$name.log" 2>&1
        echo $? >"$tmp/$name.rc"
}

# Every harness of tests/fuzz (FUZZERS in Makefile.am), on its corpus tests/fuzz/corpus/NAME;
# inputs up to 16 KiB unless the harness wants others.
fuzzers=
for src in "$top_srcdir"/tests/fuzz/fuzz-*.c; do
        name=$(basename "$src" .c)
        name=${name#fuzz-}
        case $name in
        metadata | api-peerings) max=65536 ;;
        cidr) max=128 ;;
        *) max=16384 ;;
        esac
        fuzzers="$fuzzers $name:$name:$max"
done
# Two at a time: the machine has two cores.
set -- $fuzzers
while [ $# -gt 0 ]; do
        IFS=: read -r n1 c1 l1 <<<"$1"
        run_one "$n1" "$c1" "$l1" &
        if [ $# -gt 1 ]; then
                IFS=: read -r n2 c2 l2 <<<"$2"
                run_one "$n2" "$c2" "$l2" &
                shift
        fi
        shift
        wait
done

for f in $fuzzers; do
        name=${f%%:*}
        runs=$(sed -n 's/.*stat::number_of_executed_units: *//p' "$tmp/$name.log")
        if [ "$(cat "$tmp/$name.rc")" -eq 0 ] && [ -z "$(ls "$tmp/artifacts-$name")" ]; then
                ok "fuzz-$name: ${runs:-?} runs in ${SECONDS_EACH} s, no crash"
        else
                not_ok "fuzz-$name: crash, leak, timeout or OOM"
                diag "$(grep -A 30 -E 'ERROR|SUMMARY|deadly' "$tmp/$name.log" | head -n 60)"
                for a in "$tmp/artifacts-$name"/*; do
                        [ -e "$a" ] && diag "input $(basename "$a") (base64): $(base64 -w0 "$a")"
                done
        fi
done
tap_done
