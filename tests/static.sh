#!/bin/bash
# SPDX-License-Identifier: MIT
# Static analysis: cppcheck and clang-tidy over agent/. Every finding either gets fixed or an
# explained suppression (tests/static/cppcheck.suppress, the checks list in .clang-tidy).
set -u
. "$(dirname "$0")/lib/tap.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir"

layers=$(for d in agent/*/; do printf -- '-I%s ' "${d%/}"; done)
cflags="-std=gnu11 -D_GNU_SOURCE -DPACKAGE_NAME=\"vpc-peer-routes\" -DPACKAGE_VERSION=\"0\" $layers
$(pkg-config --cflags libnl-3.0 libnl-route-3.0 libcurl libcjson libsystemd)"

if command -v cppcheck >/dev/null; then
        out=$(cppcheck --quiet --std=c11 --enable=warning,style,performance,portability --inline-suppr \
                --suppressions-list=tests/static/cppcheck.suppress --error-exitcode=1 \
                -D_GNU_SOURCE -DPACKAGE_NAME=\"vpc-peer-routes\" -DPACKAGE_VERSION=\"0\" $layers agent/*/*.c 2>&1)
        if [ $? -eq 0 ]; then ok "cppcheck finds nothing unexplained"; else not_ok "cppcheck finds nothing unexplained"; diag "$out"; fi
else
        not_ok "cppcheck is installed (tests/deps installs it)"
fi

if command -v clang-tidy >/dev/null; then
        for f in agent/*/*.c; do
                # shellcheck disable=SC2086
                all=$(clang-tidy --quiet "$f" -- $cflags 2>&1)
                rc=$?
                out=$(grep -E 'warning:|error:' <<<"$all")
                # A crash or a file it could not compile exits non-zero, with or without a warning line.
                if [ $rc -eq 0 ] && [ -z "$out" ]; then
                        ok "clang-tidy: $f"
                else
                        not_ok "clang-tidy: $f (exit $rc)"
                        diag "${out:-$(tail -n 20 <<<"$all")}"
                fi
        done
else
        not_ok "clang-tidy is installed (tests/deps installs it)"
fi
tap_done
