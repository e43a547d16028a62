#!/bin/bash
# SPDX-License-Identifier: MIT
# `vpc-peer-routes sync`, `status`, `flush` in a simulated droplet: packets reach the peered VPC
# only after sync, errors change nothing, only own routes are ever touched.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"

droplet_test_start

# Hand-made routes an admin (or another tool) put there: they must survive everything.
ip -n "$DR" route add 10.200.0.0/24 via "$GW_IP" dev "$NIC"
ip -n "$DR" route add 172.31.0.0/16 via "$GW_IP" dev "$NIC" metric 50 proto static
FOREIGN_BEFORE=$(ip -n "$DR" route show table main | grep -v 'proto 241')

foreign_untouched() {
        local now
        now=$(ip -n "$DR" route show table main | grep -v 'proto 241')
        [ "$now" = "$FOREIGN_BEFORE" ] || {
                echo "before:"
                echo "$FOREIGN_BEFORE"
                echo "now:"
                echo "$now"
                return 1
        }
}

# ---- first sync on an old droplet ----
check_not "peered host does not answer before sync" can_ping

vpr sync --dry-run
expect_rc 0 "dry run on a fresh droplet"
case $OUT in *"add 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241"*"3 to add"*) ok "dry run prints the plan" ;; *) not_ok "dry run prints the plan"; vpr_diag ;; esac
check "dry run changes nothing" no_own_routes

vpr sync
expect_rc 0 "first sync"
check "three own routes via the VPC gateway on ens4" own_is_expected
check "peered host answers after sync" can_ping
expect_err "added 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241" "each change logged in ip-route words"
expect_err "vpc_peering_enabled=true" "log shows the peering flag"
check "default and hand-made routes untouched" foreign_untouched

ua=$(tail -n 1 "$REQLOG")
case $ua in *'"user_agent": "vpc-peer-routes/'*'"path": "/metadata/v1.json"'* | *'"path": "/metadata/v1.json"'*'"user_agent": "vpc-peer-routes/'*) ok "fetches /metadata/v1.json with a vpc-peer-routes User-Agent" ;; *) not_ok "User-Agent"; diag "$ua" ;; esac

# ---- idempotence ----
before=$(all_routes)
vpr sync
expect_rc 0 "second sync"
check "second sync changes nothing" test "$(all_routes)" = "$before"
case $ERR in *added* | *deleted* | *replaced*) not_ok "second sync reports no change"; vpr_diag ;; *) ok "second sync reports no change" ;; esac
expect_err "In sync: 3 routes via 10.116.0.1 dev ens4" "second sync says it is in sync"

# ---- a route of our protocol that sync did not make ----
ip -n "$DR" route add 10.201.0.0/24 via "$GW_IP" dev "$NIC" proto 241
vpr status
case $OUT in *"stale      10.201.0.0/24"*) ok "status shows a hand-added route of our protocol as stale" ;; *) not_ok "status shows the stale route"; vpr_diag ;; esac
ip -n "$DR" route del 172.16.0.0/12 proto 241
vpr sync
expect_err "deleted 10.201.0.0/24 via 10.116.0.1 dev ens4 metric 0 proto 241" "sync removes a route of its protocol that is not wanted"
check "sync put the missing route back and removed the stale one" own_is_expected

# ---- status ----
vpr status
expect_rc 0 "status when in sync"
case $OUT in *"State:       in sync"*"installed  10.0.0.0/8"*) ok "status shows in sync and each route" ;; *) not_ok "status text"; vpr_diag ;; esac
case $OUT in *"vpc_peering_enabled = true (peering_flag = honor)"*) ok "status shows the peering flag" ;; *) not_ok "status shows the peering flag"; vpr_diag ;; esac
vpr status --json
expect_rc 0 "status --json"
if printf '%s' "$OUT" | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
assert s["version"] == 1 and s["in_sync"] is True and s["error"] is None, s
assert s["interface"]["name"] == "ens4" and s["interface"]["gateway"] == "10.116.0.1", s["interface"]
assert s["metadata"]["vpc_peering_enabled"] is True and s["metadata"]["droplet_id"] == 3164444
assert sorted(r["destination"] for r in s["installed"]) == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
assert all(r["state"] == "installed" for r in s["routes"]), s["routes"]
assert all(r["protocol"] == 241 and r["mtu"] == 1500 and r["device"] == "ens4" for r in s["installed"])
'; then ok "status --json has the documented fields"; else not_ok "status --json fields"; vpr_diag; fi

# ---- a route deleted by someone else comes back, a changed one is fixed ----
ip -n "$DR" route del 172.16.0.0/12 proto 241
ip -n "$DR" route replace 192.168.0.0/16 via "$GW_IP" dev "$NIC" metric 101 mtu 1400 proto 241
vpr sync
expect_rc 0 "sync after drift"
check "drift repaired" own_is_expected
expect_err "replaced 192.168.0.0/16" "mtu change repaired by replace"

# ---- a broken metadata service changes nothing ----
for mode in status:500 status:404 status:503 html truncated empty garbage reset; do
        md_control "{\"mode\": \"$mode\"}"
        vpr sync
        expect_rc 1 "metadata $mode"
        check "metadata $mode keeps every route" own_is_expected
        case $mode in
        status:*) expect_err "answered HTTP ${mode#status:}, expected 200; nothing changed" "metadata $mode: one line names the status" ;;
        html | truncated) expect_err "metadata: not valid JSON" "metadata $mode: one line names the cause" ;;
        garbage) expect_err "metadata: " "metadata $mode: one line names the cause" ;;
        empty) expect_err "metadata: empty document" "metadata empty: one line names the cause" ;;
        reset) expect_err "metadata: could not fetch http://169.254.169.254/metadata/v1.json" "metadata reset: one line names the cause" ;;
        esac
        [ "$(printf '%s\n' "$ERR" | grep -c .)" -eq 1 ] && ok "metadata $mode: exactly one line" || { not_ok "metadata $mode: exactly one line"; vpr_diag; }
done
check "peered host still answers after metadata errors" can_ping

conf "timeout = 2s" "connect_timeout = 1s"
md_control '{"mode": "hang"}'
start=$(date +%s)
vpr sync
took=$(($(date +%s) - start))
expect_rc 1 "metadata that never answers"
expect_err "timed out" "hanging metadata: the error says it timed out"
check "hanging metadata keeps every route" own_is_expected
[ "$took" -le 8 ] && ok "hanging metadata abandoned near the configured timeout (${took}s)" || not_ok "hanging metadata took ${took}s"

md_control '{"mode": "big:67108864"}'
conf "metadata_max_size = 1048576"
vpr sync
expect_rc 1 "64 MiB metadata body"
expect_err "response is larger than 1048576 bytes" "oversized body: the error names the cap"
check "oversized body keeps every route" own_is_expected
conf ""

md_control '{"mode": "ok", "set": {"interfaces.private.0.ipv4.gateway": "10.1.0.1;x"}}'
vpr sync
expect_rc 1 "invalid gateway in metadata"
expect_err 'metadata: interfaces.private[0].ipv4.gateway "10.1.0.1;x" is not an IPv4 address' "invalid gateway: the error names field and value"
check "invalid gateway keeps every route" own_is_expected

md_control '{"mode": "ok", "set": {"interfaces.private.0.mac": "aa:bb:cc:00:00:99"}}'
vpr sync
expect_rc 1 "no interface with the metadata's MAC"
expect_err "no network interface has the private NIC's MAC aa:bb:cc:00:00:99" "missing NIC: the error names the MAC"
check "missing NIC keeps every route" own_is_expected

# ---- proxies never apply ----
md_control '{"mode": "ok"}'
ip netns exec "$DR" env http_proxy=http://192.0.2.1:3128 HTTP_PROXY=http://192.0.2.1:3128 ALL_PROXY=http://192.0.2.1:3128 \
        "$VPR" --config "$CONF" sync >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err") OUT=
expect_rc 0 "sync with proxy variables set goes straight to the metadata service"

# ---- the peering flag ----
md_control '{"mode": "ok", "set": {"features.vpc_peering_enabled": false}}'
vpr sync
expect_rc 0 "sync with vpc_peering_enabled false"
check "vpc_peering_enabled false removes own routes" no_own_routes
check "vpc_peering_enabled false leaves other routes" foreign_untouched
check_not "peered host unreachable once peering is disabled" can_ping
expect_err "vpc_peering_enabled=false (peering_flag = honor: no routes wanted)" "log says why routes went"

conf "peering_flag = ignore"
vpr sync
expect_rc 0 "peering_flag = ignore installs despite the flag"
check "peering_flag = ignore: routes present" own_is_expected
conf ""

md_control '{"mode": "ok", "delete": ["features"]}'
vpr sync
expect_rc 0 "sync without features (older droplet)"
check "absent flag means install" own_is_expected

md_control '{"mode": "ok", "set": {"interfaces.private.0.mac": "AA:BB:CC:00:00:02"}}'
vpr sync
expect_rc 0 "upper-case MAC in the metadata"
check "upper-case MAC still finds ens4" own_is_expected
md_control '{"mode": "ok"}'

# ---- flush ----
vpr flush
expect_rc 0 "flush"
check "flush removes own routes" no_own_routes
check "flush leaves every other route" foreign_untouched
vpr flush
expect_rc 0 "flush with nothing to flush"

# ---- an equal route from DigitalOcean's own image is recognised, not doubled ----
ip -n "$DR" route add 10.0.0.0/8 via "$GW_IP" dev "$NIC" metric 101 mtu 1500 proto static
FOREIGN_BEFORE=$(ip -n "$DR" route show table main | grep -v 'proto 241')
vpr sync
expect_rc 0 "sync next to an equal proto static route"
check "equal route not doubled" test "$(ip -n "$DR" route show table main 10.0.0.0/8 | grep -c 'metric 101')" -eq 1
check "equal static route left as it was" foreign_untouched
check "the other two are installed" test "$(own_routes | wc -l)" -eq 2
vpr status
case $OUT in *"present    10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto static"*) ok "status reports the equal route as present, owned by static" ;; *) not_ok "status shows present"; vpr_diag ;; esac
vpr flush
check "flush leaves the equal static route" test "$(ip -n "$DR" route show table main 10.0.0.0/8 proto static | wc -l)" -eq 1
ip -n "$DR" route del 10.0.0.0/8 proto static

# ---- a conflicting route of another program ----
ip -n "$DR" route add 172.16.0.0/12 via 192.0.2.1 dev eth0 metric 101 proto static
FOREIGN_BEFORE=$(ip -n "$DR" route show table main | grep -v 'proto 241')
vpr sync
expect_rc 3 "sync with a conflicting route"
expect_err "conflict: want 172.16.0.0/12 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241, but 172.16.0.0/12 via 192.0.2.1 dev eth0 metric 101 proto static holds" "conflict names both routes"
check "conflicting route untouched" foreign_untouched
check "the non-conflicting routes are installed" test "$(own_routes | wc -l)" -eq 2
vpr sync --dry-run
expect_rc 3 "dry run reports the conflict"
vpr flush
ip -n "$DR" route del 172.16.0.0/12 proto static

# ---- the private NIC down: one clear line, nothing removed ----
vpr sync
ip -n "$DR" link set "$NIC" down
FOREIGN_DOWN=$(ip -n "$DR" route show table main proto 241)
vpr sync
expect_rc 1 "sync with the private NIC down"
expect_err "private NIC ens4 (aa:bb:cc:00:00:02) is down; not routing through it; nothing changed" "NIC down named in one line"
check "NIC down: nothing deleted" test "$(ip -n "$DR" route show table main proto 241)" = "$FOREIGN_DOWN"
ip -n "$DR" link set "$NIC" up
vpr sync
expect_rc 0 "sync once the NIC is back up"
check "NIC back up: routes back" own_is_expected
vpr flush

# ---- routes_file, another table, networks inside the private subnet ----
printf '# peered VPCs\n10.120.0.0/20\n\n10.116.0.0/24   # inside our own subnet\n10.130.0.0/16\n' >"$TESTDIR/routes"
conf "routes_file = $TESTDIR/routes" "table = 100"
vpr sync
expect_rc 0 "sync from a routes_file into table 100"
check "routes_file routes in table 100" test "$(ip -n "$DR" route show table 100 proto 241 | sed 's/ *$//')" = "10.120.0.0/20 via 10.116.0.1 dev ens4 metric 101 mtu 1500
10.130.0.0/16 via 10.116.0.1 dev ens4 metric 101 mtu 1500"
expect_err "Skipping 10.116.0.0/24: it lies inside the droplet's private subnet 10.116.0.0/20" "network inside the private subnet skipped with a warning"
check "main table untouched by a table 100 sync" no_own_routes
vpr -q sync
expect_rc 0 "quiet sync"
case $ERR in *"In sync"*) not_ok "-q hides info lines"; vpr_diag ;; *) ok "-q hides info lines" ;; esac
vpr flush
check "flush empties table 100 of own routes" test -z "$(ip -n "$DR" route show table 100 proto 241)"
conf ""

# ---- many routes at once: the changes go out in windows, and every acknowledgement comes back ----
"$PYTHON" -c 'print("\n".join("10.%d.%d.0/24" % (x, y) for x in range(130, 142) for y in range(250)))' >"$TESTDIR/many"
conf "routes_file = $TESTDIR/many" "max_routes = 5000"
vpr sync
expect_rc 0 "sync of 3000 routes"
check "all 3000 routes installed" test "$(own_routes | wc -l)" -eq 3000
vpr sync
expect_rc 0 "converged sync of 3000 routes"
expect_err "In sync: 3000 routes" "3000 routes in sync"
vpr flush
expect_rc 0 "flush of 3000 routes"
check "flush removed all 3000" no_own_routes
conf ""

# ---- the private address missing from the NIC: warned, the kernel's refusal quoted ----
ip -n "$DR" addr del "$PRIV_IP/20" dev "$NIC"
vpr sync
expect_rc 1 "sync when the NIC lacks the private address"
expect_err "ens4 does not carry the private address 10.116.0.2/20" "missing address warned"
expect_err "(kernel: Nexthop has invalid gateway)" "kernel's reason quoted"
ip -n "$DR" addr add "$PRIV_IP/20" dev "$NIC"

# ---- interface override, config errors ----
conf "interface = eth0"
vpr sync --dry-run
expect_err "interface = eth0 has MAC aa:bb:cc:00:00:01, but the metadata's private NIC has aa:bb:cc:00:00:02" "interface override with another MAC warns"
conf "interface = nosuch0"
vpr sync
expect_rc 1 "interface override naming a missing interface"
expect_err "interface nosuch0 (from the config's interface key) does not exist" "missing override interface named"

conf "metric = lots"
vpr sync
expect_rc 2 "bad config value"
expect_err "vpc-peer-routes.conf:1: metric \"lots\" is not a number from 0 to 4294967295" "config error quotes file, line and value"
conf ""
ip netns exec "$DR" "$VPR" --config "$TESTDIR/missing.conf" sync >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err")
expect_rc 2 "explicit missing config"
vpr --protocol 3 sync
expect_rc 2 "--protocol naming boot routes"
expect_err "--protocol: protocol \"3\" belongs to boot routes" "--protocol error names the value"
vpr bogus
expect_rc 2 "unknown command"
vpr status --dry-run
expect_rc 2 "option of another command"

# ---- another protocol number is another owner ----
vpr --protocol 250 sync
expect_rc 0 "sync with --protocol 250"
check "routes carry protocol 250" test "$(ip -n "$DR" route show table main proto 250 | wc -l)" -eq 3
vpr flush
check "flush with the default protocol leaves protocol 250 alone" test "$(ip -n "$DR" route show table main proto 250 | wc -l)" -eq 3
vpr --protocol 250 flush
check "flush --protocol 250 removes them" test "$(ip -n "$DR" route show table main proto 250 | wc -l)" -eq 0

# ---- sync --wait with source = metadata: nothing to wait for, one sync ----
vpr flush
before=$(wc -l <"$REQLOG")
vpr sync --wait=1h
expect_rc 0 "sync --wait with source = metadata"
check "sync --wait with source = metadata installs the routes" own_is_expected
check "sync --wait with source = metadata asks the metadata once" test $(($(wc -l <"$REQLOG") - before)) -eq 1
vpr flush

# ---- two own routes in one slot (an interrupted run): the right one stays, the stale one goes ----
md_control '{"mode": "ok", "set": {"interfaces.private.0.ipv4.gateway": "10.116.0.3"}}'
vpr sync
ip -n "$DR" route append 10.0.0.0/8 via 10.116.0.2 dev "$NIC" metric 101 mtu 1500 proto 241
vpr sync
expect_rc 0 "sync with a stale own route beside the right one in its slot"
check "the own route that matches stays" own_count "10.0.0.0/8 via 10.116.0.3 dev ens4 metric 101 mtu 1500" 1
check "the stale own route is gone" own_count "via 10.116.0.2" 0
md_control '{"mode": "ok"}'
vpr sync
check "back to the documented routes" own_is_expected

# ---- an equal route of another program appended beside ours: one route per destination ----
ip -n "$DR" route append 10.0.0.0/8 via "$GW_IP" dev "$NIC" metric 101 mtu 1500 proto static
vpr sync
expect_rc 0 "sync beside an equal route of another program"
check "one route for 10.0.0.0/8, the other program's" test "$(ip -n "$DR" route show 10.0.0.0/8 | wc -l)" -eq 1 -a \
        -n "$(ip -n "$DR" route show 10.0.0.0/8 proto static)"
check "the peered host answers through it" can_ping
vpr status
check "status lists 10.0.0.0/8 once, as present" test "$(grep -c ' 10.0.0.0/8 ' <<<"$OUT")" -eq 1 -a \
        "$(grep -c 'present    10.0.0.0/8 ' <<<"$OUT")" -eq 1
ip -n "$DR" route del 10.0.0.0/8 proto static
vpr sync
check "ours is back once the other program's goes" own_is_expected

# ---- an owner record naming another program's protocol adopts nothing ----
ip -n "$DR" route add 10.203.0.0/24 via "$GW_IP" dev "$NIC" proto static
printf 'protocol = 4\ntable = 254\n' >"$TESTDIR/owner"
vpr sync
expect_rc 0 "sync with an owner record naming protocol 4 (static)"
expect_err "Ignoring $TESTDIR/owner: it names the protocol number of the kernel or another program" "one warning says why"
check "a static route survives that sync" test -n "$(ip -n "$DR" route show 10.203.0.0/24 proto static)"
check "the record now names the agent's protocol" grep -qx "protocol = 241" "$TESTDIR/owner"
printf 'protocol = 4\ntable = 254\n' >"$TESTDIR/owner"
vpr flush
expect_rc 0 "flush with an owner record naming protocol 4"
check "a static route survives that flush" test -n "$(ip -n "$DR" route show 10.203.0.0/24 proto static)"
check "flush removed the agent's own routes" no_own_routes
ip -n "$DR" route del 10.203.0.0/24

# ---- without CAP_NET_ADMIN ----
ip netns exec "$DR" setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$VPR" --config "$CONF" sync >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err")
expect_rc 1 "sync without CAP_NET_ADMIN"
expect_err "sync needs CAP_NET_ADMIN to change routes" "missing capability named in one line"
check "nothing installed without CAP_NET_ADMIN" no_own_routes

tap_done
