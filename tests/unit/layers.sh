#!/bin/bash
# SPDX-License-Identifier: MIT
# The agent's layers are its folders, and includes go down them only (no cycle can form):
#   cmd → daemon → reconcile → source | kernel → config → core → base
# A file may include headers of its own folder and of the folders below it; source and kernel
# are siblings and include neither each other. Every .c and .h file lies in one of the folders.
# Inside the service the calls go one way too: daemon.c → daemon_poll.c → daemon_heal.c →
# daemon_publish.c; no file calls a function an earlier one defines.
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
# Calls inside the service, by the functions each file defines (not static).
order=(daemon.c daemon_poll.c daemon_heal.c daemon_publish.c)
bad=
for ((i = 0; i < ${#order[@]}; i++)); do
        defined=$(sed -n 's/^[a-z][a-z0-9_ *]* \**\(daemon_[a-z0-9_]*\)(.*/\1/p' "daemon/${order[i]}" | sort -u)
        for ((j = i + 1; j < ${#order[@]}; j++)); do
                for fn in $defined; do
                        if grep -q "\b$fn(" "daemon/${order[j]}"; then
                                bad="$bad
${order[j]} calls $fn (defined in ${order[i]}, above it)"
                        fi
                done
        done
done
if [ -z "$bad" ]; then
        ok "the service's calls go one way: ${order[*]}"
else
        not_ok "the service's calls go one way: ${order[*]}"
        diag "$bad"
fi
tap_done
