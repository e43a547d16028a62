#!/bin/bash
# SPDX-License-Identifier: MIT
# The kernel event monitor: a receive buffer beyond rmem_max, and recovery from a failing socket
# (tests/integration/monitor-recover.c), in a network namespace made here.
set -u
. "$(dirname "$0")/../lib/tap.sh"
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"

require_root
NS=vpr-monitor-$$-$RANDOM
trap 'ip netns del "$NS" 2>/dev/null' EXIT
ip netns add "$NS" && ip -n "$NS" link set lo up || { not_ok "a namespace for the test"; tap_done; exit 1; }
out=$(ip netns exec "$NS" "$top_builddir/tests/integration/monitor-recover" 2>&1)
rc=$?
diag "$out"
# Each finding is judged by the line that says it held, not by the absence of a FAIL line.
rcvbuf=$(sed -n 's/^receive buffer: \([0-9]*\) bytes$/\1/p' <<<"$out")
check "the event socket's receive buffer goes beyond rmem_max (SO_RCVBUFFORCE; ${rcvbuf:-no} bytes)" \
        test "${rcvbuf:-0}" -ge $((4 * 1024 * 1024))
check "a failing event socket is opened again and a full re-read asked for" \
        grep -qx "after the failure: the socket was opened again and a full re-read asked for" <<<"$out"
check "route events arrive after the failure" grep -qx "after the failure: route events arrive again" <<<"$out"
check "the monitor test ran to its end with every finding holding (exit $rc)" test "$rc" -eq 0
check "the failure was logged once, as a warning" test "$(grep -c 'Kernel event socket failed' <<<"$out")" -eq 1
tap_done
