#!/bin/bash
# SPDX-License-Identifier: MIT
# `vpc-peer-routes run` in a simulated droplet: the systemd notify handshake, healing on kernel
# events, polling, the peering flag, reload, stop, state file, metrics, and no leaks.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"

droplet_test_start notify

show_state() {
        diag "own routes:" "$(own_routes)" "daemon log:" "$(tail -n 20 "$DAEMON_LOG")" "notify:" "$(grep -v WATCHDOG "$NOTIFY_LOG" | tail -n 8)" "requests:" "$(tail -n 3 "$REQLOG")"
}
ready_count_ge() {
        [ "$(grep -c 'READY=1' "$NOTIFY_LOG")" -ge "$1" ]
}
# within SECONDS "what" command...: ok when the command succeeds within the time.
within() {
        local secs=$1 what=$2
        shift 2
        if wait_for "$secs" "$@"; then ok "$what"; else not_ok "$what"; show_state; fi
}

# ---- start: a long interval, so that everything below is the work of kernel events ----
conf "interval = 10min" "metrics_file = $TESTDIR/metrics.prom"
daemon_start -v
within 10 "READY=1 after the first reconcile" notified "READY=1"
within 5 "routes installed" own_is_expected
check "peered host answers" can_ping
within 5 "STATUS= tells what is installed" notified "STATUS=3 routes via 10.116.0.1 dev ens4, in sync since"
within 5 "WATCHDOG=1 sent with WATCHDOG_USEC set" notified "WATCHDOG=1"
ready_line=$(grep -n "READY=1" "$NOTIFY_LOG" | head -n 1 | cut -d: -f1)
check "exactly one READY=1 at start" test "$(grep -c 'READY=1' "$NOTIFY_LOG")" -eq 1

# ---- healing ----
ip -n "$DR" route del 10.0.0.0/8 proto 241
within 3 "a deleted own route comes back" own_is_expected
ip -n "$DR" route del 172.16.0.0/12 proto 241
ip -n "$DR" route del 192.168.0.0/16 proto 241
within 3 "two deleted own routes come back" own_is_expected

ip -n "$DR" route replace 192.168.0.0/16 via "$GW_IP" dev "$NIC" metric 101 mtu 1400 proto 241
within 3 "an own route changed by someone else is put right" own_is_expected

ip -n "$DR" link set "$NIC" down
wait_for 3 no_own_routes
ip -n "$DR" link set "$NIC" up
within 3 "routes come back after the NIC goes down and up" own_is_expected
check "peered host answers after the link flap" can_ping

# What a networkd restart does: flush every address and route on the NIC, then configure it again.
lines=$(wc -l <"$DAEMON_LOG")
ip -n "$DR" addr flush dev "$NIC"
ip -n "$DR" route flush dev "$NIC"
within 3 "the service waits for the private address" logged_since "$lines" "does not carry the private address"
check "no own route survives the flush (the kernel removes them)" no_own_routes
ip -n "$DR" addr add "$PRIV_IP/20" dev "$NIC"
within 3 "routes come back once the address is re-added" own_is_expected

# A route of our protocol that someone else added is ours by definition: removed at once.
ip -n "$DR" route add 10.202.0.0/24 via "$GW_IP" dev "$NIC" proto 241
within 3 "an extra route of our protocol is removed at once" own_is_expected

# A hand-made route is never re-created or touched.
ip -n "$DR" route add 10.200.0.0/24 via "$GW_IP" dev "$NIC" proto static
ip -n "$DR" route del 10.200.0.0/24
ip -n "$DR" route add 10.201.0.0/24 via "$GW_IP" dev "$NIC" metric 7
ip -n "$DR" route del 10.0.0.0/8 proto 241
wait_for 3 own_is_expected
check "a deleted hand-made route is not re-created" test -z "$(ip -n "$DR" route show 10.200.0.0/24)"
check "a hand-made route is left as it is" test "$(ip -n "$DR" route show 10.201.0.0/24 | sed 's/ *$//')" = "10.201.0.0/24 via 10.116.0.1 dev ens4 metric 7"

# An equal route of another program takes the slot: left alone, nothing doubled; when it goes, ours returns.
held=$(grep -c 'held by another program' "$NOTIFY_LOG")
ip -n "$DR" route replace 10.0.0.0/8 via "$GW_IP" dev "$NIC" metric 101 mtu 1500 proto static
held_more() {
        [ "$(grep -c 'held by another program' "$NOTIFY_LOG")" -gt "$held" ]
}
within 3 "STATUS= says another program's route holds a destination" held_more
check "an equal static route replacing ours is left alone" test "$(ip -n "$DR" route show 10.0.0.0/8 | grep -c 'metric 101')" -eq 1
check "the equal static route is still the static one" test -n "$(ip -n "$DR" route show 10.0.0.0/8 proto static)"
ip -n "$DR" route del 10.0.0.0/8 proto static
within 3 "our route returns when the equal static route goes" own_is_expected

# An equal route appended beside ours (what NetworkManager's reapply does): one route per
# destination, so ours goes; traffic keeps its path, and ours returns when theirs goes.
only_static_10() {
        [ "$(ip -n "$DR" route show 10.0.0.0/8 | grep -c 'metric 101')" -eq 1 ] &&
                [ -n "$(ip -n "$DR" route show 10.0.0.0/8 proto static)" ]
}
ip -n "$DR" route append 10.0.0.0/8 via "$GW_IP" dev "$NIC" metric 101 mtu 1500 proto static
within 3 "an equal route appended beside ours: ours goes, one route for the destination" only_static_10
check "the peered host answers through the other program's route" can_ping
vpr status
check "status lists 10.0.0.0/8 once" test "$(grep -c ' 10.0.0.0/8 ' <<<"$OUT")" -eq 1
ip -n "$DR" route del 10.0.0.0/8 proto static
within 3 "ours returns when the appended route goes" own_is_expected

# A blackhole in a wanted slot is another program's route that ends the traffic: a conflict.
ip -n "$DR" route replace blackhole 10.0.0.0/8 metric 101
within 3 "STATUS= does not count a blackholed destination as in place" notified "STATUS=2 routes via 10.116.0.1 dev ens4, with conflicts"
vpr status
case $OUT in *"conflict   10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241  (held by: blackhole 10.0.0.0/8 metric 101 proto boot)"*)
        ok "status names the blackhole as the conflict" ;;
*) not_ok "status names the blackhole as the conflict"; vpr_diag ;; esac
vpr status --json
if "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
r = [r for r in s["routes"] if r["destination"] == "10.0.0.0/8"]
assert len(r) == 1 and r[0]["state"] == "conflict" and r[0]["kernel"]["type"] == "blackhole", r
' <<<"$OUT"; then ok "status --json says conflict, held by a blackhole"; else not_ok "status --json says conflict, held by a blackhole"; vpr_diag; fi
vpr doctor
expect_rc 3 "doctor with a blackhole in a wanted slot"
case $OUT in *"10.0.0.0/8         conflict  blackhole 10.0.0.0/8 metric 101 proto boot holds the destination and metric"*)
        ok "doctor says conflict, naming the blackhole" ;;
*) not_ok "doctor says conflict, naming the blackhole"; vpr_diag ;; esac
ip -n "$DR" route del blackhole 10.0.0.0/8 metric 101
within 3 "ours returns when the blackhole goes" own_is_expected

# SIGPIPE (libcurl writing to a TLS connection the API reset) does not end the service.
kill -PIPE "$DAEMON_PID"
ip -n "$DR" route del 10.0.0.0/8 proto 241
within 3 "after a SIGPIPE the service still heals" own_is_expected
check "the service is still running after a SIGPIPE" kill -0 "$DAEMON_PID"

# flush while the service runs would be undone within milliseconds: refused, routes untouched.
vpr flush
expect_rc 2 "flush while the service runs is refused"
expect_err "The vpc-peer-routes service (PID $DAEMON_PID) runs in this network namespace" "the refusal names the service and its PID"
expect_err "systemctl stop vpc-peer-routes" "the refusal names the command that stops it"
check "the refused flush left every route" own_is_expected
# sync with the service's own configuration says nothing; with another one it warns.
vpr sync
expect_rc 0 "sync beside the service with its configuration"
check "sync with the same configuration does not warn" test -z "$(grep 'runs with another configuration' <<<"$ERR")"
cp "$CONF" "$TESTDIR/service.conf"
conf "interval = 10min" "metrics_file = $TESTDIR/metrics.prom" "metric = 102"
vpr sync
expect_err "The vpc-peer-routes service (PID $DAEMON_PID) runs with another configuration and will put its own routes back" \
        "sync with another configuration says that the service will put its own routes back"
within 3 "and the service does" own_is_expected
cp "$TESTDIR/service.conf" "$CONF"

# A program that keeps removing an own route: re-adds back off instead of fighting every 10 ms.
lines=$(wc -l <"$DAEMON_LOG")
end=$(($(date +%s%N) + 2000000000))
while [ "$(date +%s%N)" -lt "$end" ]; do
        ip -n "$DR" route del 10.0.0.0/8 proto 241 2>/dev/null
        sleep 0.005
done
readds=$(tail -n +"$((lines + 1))" "$DAEMON_LOG" | grep -c "added 10.0.0.0/8")
check "2 s of removals cost $readds re-adds, not hundreds" test "$readds" -le 20
check "the fight is named in one warning" test "$(tail -n +"$((lines + 1))" "$DAEMON_LOG" | grep -c 'warning: 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241 was removed 5 times in a row by another program')" -eq 1
vpr status
case $OUT in *"10.0.0.0/8 is removed again and again by another program"*) ok "status shows the fight" ;; *) not_ok "status shows the fight"; vpr_diag ;; esac
check "postponed re-adds are counted" grep -qE '^vpc_peer_routes_heal_backoffs_total [1-9]' "$TESTDIR/metrics.prom"
within 10 "once the removals stop, the route comes back after its pause" own_is_expected
sleep 3 # the pause reached about 1.3 s: back in place for twice that, the fight is over
lines=$(wc -l <"$DAEMON_LOG")
ip -n "$DR" route del 10.0.0.0/8 proto 241
within 1 "quiet again: a single removal is healed at once" own_is_expected
check "the end of the fight is logged" logged_since "$lines" "stayed in place again; healing it at once from now on"

check "heals are counted" grep -qE '^vpc_peer_routes_heals_total [1-9]' "$TESTDIR/metrics.prom"
check "no self-inflicted loop: few reconciles for all that" test "$(awk '/^vpc_peer_routes_reconciles_total/ {print $2}' "$TESTDIR/metrics.prom")" -lt 60
check "each change logged as it happened" logged "added 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241"

# The state file cannot be written (its folder is a file now): one warning, and a line when it
# works again; healing goes on meanwhile.
printf '%s\n' "interval = 10min" "state_file = $TESTDIR/sub/state.json" "owner_file = $TESTDIR/owner" \
        "metrics_file = $TESTDIR/metrics.prom" >"$CONF"
kill -HUP "$DAEMON_PID"
wait_for 5 test -s "$TESTDIR/sub/state.json"
rm -rf "$TESTDIR/sub"
touch "$TESTDIR/sub"
lines=$(wc -l <"$DAEMON_LOG")
ip -n "$DR" route del 10.0.0.0/8 proto 241
within 3 "healing goes on while the state file cannot be written" own_is_expected
ip -n "$DR" route del 172.16.0.0/12 proto 241
within 3 "and on" own_is_expected
check "one warning names the file that cannot be written" test "$(tail -n +"$((lines + 1))" "$DAEMON_LOG" | grep -c "warning: Could not write $TESTDIR/sub/state.json")" -eq 1
rm -f "$TESTDIR/sub"
ip -n "$DR" route del 10.0.0.0/8 proto 241
within 3 "writing again is logged" logged_since "$lines" "Writing $TESTDIR/sub/state.json again"
check "the state file is back" test -s "$TESTDIR/sub/state.json"
conf "interval = 10min" "metrics_file = $TESTDIR/metrics.prom"
rm -f "$TESTDIR/state.json"
kill -HUP "$DAEMON_PID"
wait_for 5 test -s "$TESTDIR/state.json"

# ---- state file and status ----
check "state file written" test -s "$TESTDIR/state.json"
if "$PYTHON" - "$TESTDIR/state.json" <<'EOF'
import json, sys, time
s = json.load(open(sys.argv[1]))
assert s["version"] == 1 and s["last_error"] is None, s
assert abs(s["last_success"] - time.time()) < 120, s["last_success"]
assert [r["destination"] for r in s["desired"]] == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], s["desired"]
assert len(s["installed"]) == 3 and s["conflicts"] == [] and s["interface"] == "ens4", (s["installed"], s["conflicts"], s["interface"])
EOF
then ok "state file holds desired and installed routes, last success, no error"; else not_ok "state file content"; diag "$(cat "$TESTDIR/state.json")"; fi
check "state file is not writable by others" test "$(stat -c %a "$TESTDIR/state.json")" = 644
vpr status
case $OUT in *"Daemon:      running (pid "*"last successful sync "*" ago"*) ok "status shows the running daemon and its last sync" ;; *) not_ok "status shows the daemon"; vpr_diag ;; esac
check "metrics textfile" grep -q '^vpc_peer_routes_routes_installed 3$' "$TESTDIR/metrics.prom"
for m in routes_desired reconciles_total metadata_errors_total last_success_timestamp_seconds fetch_duration_seconds; do
        check "metric vpc_peer_routes_$m present" grep -q "^vpc_peer_routes_$m " "$TESTDIR/metrics.prom"
done

# ---- reload ----
conf "interval = 10min" "metric = lots"
kill -HUP "$DAEMON_PID"
within 5 "RELOADING=1 on SIGHUP" notified "RELOADING=1"
within 5 "a broken config on reload is refused with the reason" logged 'metric "lots" is not a number'
within 5 "READY=1 again after the reload" ready_count_ge 2
check "still running on the old config" kill -0 "$DAEMON_PID"
check "routes unchanged by the broken reload" own_is_expected

conf "interval = 10min" "metric = 102" "metrics_file = $TESTDIR/metrics.prom"
requests_before=$(wc -l <"$REQLOG")
kill -HUP "$DAEMON_PID"
within 5 "a good reload applies the new metric at once" own_count "metric 102" 3
check "no route left at the old metric" test -z "$(ip -n "$DR" route show proto 241 | grep "metric 101")"
check "reload polled the metadata at once" test "$(wc -l <"$REQLOG")" -gt "$requests_before"
conf "interval = 10min" "metrics_file = $TESTDIR/metrics.prom"
kill -HUP "$DAEMON_PID"
within 5 "back to metric 101" own_is_expected

# ---- stop ----

daemon_stop
check "SIGTERM exits 0" test "$DAEMON_RC" -eq 0
check "STOPPING=1 sent" notified "STOPPING=1"
check "routes stay after stop" own_is_expected
check "peered host answers after stop" can_ping

# ---- retries back off: the gaps between failing polls grow (1 s, 2 s, 4 s) ----
conf "interval = 30s"
: >"$NOTIFY_LOG"
daemon_start
within 10 "a daemon polling every 30 s is ready" ready_count_ge 1
base=$(wc -l <"$REQLOG")
md_control '{"mode": "status:503"}'
kill -HUP "$DAEMON_PID" # polls at once
failing_polls_ge() {
        [ "$(tail -n +"$((base + 1))" "$REQLOG" | grep -c '"mode": "status:503"')" -ge "$1" ]
}
within 15 "four failing polls" failing_polls_ge 4
if gaps=$(tail -n +"$((base + 1))" "$REQLOG" | grep '"mode": "status:503"' | "$PYTHON" -c '
import json, sys
t = [json.loads(l)["time"] for l in sys.stdin][:4]
g = [b - a for a, b in zip(t, t[1:])]
print(" ".join("%.2f" % x for x in g))
assert len(g) == 3 and g[0] >= 0.8 and g[1] >= 1.6 * g[0] and g[2] >= 1.6 * g[1], g
'); then ok "retries back off: each gap about doubles ($gaps s)"; else not_ok "retries back off: each gap about doubles ($gaps s)"; fi
md_control '{"mode": "ok"}'
daemon_stop

# ---- polling: a short interval, metadata changes and failures ----
conf "interval = 1s"
: >"$NOTIFY_LOG"
daemon_start --interval 1s
within 10 "second daemon ready" ready_count_ge 1
base=$(wc -l <"$REQLOG")
md_control '{"mode": "status:503"}'
within 10 "the metadata fails for several intervals (four failing polls)" failing_polls_ge 4
check "daemon alive while the metadata fails for several intervals" kill -0 "$DAEMON_PID"
check "every route kept while the metadata fails" own_is_expected
check "the first failure is a warning naming the cause" logged "warning: metadata: http://169.254.169.254/metadata/v1.json answered HTTP 503"
check "repeated failures are not logged again" test "$(grep -c 'answered HTTP 503' "$DAEMON_LOG")" -eq 1
no_faster_than_interval() {
        tail -n +"$((base + 1))" "$REQLOG" | grep '"mode": "status:503"' | "$PYTHON" -c '
import json, sys
t = [json.loads(l)["time"] for l in sys.stdin]
g = [b - a for a, b in zip(t, t[1:])]
assert len(g) >= 3 and min(g) >= 0.8, g
'
}
check "retries at the 1 s interval do not hammer: failing polls at least 0.8 s apart" no_faster_than_interval
within 3 "STATUS= says the metadata is unreachable" notified "STATUS=metadata unreachable for"
ip -n "$DR" route del 10.0.0.0/8 proto 241
within 3 "healing still works while the metadata fails" own_is_expected
md_control '{"mode": "ok"}'
within 6 "recovery logged once the metadata answers" logged "Metadata service answers again"

# One answer that would remove every route is held until a second, an interval later.
lines=$(wc -l <"$DAEMON_LOG")
md_control '{"mode": "ok", "set": {"features.vpc_peering_enabled": false}}'
within 3 "a first vpc_peering_enabled: false is held, not acted on" logged_since "$lines" "The metadata's answer would remove 3 of 3 routes at once; keeping them until a second answer"
check "every route stays after the first such answer" own_is_expected
within 3 "STATUS= says routes are kept until a second answer" notified "keeping 3 routes until a second answer says the same"
within 3 "the second answer, an interval later, removes them" no_own_routes
check "the log says a second answer confirmed it" logged_since "$lines" "A second answer .* later says the same: removing 3 routes"
check "other routes untouched when peering turns off" test -n "$(ip -n "$DR" route show 10.201.0.0/24)"
md_control '{"mode": "ok"}'
within 3 "vpc_peering_enabled turning true brings them back" own_is_expected
# A single answer that flips and flips back removes nothing.
lines=$(wc -l <"$DAEMON_LOG")
md_control '{"mode": "ok", "set": {"features.vpc_peering_enabled": false}}'
wait_for 3 logged_since "$lines" "keeping them until a second answer"
md_control '{"mode": "ok"}'
within 3 "an answer that changes back releases the hold" logged_since "$lines" "The answer changed: the 3 routes it would have removed stay"
check "no route was removed by the flip" own_is_expected

md_control '{"mode": "ok", "set": {"interfaces.private.0.ipv4.gateway": "10.116.0.9"}}'
ip netns exec "$GW" ip addr add 10.116.0.9/20 dev vpc0
within 3 "a new gateway in the metadata moves every route" own_count "via 10.116.0.9" 3
md_control '{"mode": "ok"}'
within 3 "and back" own_is_expected
ip netns exec "$GW" ip addr del 10.116.0.9/20 dev vpc0

# The NIC vanishes and a new one with the same MAC appears under another name.
ip -n "$DR" link del "$NIC"
wait_for 3 no_own_routes
within 3 "waiting for the NIC is logged" logged "Waiting: no network interface has the private NIC's MAC"
ip -n "$DR" link add ens5 address "$PRIV_MAC" type veth peer name vpc1 netns "$GW"
ip -n "$GW" link set vpc0 down 2>/dev/null
ip -n "$GW" addr add "$GW_IP/20" dev vpc1 2>/dev/null
ip -n "$GW" link set vpc1 up
ip -n "$DR" addr add "$PRIV_IP/20" dev ens5
ip -n "$DR" link set ens5 up
within 3 "routes follow a hot-plugged NIC with the metadata's MAC" own_count "dev ens5" 3
check "peered host answers through the new NIC" can_ping
# A warning that every reconcile finds again is said once, not at every heal.
lines=$(wc -l <"$DAEMON_LOG")
conf "interval = 1s" "routes = 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 10.116.0.0/24"
kill -HUP "$DAEMON_PID"
within 3 "a network inside the private subnet is named" logged_since "$lines" "Skipping 10.116.0.0/24: it lies inside the droplet's private subnet"
for i in 1 2 3; do
        ip -n "$DR" route del 10.0.0.0/8 proto 241
        within 3 "heal $i with that network in the config" own_total 3
done
check "three heals happened" test "$(tail -n +"$((lines + 1))" "$DAEMON_LOG" | grep -c 'added 10.0.0.0/8')" -ge 3
check "the skipped network is named once over those heals" \
        test "$(tail -n +"$((lines + 1))" "$DAEMON_LOG" | grep -c 'Skipping 10.116.0.0/24')" -eq 1
daemon_stop
check "second daemon exits 0" test "$DAEMON_RC" -eq 0

tap_done
