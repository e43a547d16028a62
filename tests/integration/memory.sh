#!/bin/bash
# SPDX-License-Identifier: MIT
# The daemon over many cycles: under valgrind memcheck no error and no leak; natively, resident
# memory does not grow. Cycles are driven fast: route deletions (heals), SIGHUP (a reload and an
# immediate poll each), and 1 s polls with the metadata changing and failing in between.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"

droplet_test_start notify

has_10() {
        [ -n "$(ip -n "$DR" route show 10.0.0.0/8 proto 241)" ]
}
heal_rounds() {
        local n=$1
        for _ in $(seq "$n"); do
                ip -n "$DR" route del 10.0.0.0/8 proto 241 2>/dev/null
                wait_for 5 has_10 || return 1
                sleep 0.1 # back in place long enough that the next removal is no fight (agent/core/heal_backoff.h)
        done
}
own3() {
        [ "$(ip -n "$DR" route show proto 241 | wc -l)" -eq 3 ]
}
requests_above() {
        [ "$(wc -l <"$REQLOG")" -gt "$1" ]
}
reload_rounds() {
        local n=$1 before
        for _ in $(seq "$n"); do
                before=$(wc -l <"$REQLOG")
                kill -HUP "$DAEMON_PID"
                wait_for 5 requests_above "$before" || return 1
        done
}
failures_logged() {
        grep -c 'answered HTTP 500' "$DAEMON_LOG"
}
more_failures() {
        [ "$(failures_logged)" -gt "$1" ]
}
no_own() {
        [ -z "$(ip -n "$DR" route show proto 241)" ]
}
# cycle: every kind of round once, each phase waited for until the daemon shows it happened: a
# failing metadata service (a warning per failure streak), vpc_peering_enabled false (the routes
# go once a second answer confirms it), and recovery (they come back).
cycle() {
        local before
        before=$(failures_logged)
        heal_rounds 10 && reload_rounds 5 &&
        md_control '{"mode": "status:500"}' && wait_for 15 more_failures "$before" &&
        md_control '{"mode": "ok", "set": {"features.vpc_peering_enabled": false}}' && wait_for 15 no_own &&
        md_control '{"mode": "ok"}' && wait_for 15 own3
}

conf "interval = 1s" "metrics_file = $TESTDIR/metrics.prom"
VALGRIND="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99"

# ---- valgrind: sync, status, flush ----
if command -v valgrind >/dev/null; then
        for args in sync sync "sync --dry-run" status "status --json" flush sync; do
                ip netns exec "$DR" $VALGRIND --log-file="$TESTDIR/vg-sync.log" "$VPR" --config "$CONF" $args \
                        >/dev/null 2>"$TESTDIR/err"
                rc=$?
                if [ $rc -ne 99 ] && [ ! -s "$TESTDIR/vg-sync.log" ]; then
                        ok "valgrind: $args has no memory error and no definite or indirect leak (exit $rc)"
                else
                        not_ok "valgrind: $args has no memory error and no definite or indirect leak"
                        diag "$(cat "$TESTDIR/vg-sync.log" "$TESTDIR/err")"
                fi
        done
        md_control '{"mode": "status:500"}'
        ip netns exec "$DR" $VALGRIND --log-file="$TESTDIR/vg-sync.log" "$VPR" --config "$CONF" sync >/dev/null 2>&1
        check "valgrind: a failing sync leaks nothing (exit $?)" test ! -s "$TESTDIR/vg-sync.log"
        md_control '{"mode": "ok"}'
fi

# ---- valgrind: the daemon ----
if command -v valgrind >/dev/null; then
        DAEMON_WRAPPER="$VALGRIND --log-file=$TESTDIR/valgrind.log" daemon_start
        if wait_for 60 own3; then
                ok "daemon under valgrind installs routes"
        else
                not_ok "daemon under valgrind installs routes"
                diag "$(cat "$DAEMON_LOG")"
        fi
        if cycle && cycle; then ok "daemon under valgrind heals, reloads, polls, fails and recovers"; else not_ok "cycles under valgrind"; diag "$(tail "$DAEMON_LOG")"; fi
        daemon_stop
        check "valgrind reports no error and no definite or indirect leak (exit $DAEMON_RC)" test "$DAEMON_RC" -eq 0
        [ "$DAEMON_RC" -ne 0 ] && diag "$(cat "$TESTDIR/valgrind.log")"
        check "valgrind log is clean" test ! -s "$TESTDIR/valgrind.log"
else
        not_ok "valgrind is installed (tests/deps installs it)"
fi

# ---- resident memory natively ----
# Anonymous memory is where a leak would show (the rest is the shared libraries' pages). The
# heap settles within a few cycles (allocator fragmentation), then stays flat.
anon_kib() {
        awk '/^RssAnon/ {print $2}' "/proc/$DAEMON_PID/status"
}
DAEMON_WRAPPER= daemon_start
wait_for 10 own3
cycles=0
for _ in 1 2 3 4 5; do cycle && cycles=$((cycles + 1)); done
anon_warm=$(anon_kib)
for _ in 1 2 3 4 5 6 7 8; do cycle && cycles=$((cycles + 1)); done
anon_after=$(anon_kib)
check "every native cycle went through all its phases ($cycles of 13)" test "$cycles" -eq 13
reconciles=$(awk '/^vpc_peer_routes_reconciles_total/ {print $2}' "$TESTDIR/metrics.prom")
diag "RssAnon after warm-up ${anon_warm} KiB, after eight more cycles ${anon_after} KiB, ${reconciles} reconciles"
if [ -n "$anon_warm" ] && [ -n "$anon_after" ] && [ "$anon_after" -le $((anon_warm + 64)) ]; then
        ok "no growth in anonymous memory over many cycles"
else
        not_ok "no growth in anonymous memory over many cycles"
fi
check "more than 100 reconciles in the native run" test "${reconciles:-0}" -gt 100
daemon_stop
check "daemon exits 0" test "$DAEMON_RC" -eq 0

tap_done
