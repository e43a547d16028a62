#!/bin/bash
# SPDX-License-Identifier: MIT
# nat_gateway: egress through the VPC side without touching main, and with inbound connections
# to the public address still answered. An "internet" host is reachable both through the public
# gateway and through the VPC gateway (the NAT gateway's stand-in); it tells by a connection's
# source address which way it came, and its strict rp_filter drops a reply that takes the other
# way, as a real NAT gateway would break it.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"

droplet_test_start

INET_IP=198.51.100.7
PUB_IP=192.0.2.10
INET=$DR-inet
EXTRA_NS=$INET

# The internet: one address, two ways in (203.0.113.0/30 from the public gateway, .4/30 from the
# VPC gateway), and the droplet's public and private subnets each reachable the way they came.
internet_setup() {
        ip netns add "$INET" && ip -n "$INET" link set lo up &&
        ip -n "$INET" addr add "$INET_IP/32" dev lo &&
        ip -n "$MD" link add inet0 type veth peer name pub netns "$INET" &&
        ip -n "$MD" addr add 203.0.113.1/30 dev inet0 && ip -n "$MD" link set inet0 up &&
        ip -n "$INET" addr add 203.0.113.2/30 dev pub && ip -n "$INET" link set pub up &&
        ip -n "$GW" link add inet0 type veth peer name vpc netns "$INET" &&
        ip -n "$GW" addr add 203.0.113.5/30 dev inet0 && ip -n "$GW" link set inet0 up &&
        ip -n "$INET" addr add 203.0.113.6/30 dev vpc && ip -n "$INET" link set vpc up &&
        ip -n "$INET" route add 192.0.2.0/24 via 203.0.113.1 dev pub &&
        ip -n "$INET" route add 10.116.0.0/20 via 203.0.113.5 dev vpc &&
        ip -n "$MD" route add "$INET_IP/32" via 203.0.113.2 dev inet0 &&
        ip -n "$GW" route add "$INET_IP/32" via 203.0.113.6 dev inet0 &&
        ip netns exec "$MD" sysctl -qw net.ipv4.ip_forward=1 &&
        for k in all default pub vpc; do
                ip netns exec "$INET" sysctl -qw "net.ipv4.conf.$k.rp_filter=1" || return 1
        done
        # Who is calling: answers each connection with its source address.
        ip netns exec "$INET" "$PYTHON" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080)); s.listen(16); print("ready", flush=True)
while True:
    c, a = s.accept(); c.sendall((a[0] + "\n").encode()); c.close()' "$INET_IP" >"$TESTDIR/inet.out" 2>&1 &
        CLEANUP_PIDS="${CLEANUP_PIDS:-} $!"
        # A service on the droplet's public address, for inbound connections.
        ip netns exec "$DR" "$PYTHON" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 2222)); s.listen(16); print("ready", flush=True)
while True:
    c, a = s.accept(); c.sendall(b"hello\n"); c.close()' "$PUB_IP" >"$TESTDIR/ssh.out" 2>&1 &
        CLEANUP_PIDS="$CLEANUP_PIDS $!"
        wait_for 5 grep -q ready "$TESTDIR/inet.out" && wait_for 5 grep -q ready "$TESTDIR/ssh.out"
}

# The source address the internet host saw when the droplet called it.
seen_as() {
        ip netns exec "$DR" timeout 5 bash -c "exec 3<>/dev/tcp/$INET_IP/8080 && head -n 1 <&3" 2>/dev/null
}
leaves_via() {
        [ "$(seen_as)" = "$1" ]
}
# An inbound connection to the public address is answered (its reply takes the public way).
inbound_answered() {
        [ "$(ip netns exec "$INET" timeout 5 bash -c "exec 3<>/dev/tcp/$PUB_IP/2222 && head -n 1 <&3" 2>/dev/null)" = hello ]
}
metadata_answers() {
        ip netns exec "$DR" timeout 5 "$PYTHON" -c '
import urllib.request
urllib.request.urlopen("http://169.254.169.254/metadata/v1.json", timeout=3).read()' 2>/dev/null
}
# json_is FILE EXPR VALUE: the Python expression EXPR over the JSON document j is VALUE.
json_is() {
        [ "$("$PYTHON" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1)" = "$3" ]
}
routing_dump() {
        ip -n "$DR" rule show
        ip -n "$DR" route show table all | grep -v ' proto kernel\| table local'
}
main_dump() {
        ip -n "$DR" route show table main
}
own_rules() {
        # (ip rule's "proto" filter is ignored by iproute2 6.1: select by the printed protocol)
        ip -n "$DR" rule show | grep ' proto 241$'
}
egress_table() {
        ip -n "$DR" route show table 241
}
# (Functions, not "$(...)" in the arguments: wait_for runs them again at each try.)
own_rules_count() {
        [ "$(own_rules | wc -l)" -eq "$1" ]
}
egress_routes_count() {
        [ "$(egress_table | wc -l)" -eq "$1" ]
}
no_egress() {
        [ -z "$(own_rules)$(egress_table)" ]
}
egress_default_via() {
        egress_table | grep -q "^default via $1 dev ens4"
}

if ! internet_setup; then
        not_ok "the internet host could be built"
        tap_done
        exit 1
fi

# ---- before: the public way ----
check "before: the droplet reaches the internet through its public address" leaves_via "$PUB_IP"
check "before: an inbound connection to the public address is answered" inbound_answered
ROUTING_BEFORE=$(routing_dump)
MAIN_BEFORE=$(main_dump)

# ---- a gateway outside the private subnet is a config error ----
conf "nat_gateway = 10.200.0.1"
vpr sync
expect_rc 2 "nat_gateway outside the private subnet"
expect_err 'nat_gateway "10.200.0.1" is not a NAT gateway'"'"'s address in the private subnet 10.116.0.0/20' \
        "the error names the key, the value and the subnet"
check "nothing changed" test "$(routing_dump)" = "$ROUTING_BEFORE"

# ---- on ----
conf "nat_gateway = vpc"
vpr sync --dry-run
expect_rc 0 "dry run with nat_gateway = vpc"
case $OUT in
*"egress: via the NAT gateway"*"add 169.254.169.254/32 via 192.0.2.1 dev eth0"*"add 0.0.0.0/0 via 10.116.0.1 dev ens4"*"add rule 32700: from all lookup main suppress_prefixlength 0"*"add rule 32703: from all lookup 241"*)
        ok "the dry run shows the egress steps in their order" ;;
*) not_ok "the dry run shows the egress steps in their order"; vpr_diag ;;
esac
check "the dry run changed nothing" test "$(routing_dump)" = "$ROUTING_BEFORE"
vpr sync --dry-run --json
printf '%s' "$OUT" >"$TESTDIR/plan.json"
check "the JSON plan lists the egress steps" json_is "$TESTDIR/plan.json" \
        '[a.get("rule") or a["route"]["destination"] for a in j["egress"]["actions"]]' \
        "['169.254.169.254/32', '0.0.0.0/0', '32700: from all lookup main suppress_prefixlength 0 proto 241', '32701: from 192.0.2.10/32 lookup main proto 241', '32702: from 10.10.0.5/32 lookup main proto 241', '32703: from all lookup 241 proto 241']"

vpr sync
expect_rc 0 "sync with nat_gateway = vpc"
check "egress leaves through the VPC side" leaves_via "$PRIV_IP"
check "an inbound connection to the public address is still answered" inbound_answered
check "the metadata service still answers" metadata_answers
check "the peered VPC is reachable" can_ping
check "the VPC gateway is reachable" can_ping "$GW_IP"
check "main is unchanged but for the peering routes" test "$(main_dump | grep -v 'proto 241')" = "$MAIN_BEFORE"
check "four rules of the agent's" own_rules_count 4
check "the egress table holds the metadata and the default route" egress_routes_count 2
vpr sync
expect_rc 0 "a second sync"
case $ERR in *"added"*|*"deleted"*) not_ok "a second sync changes nothing"; vpr_diag ;; *) ok "a second sync changes nothing" ;; esac

# ---- flush restores the earlier routing exactly ----
vpr flush
expect_rc 0 "flush"
check "after flush the routing is what it was before" test "$(routing_dump)" = "$ROUTING_BEFORE"
check "after flush the droplet leaves through its public address again" leaves_via "$PUB_IP"

# ---- the service heals rules and the table, follows the gateway, and turns off ----
vpr_service_start() {
        ip netns exec "$DR" "$VPR" --config "$CONF" run >"$TESTDIR/run.out" 2>&1 &
        SVC_PID=$!
        CLEANUP_PIDS="$CLEANUP_PIDS $SVC_PID"
}
conf "nat_gateway = vpc" "interval = 1s" "metrics_file = $TESTDIR/metrics.prom"
vpr_service_start
check "the service switches egress on" wait_for 10 leaves_via "$PRIV_IP"
state_says_egress() {
        json_is "$TESTDIR/state.json" 'j["egress"]' "{'summary': 'via the VPC gateway 10.116.0.1 dev ens4', 'active': True}" &&
        grep -q '^vpc_peer_routes_egress_active 1$' "$TESTDIR/metrics.prom"
}
if wait_for 5 state_says_egress; then ok "the state file and the metrics say egress is active"; else not_ok "the state file and the metrics say egress is active"; diag "$(cat "$TESTDIR/state.json" "$TESTDIR/metrics.prom" 2>&1 | grep -i "egress\\|status")"; fi
check "STATUS= says so too" json_is "$TESTDIR/state.json" 'j["status"].endswith("; egress via the VPC gateway 10.116.0.1 dev ens4")' True
vpr status
expect_rc 0 "status with egress in place"
case $OUT in *"Egress:      via the VPC gateway 10.116.0.1 dev ens4 (nat_gateway = vpc)"*) ok "status shows egress" ;; *) not_ok "status shows egress"; vpr_diag ;; esac
vpr status --json
printf '%s' "$OUT" >"$TESTDIR/status.json"
check "status --json shows egress" json_is "$TESTDIR/status.json" 'j["egress"]' \
        "{'summary': 'via the VPC gateway 10.116.0.1 dev ens4', 'active': True, 'table': 241}"
ip -n "$DR" rule del priority 32703
check "a deleted rule is back" wait_for 5 own_rules_count 4
ip -n "$DR" route del default table 241
check "a deleted egress route is back" wait_for 5 egress_routes_count 2
check "egress still leaves through the VPC side" leaves_via "$PRIV_IP"
vpr doctor
expect_rc 0 "doctor with egress in place"
case $OUT in *"Egress:      ok: 1.1.1.1 takes 0.0.0.0/0 via 10.116.0.1 dev ens4 metric 0 proto 241 table 241"*) ok "doctor confirms egress by a route lookup" ;; *) not_ok "doctor confirms egress by a route lookup"; vpr_diag ;; esac
ip -n "$DR" rule add priority 32000 from all lookup main proto 99
vpr doctor
expect_rc 3 "doctor when a rule takes egress elsewhere"
case $OUT in *"Problem:     egress: 1.1.1.1 takes 0.0.0.0/0 via 192.0.2.1 dev eth0"*"not the NAT gateway 10.116.0.1 in table 241"*) ok "doctor names the route egress takes instead" ;; *) not_ok "doctor names the route egress takes instead"; vpr_diag ;; esac
ip -n "$DR" rule del priority 32000

# The VPC gateway moves (the metadata says so): egress follows.
ip -n "$GW" addr add 10.116.0.9/20 dev vpc0
md_control '{"mode": "ok", "set": {"interfaces.private.0.ipv4.gateway": "10.116.0.9"}}'
check "egress follows a changed VPC gateway" wait_for 10 egress_default_via 10.116.0.9
md_control '{"mode": "ok"}'
check "and back" wait_for 10 egress_default_via 10.116.0.1

conf "interval = 1s"
kill -HUP "$SVC_PID"
if wait_for 10 no_egress; then ok "nat_gateway = off and a reload remove what egress added"; else not_ok "nat_gateway = off and a reload remove what egress added"; diag "$(own_rules; egress_table; tail -n 20 "$TESTDIR/run.out")"; fi
check "and the droplet leaves through its public address again" leaves_via "$PUB_IP"
check "and the routing is what it was before, but for the peering routes" test "$(routing_dump | grep -v 'proto 241')" = "$(printf '%s\n' "$ROUTING_BEFORE" | grep -v 'proto 241')"
kill "$SVC_PID" 2>/dev/null
wait "$SVC_PID" 2>/dev/null

# ---- source = api: egress only while the API shows an ACTIVE NAT gateway for the VPC ----
if ! api_start; then
        not_ok "the fake API could be started"
        tap_done
        exit 1
fi
econf() {
        conf "source = api" "api_url = http://192.0.2.1:8080" "api_insecure = yes" "api_token_file = $TOKEN_FILE" \
                "timeout = 2s" "connect_timeout = 1s" "$@"
}
nat_list() {
        api_set "c['nat_gateways'] = [$1]"
}
NAT_7='{"id": "9a9a9a9a-0000-4000-8000-000000000007", "name": "nat-one", "state": "ACTIVE", "vpcs": [{"vpc_uuid": c["own_vpc"], "gateway_ip": "10.116.0.7"}]}'
nat_list "$NAT_7"
econf "nat_gateway = vpc"
vpr sync
expect_rc 0 "sync with source = api and an ACTIVE NAT gateway"
check "the API was asked for the VPC's NAT gateways" grep -q '"path": "/v2/vpc_nat_gateways?per_page=200"' "$API_LOG"
check "egress leaves through the VPC side" leaves_via "$PRIV_IP"
nat_list '{"id": "9a9a9a9a-0000-4000-8000-000000000008", "state": "PROVISIONING", "vpcs": [{"vpc_uuid": c["own_vpc"], "gateway_ip": "10.116.0.7"}]}'
vpr sync
expect_rc 0 "sync when the VPC has no ACTIVE NAT gateway"
expect_err "Egress: off: the API lists no ACTIVE NAT gateway for VPC $API_OWN_VPC" "it says why egress is off"
check "egress is switched off" no_egress
check "and the droplet keeps its own way out" leaves_via "$PUB_IP"
nat_list "$NAT_7"
econf "nat_gateway = 10.116.0.7"
vpr sync
expect_rc 0 "nat_gateway = an address the API lists"
check "egress goes via that NAT gateway" egress_default_via 10.116.0.7
econf "nat_gateway = 10.116.0.8"
vpr sync
expect_rc 0 "nat_gateway = an address the API does not list"
check "egress is off" no_egress
api_set 'c["forbid"] = "vpc_nat_gateways"'
econf "nat_gateway = vpc"
vpr sync
expect_rc 1 "a token without nat_gateway:read"
expect_err "it lacks the nat_gateway:read scope" "the error names the scope"
api_set 'c.pop("forbid")'

# The service backs off when the NAT gateway goes away, with a warning and the metric.
econf "nat_gateway = vpc" "metrics_file = $TESTDIR/metrics.prom"
printf 'fleet = 1\n' >"$TESTDIR/api-fleet" # alone with its token before: no start spread
vpr_service_start
check "the service switches egress on when the API shows the NAT gateway" wait_for 10 leaves_via "$PRIV_IP"
nat_list ""
kill -HUP "$SVC_PID"
check "it switches egress off when the NAT gateway is gone" wait_for 10 no_egress
check "with a warning" wait_for 5 grep -q "Egress: off: the API lists no ACTIVE NAT gateway" "$TESTDIR/run.out"
check "and the metric" wait_for 5 grep -q '^vpc_peer_routes_egress_active 0$' "$TESTDIR/metrics.prom"
kill "$SVC_PID" 2>/dev/null
wait "$SVC_PID" 2>/dev/null

# ---- a Private Droplet: DigitalOcean routes its egress ----
md_control '{"mode": "ok", "delete": ["interfaces.public"]}'
conf "nat_gateway = vpc"
vpr sync --dry-run
expect_rc 0 "a Private Droplet with nat_gateway = vpc"
case $OUT in *"egress: no public interface: DigitalOcean routes a Private Droplet's egress itself"*) ok "it says DigitalOcean routes its egress" ;; *) not_ok "it says DigitalOcean routes its egress"; vpr_diag ;; esac
vpr sync
check "and leaves egress alone" no_egress

tap_done
