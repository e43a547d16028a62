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
check "the event socket's receive buffer goes beyond rmem_max (SO_RCVBUFFORCE)" sh -c "! grep -q 'FAIL: the receive buffer' <<'E'
$out
E"
check "a failing event socket is opened again and a full re-read asked for" sh -c "! grep -q 'FAIL: no re-read' <<'E'
$out
E"
check "route events arrive after the failure" sh -c "! grep -q 'FAIL: no route event' <<'E'
$out
E"
check "the monitor test ran to its end (exit $rc)" test "$rc" -le 1
check "the failure was logged once, as a warning" test "$(grep -c 'Kernel event socket failed' <<<"$out")" -eq 1
tap_done
