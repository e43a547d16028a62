#!/bin/bash
# SPDX-License-Identifier: MIT
# Ownership without holes: no request the agent sends can touch another program's route, a
# batch that breaks off is reported as what it is and never deletes the old half of a change,
# and changing the protocol or table moves the agent's routes instead of stranding them.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"

droplet_test_start

route_line() {
        ip -n "$DR" route show table "${2:-main}" | grep -F -- "$1" | sed 's/ *$//'
}
has_route() {
        [ -n "$(route_line "$@")" ]
}

# ---- a foreign route in the slot of an own route that is being replaced ----
vpr sync
expect_rc 0 "first sync"
# The gateway moves: the own route must be replaced. Between the plan (which saw no foreign
# route) and the apply, another program puts its route first in the slot of 10.0.0.0/8 (same
# destination and metric): the replacement must not touch it.
md_control '{"mode": "ok", "set": {"interfaces.private.0.ipv4.gateway": "10.116.0.3"}}'
mkdir -p "$TESTDIR/pause"
ip netns exec "$DR" "$top_builddir/tests/integration/sync-hooked" "$CONF" pause "$TESTDIR/pause" >/dev/null 2>"$TESTDIR/err" &
paused=$!
if wait_for 10 test -e "$TESTDIR/pause/planned"; then
        ip -n "$DR" route prepend 10.0.0.0/8 via 10.116.0.9 dev "$NIC" metric 101 proto static
        touch "$TESTDIR/pause/go"
fi
wait "$paused"
RC=$? ERR=$(cat "$TESTDIR/err") OUT=
expect_rc 0 "sync after the gateway moved"
expect_err "replaced 10.0.0.0/8 via 10.116.0.3 dev ens4 metric 101 mtu 1500 proto 241 (was 10.0.0.0/8 via 10.116.0.1" \
        "the change is logged as a replacement"
check "the other program's route in that slot survives" has_route "10.0.0.0/8 via 10.116.0.9 dev ens4 proto static metric 101"
check "the new own route is in" own_count "10.0.0.0/8 via 10.116.0.3 dev ens4 metric 101 mtu 1500" 1
check "the old own route is gone" own_count "via 10.116.0.1" 0
check "exactly one own route per destination" own_total 3
# The next sync sees the other program's route in the slot, beside ours: a conflict it reports
# and leaves as it is.
vpr sync
expect_rc 3 "a sync that sees another program's route first in an own route's slot"
expect_err "conflict: want 10.0.0.0/8 via 10.116.0.3 dev ens4 metric 101 mtu 1500 proto 241, but 10.0.0.0/8 via 10.116.0.9" \
        "the conflict names the route in the way"
check "the own route in that slot is left as it is" own_count "10.0.0.0/8 via 10.116.0.3 dev ens4 metric 101 mtu 1500" 1
ip -n "$DR" route del 10.0.0.0/8 via 10.116.0.9 dev "$NIC" metric 101 proto static
md_control '{"mode": "ok"}'
vpr sync
check "back to the documented routes" own_is_expected

# ---- a batch that breaks off ----
# The metric changes (every own route moves to a new slot) and the first request of the apply
# cannot be sent: nothing went to the kernel, so nothing may be called done, and no old route
# may be deleted for a new one that never came.
conf "metric = 102"
ip netns exec "$DR" "$top_builddir/tests/integration/sync-hooked" "$CONF" fail-send 1 105 >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err") OUT=
expect_rc 1 "a batch whose first request cannot be sent fails"
case $ERR in *"replaced "* | *"added "* | *"deleted "*) not_ok "nothing unsent is logged as done"; vpr_diag ;; *) ok "nothing unsent is logged as done" ;; esac
expect_err "Could not replace 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 102 mtu 1500 proto 241: No buffer space available" \
        "the request that failed is named with the reason"
expect_err "Could not replace 172.16.0.0/12 via 10.116.0.1 dev ens4 metric 102 mtu 1500 proto 241: not sent" \
        "the requests never sent are named as such"
check "every old route is still in place" own_is_expected
check "the peered host still answers" can_ping
# Now the third request fails: two new routes went in; the batch stops there, so no old route
# is deleted at all (the next sync finishes the job).
ip netns exec "$DR" "$top_builddir/tests/integration/sync-hooked" "$CONF" fail-send 3 105 >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err") OUT=
expect_rc 1 "a batch broken off at its third request fails"
expect_err "replaced 172.16.0.0/12 via 10.116.0.1 dev ens4 metric 102" "what the kernel acknowledged is logged as done"
check "the two new routes that went are in" own_count "metric 102" 2
check "every old route is kept, the third destination's above all" own_count "metric 101" 3
vpr sync
expect_rc 0 "the next sync finishes the move"
check "every route at the new metric" own_count "metric 102" 3
check "and only those" own_total 3
conf
vpr sync
check "back to the documented routes" own_is_expected

# ---- the protocol or the table changes ----
check "owner_file records the protocol and table own routes carry" grep -qx "protocol = 241" "$TESTDIR/owner"
routes_of() {
        ip -n "$DR" route show table "$2" proto "$1" | sed 's/ *$//'
}
conf "protocol = 242"
vpr sync
expect_rc 0 "sync after protocol 241 became 242"
check "no route is left under protocol 241" test -z "$(routes_of 241 main)"
check "the routes now carry protocol 242" test "$(routes_of 242 main)" = "$OWN_EXPECTED"
expect_err "Own routes now carry protocol 242 in table main (they carried 241 in table main)" "the move is logged"
check "owner_file says 242" grep -qx "protocol = 242" "$TESTDIR/owner"
check "the peered host answers" can_ping
conf "protocol = 242" "table = 100"
vpr sync
expect_rc 0 "sync after table main became 100"
check "no route is left in main" test -z "$(routes_of 242 main)"
check "the routes are in table 100" test "$(routes_of 242 100)" = "$OWN_EXPECTED"
# The service moves them too, on a reload.
conf "protocol = 243" "interval = 1min"
notify_start >/dev/null
daemon_start
none_242_in_100() {
        [ -z "$(routes_of 242 100)" ]
}
wait_for 10 none_242_in_100
check "the service moved them out of table 100 and off protocol 242" none_242_in_100
within5() { wait_for 5 "$@"; }
if within5 sh -c "[ \"\$(ip -n $DR route show table main proto 243 | wc -l)\" -eq 3 ]"; then ok "the service put them under protocol 243 in main"; else not_ok "the service put them under protocol 243 in main"; diag "$(cat "$DAEMON_LOG")"; fi
conf "protocol = 241" "interval = 1min"
kill -HUP "$DAEMON_PID"
wait_for 5 own_is_expected
check "a reload back to 241 moves them back" own_is_expected
check "and nothing stays under 243" test -z "$(routes_of 243 main)"
daemon_stop
# flush removes the routes under the recorded protocol too, and the record.
conf "protocol = 241"
vpr sync
conf "protocol = 244"
vpr flush
expect_rc 0 "flush after a protocol change"
check "flush removed the routes still under the recorded protocol 241" no_own_routes
check "flush removed the record" test ! -e "$TESTDIR/owner"
tap_done
