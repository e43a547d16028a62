#!/bin/bash
# SPDX-License-Identifier: MIT
# doctor: installed is not the same as taken. In the simulated droplet, each thing that takes a
# peered destination's traffic away from the VPC gateway on a real droplet, and the verdict
# doctor gives, confirmed by the kernel's own lookup and, where it shows, by a ping that stops
# answering: a Docker bridge inside 172.16.0.0/12, a policy rule to a VPN's table (Tailscale's
# "from all lookup 52"), a blackhole, the routes missing, another program's route in the way,
# another program's equal routes, a NIC MTU below the routes' mtu, a gateway that does not
# answer ARP, and strict rp_filter.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"

droplet_test_start
conf
vpr sync

# out_has "text" "what": an ok line when the last vpr call printed text on stdout.
out_has() {
        case $OUT in
        *"$1"*) ok "$2" ;;
        *)
                not_ok "$2"
                diag "stdout lacks: $1"
                vpr_diag
                ;;
        esac
}
# doctor_json 'python assertions on d': the last vpr call printed JSON that passes them.
doctor_json() {
        printf '%s' "$OUT" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
v = {x["destination"]: x for x in d["destinations"]}
'"$1"
}

# ---- everything in place ----
vpr doctor
expect_rc 0 "doctor: every destination ok"
out_has "10.0.0.0/8         ok        our route: 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241" \
        "ok names our route"
out_has "10.10.0.0/16 dev eth0 metric 0 proto kernel: the droplet's anchor network, where no VPC can be" \
        "the anchor network inside 10.0.0.0/8 is named, not counted against it"
out_has "3 of 3 destinations ok" "the summary counts them"
vpr doctor --json
if doctor_json '
assert d["ok"] and d["version"] == 1 and d["problems"] == [], d
assert all(x["verdict"] == "ok" for x in d["destinations"]), d
assert v["172.16.0.0/12"]["probe"] == "172.31.255.254" and v["172.16.0.0/12"]["takes"]["device"] == "ens4", v
'; then ok "doctor --json: ok, each with its probe and the route the kernel takes"; else not_ok "doctor --json ok"; vpr_diag; fi
vpr status
check_not "status has no doctor line when doctor would find nothing" grep -q "^Doctor:" <<<"$OUT"

# ---- a Docker bridge in 172.18.0.0/16 (moby 46615) ----
ip -n "$DR" link add br-3f2a type bridge
ip -n "$DR" addr add 172.18.0.1/16 dev br-3f2a
ip -n "$DR" link set br-3f2a up
vpr doctor
expect_rc 3 "doctor: a Docker bridge inside 172.16.0.0/12"
out_has "172.16.0.0/12      shadowed  172.18.0.0/16 dev br-3f2a metric 0 proto kernel (a Docker bridge) takes 172.18.255.254" \
        "shadowed, naming the bridge's route, its protocol and device, and the address it takes"
vpr doctor --json
if doctor_json '
x = v["172.16.0.0/12"]
assert not d["ok"] and x["verdict"] == "shadowed" and x["takes"] is not None, x
assert v["10.0.0.0/8"]["verdict"] == "ok" and v["192.168.0.0/16"]["verdict"] == "ok", v
'; then ok "doctor --json: shadowed, the others still ok"; else not_ok "doctor --json shadowed"; vpr_diag; fi
vpr status
expect_rc 0 "status still says the routes are in place"
out_has "Doctor:      172.16.0.0/12 shadowed; see vpc-peer-routes doctor" "status says in one line that doctor finds more"
# Strict rp_filter on top: the replies would be dropped too.
ip netns exec "$DR" sysctl -qw net.ipv4.conf.ens4.rp_filter=1
vpr doctor
out_has "rp_filter is strict on ens4: replies from the peers that arrive there are dropped too" "strict rp_filter is named with it"
out_has "rp_filter 1 (strict)" "and shown for the NIC"
ip netns exec "$DR" sysctl -qw net.ipv4.conf.ens4.rp_filter=0
ip -n "$DR" link del br-3f2a

# ---- a VPN's table ahead of main: Tailscale's rule 5270 and its table 52 ----
check "before: the peered host answers" can_ping
ip -n "$DR" link add tailscale0 type bridge
ip -n "$DR" link set tailscale0 up
ip -n "$DR" route add 10.120.0.0/20 dev tailscale0 table 52
ip -n "$DR" rule add pref 5270 lookup 52
ip -n "$DR" rule add pref 5210 fwmark 0x80000/0xff0000 lookup main
check_not "with the rule, the peered host does not answer" can_ping
vpr doctor
expect_rc 3 "doctor: a policy rule sends a peered range to another table"
out_has "10.0.0.0/8         rule      rule 5270: from all lookup 52 sends 10.120.0.0/20 to table 52, where 10.120.0.0/20 dev tailscale0 metric 0 proto boot table 52 (Tailscale) takes 10.120.15.254" \
        "rule, naming the rule, the table and the route that takes it"
check_not "the fwmark rule (Tailscale's own traffic) is not blamed" grep -q "rule 5210" <<<"$OUT"
vpr doctor --json
if doctor_json 'assert v["10.0.0.0/8"]["verdict"] == "rule", v'; then ok "doctor --json: rule"; else not_ok "doctor --json rule"; vpr_diag; fi
ip -n "$DR" rule del pref 5270
ip -n "$DR" rule del pref 5210
ip -n "$DR" link del tailscale0
check "without the rule, the peered host answers again" can_ping

# ---- a blackhole inside 192.168.0.0/16 ----
ip -n "$DR" route add blackhole 192.168.5.0/24
vpr doctor
expect_rc 3 "doctor: a blackhole inside a destination"
out_has "192.168.0.0/16     shadowed  blackhole 192.168.5.0/24 metric 0 proto boot drops 192.168.5.254" "shadowed: the blackhole drops it"
ip -n "$DR" route del blackhole 192.168.5.0/24

# ---- missing, conflict, present ----
vpr flush
vpr doctor
expect_rc 3 "doctor: the routes missing"
out_has "10.0.0.0/8         missing   no route 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241 in table 254; \`vpc-peer-routes sync\` installs it" \
        "missing says what is missing and what installs it"
out_has "0 of 3 destinations ok" "none ok"
ip -n "$DR" route add 192.168.0.0/16 via 192.0.2.1 dev eth0 metric 101 proto static
vpr doctor
out_has "192.168.0.0/16     conflict  192.168.0.0/16 via 192.0.2.1 dev eth0 metric 101 proto static holds the destination and metric and goes elsewhere" \
        "conflict names the route in the way"
ip -n "$DR" route del 192.168.0.0/16 via 192.0.2.1 dev eth0 metric 101
# DigitalOcean's own vpc-peering.service (newer images) installs the same three routes.
for net in 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16; do
        ip -n "$DR" route add "$net" via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto static
done
vpr doctor
expect_rc 0 "doctor: another program's equal routes are ok"
out_has "172.16.0.0/12      ok        an equal route of another program: 172.16.0.0/12 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto static" \
        "ok names the other program's route"
vpr sync
expect_err "In sync: 3 routes present, held by another program (via 10.116.0.1 dev ens4); nothing to change" \
        "sync says the routes are another program's, not its own"
for net in 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16; do
        ip -n "$DR" route del "$net" via 10.116.0.1 dev ens4 metric 101 proto static
done
vpr sync

# ---- the private NIC's MTU below the routes' mtu ----
ip -n "$DR" link set ens4 mtu 1400
vpr doctor
expect_rc 3 "doctor: an MTU below the routes' mtu"
out_has "Problem:     ens4 has MTU 1400, less than the routes' mtu 1500: packets larger than 1400 bytes to the peers are dropped (set mtu = 1400)" \
        "the MTU problem says what happens and what to set"
ip -n "$DR" link set ens4 mtu 1500

# ---- a VPC gateway that does not answer ARP ----
ip -n "$GW" link set vpc0 arp off
ip -n "$DR" neigh flush dev ens4
ip netns exec "$DR" ping -c 1 -W 1 -q "$PEER_IP" >/dev/null 2>&1
neigh_failed() {
        ip -n "$DR" neigh show 10.116.0.1 dev ens4 | grep -q FAILED
}
if wait_for 10 neigh_failed; then
        vpr doctor
        expect_rc 3 "doctor: a gateway that does not answer ARP"
        out_has "Problem:     the VPC gateway 10.116.0.1 does not answer ARP on ens4 (neighbour FAILED)" "the ARP problem is named"
        out_has "Gateway:     10.116.0.1, neighbour FAILED" "and the neighbour state shown"
else
        not_ok "the kernel marks the silent gateway FAILED"
        diag "$(ip -n "$DR" neigh show dev ens4)"
fi
ip -n "$GW" link set vpc0 arp on
ip -n "$DR" neigh flush dev ens4
check "the gateway answers again" can_ping
vpr doctor
expect_rc 0 "doctor: all ok again"

tap_done
