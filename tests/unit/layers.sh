#!/bin/bash
# SPDX-License-Identifier: MIT
# The agent's layers are its folders, and includes go down them only (no cycle can form):
#   cmd → daemon → reconcile → source | kernel → config → core → base
# A file may include headers of its own folder and of the folders below it; source and kernel
# are siblings and include neither each other. Every .c and .h file lies in one of the folders.
set -u
. "$(dirname "$0")/../lib/tap.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$top_srcdir/agent"

rank() {
        case $1 in
        base) echo 0 ;; core) echo 1 ;; config) echo 2 ;; source | kernel) echo 3 ;;
        reconcile) echo 4 ;; daemon) echo 5 ;; cmd) echo 6 ;; *) echo ;;
        esac
}

stray=$(find . -maxdepth 1 -name '*.[ch]' | sort | tr '\n' ' ')
check "every source file lies in a layer folder${stray:+ (not: $stray)}" test -z "$stray"
unknown=
for d in */; do
        [ -n "$(rank "${d%/}")" ] || unknown="$unknown ${d%/}"
done
check "every folder is a known layer${unknown:+ (not:$unknown)}" test -z "$unknown"

# Where each header lives.
declare -A home
for h in */*.h; do
        home[${h#*/}]=${h%%/*}
done

bad=
for f in */*.[ch]; do
        from=${f%%/*}
        while read -r inc; do
                to=${home[$inc]:-}
                [ -n "$to" ] || continue # a system or library header
                if [ "$to" != "$from" ] && { [ "$(rank "$to")" -ge "$(rank "$from")" ]; }; then
                        bad="$bad
$f includes $inc ($to is not below $from)"
                fi
        done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
if [ -z "$bad" ]; then
        ok "includes go down the layers only ($(ls -d */ | wc -l) folders, $(ls */*.[ch] | wc -l) files)"
else
        not_ok "includes go down the layers only"
        diag "$bad"
fi
tap_done
