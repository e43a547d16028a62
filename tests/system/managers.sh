#!/bin/bash
# SPDX-License-Identifier: MIT
# The agent's service beside the network managers that own the private NIC on real droplets,
# under a real systemd (a Debian 12 root booted with systemd-nspawn in the simulated droplet's
# namespace, the packaged agent installed):
#   - systemd-networkd with a .network for the NIC (Ubuntu/netplan droplets): restart, reload,
#     reconfigure, down/up;
#   - the same .network declaring the three routes itself, as DigitalOcean's newer images do:
#     they count as present, the agent adds none of its own, nothing fights;
#   - ifupdown (DigitalOcean's Debian images): ifdown/ifup;
#   - NetworkManager (RHEL-family droplets): device reapply, connection up;
#   - a Docker-style bridge in 172.18.0.0/16 with a container-side address: doctor says
#     172.16.0.0/12 is shadowed and exits 3.
# After each disturbance the routes are back, the peered host answers, and in the 10 s after it
# no route is re-added more than twice (no fight). How long the routes took to come back after
# the NIC's address did is measured from the kernel's own events and shown, not asserted.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"
. "$(dirname "$0")/../lib/nspawn.sh"
export LC_ALL=C.UTF-8

require_root
nspawn_require_tools
droplet_test_start
CTR=vpr-$$-ctr
MON=
managers_cleanup() {
        [ -n "$MON" ] && kill "$MON" 2>/dev/null
        ip netns del "$CTR" 2>/dev/null
        nspawn_cleanup
}
trap managers_cleanup EXIT

nspawn_build_deb
if nspawn_root bookworm-managers ifupdown,network-manager,libpam-systemd; then
        ok "a Debian 12 root with systemd-networkd, ifupdown and NetworkManager (cached in $NSPAWN_CACHE)"
else
        not_ok "a Debian 12 root with the network managers"
        diag "$(tail -n 20 "$NSPAWN_CACHE/debootstrap-bookworm-managers.log")"
        tap_done
        exit 1
fi

NETWORK=etc/systemd/network/10-ens4.network
PRESENT_EXPECTED="10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500
172.16.0.0/12 via 10.116.0.1 dev ens4 metric 101 mtu 1500
192.168.0.0/16 via 10.116.0.1 dev ens4 metric 101 mtu 1500"
# `ip route show proto static` leaves out the protocol it was asked for.
networkd_present() {
        local got
        got=$(ip -n "$DR" route show proto static | sed 's/ *$//')
        [ "$got" = "$PRESENT_EXPECTED" ] || {
                echo "proto static routes:"
                echo "$got"
                return 1
        }
}

# boot_with MANAGER: a fresh copy of the root in which MANAGER alone manages ens4, booted. The
# NIC starts as a droplet's does at boot: down and without its address, which the manager sets.
boot_with() {
        local m=$1 root=$TESTDIR/root-$1
        nspawn_poweroff
        if ! nspawn_copy_root bookworm-managers "$root"; then
                not_ok "$m: the .deb installs"
                diag "$(cat "$TESTDIR/dpkg.log")"
                return 1
        fi
        systemctl --root="$root" disable --quiet NetworkManager.service networking.service systemd-networkd.service 2>/dev/null
        case $m in
        networkd | networkd-routes)
                mkdir -p "$root/etc/systemd/network"
                printf '[Match]\nName=ens4\n\n[Network]\nAddress=10.116.0.2/20\n' >"$root/$NETWORK"
                if [ "$m" = networkd-routes ]; then
                        for net in 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16; do
                                printf '\n[Route]\nDestination=%s\nGateway=10.116.0.1\nMetric=101\nMTUBytes=1500\n' "$net" >>"$root/$NETWORK"
                        done
                fi
                systemctl --root="$root" enable --quiet systemd-networkd.service
                ;;
        ifupdown)
                printf 'auto lo\niface lo inet loopback\n\nauto ens4\niface ens4 inet static\n    address 10.116.0.2/20\n' \
                        >"$root/etc/network/interfaces"
                systemctl --root="$root" enable --quiet networking.service
                ;;
        networkmanager)
                mkdir -p "$root/etc/NetworkManager/system-connections" "$root/etc/NetworkManager/conf.d"
                # The public NIC stays as the droplet has it.
                printf '[keyfile]\nunmanaged-devices=interface-name:eth0\n' >"$root/etc/NetworkManager/conf.d/90-droplet.conf"
                printf '[connection]\nid=ens4\ntype=ethernet\ninterface-name=ens4\n\n[ipv4]\nmethod=manual\naddress1=10.116.0.2/20\n\n[ipv6]\nmethod=ignore\n' \
                        >"$root/etc/NetworkManager/system-connections/ens4.nmconnection"
                chmod 600 "$root/etc/NetworkManager/system-connections/ens4.nmconnection"
                systemctl --root="$root" enable --quiet NetworkManager.service
                ;;
        esac
        ip -n "$DR" addr flush dev ens4
        ip -n "$DR" link set ens4 down
        if nspawn_boot "$root"; then
                ok "$m: the container boots systemd ($(in_ct systemctl is-system-running))"
        else
                not_ok "$m: the container boots systemd"
                diag "$(tail -n 20 "$TESTDIR/nspawn.log")"
                return 1
        fi
        within 30 "$m: the agent's service runs" running
}

# disturb CASE "what" SHELL-COMMAND: runs the command in the container while the kernel's route
# events are recorded, then watches 10 s. EXPECT: own (our three routes) or present (the
# manager's own three, none of ours).
disturb() {
        local expect=$1 what=$2 cmd=$3 stats adds ms
        ip -n "$DR" -ts monitor route >"$TESTDIR/monitor" 2>&1 &
        MON=$!
        # The monitor is listening once it reports a route added for the purpose (on the public
        # NIC, in no slot the agent wants, so it changes nothing the agent does).
        monitor_sees_probe() {
                # Deleted and added each time: replacing a route by an identical one sends no event.
                ip -n "$DR" route del 203.0.113.99/32 dev eth0 proto 99 2>/dev/null
                ip -n "$DR" route add 203.0.113.99/32 dev eth0 proto 99 2>/dev/null
                grep -q '^\[.*\] 203.0.113.99 ' "$TESTDIR/monitor"
        }
        if ! wait_for 10 monitor_sees_probe; then
                not_ok "$what: the route monitor is listening"
        fi
        ip -n "$DR" route del 203.0.113.99/32 dev eth0 proto 99 2>/dev/null
        if ! in_ct sh -c "$cmd" >"$TESTDIR/disturb.out" 2>&1; then
                not_ok "$what: $cmd runs"
                diag "$(cat "$TESTDIR/disturb.out")"
        fi
        sleep 10
        kill "$MON" 2>/dev/null
        wait "$MON" 2>/dev/null
        MON=
        # own route adds per destination; ms from the address's return to the last own add
        stats=$("$PYTHON" - "$TESTDIR/monitor" <<'PY'
import re, sys
from collections import Counter
from datetime import datetime
adds, back, last = Counter(), None, None
for line in open(sys.argv[1]):
    m = re.match(r"^\[([^\]]+)\] (.*)$", line.strip())
    if not m:
        continue
    t, ev = datetime.fromisoformat(m.group(1)).timestamp(), m.group(2)
    if ev.startswith("Deleted"):
        continue
    if ev.startswith("10.116.0.0/20 dev ens4 proto kernel"):
        back = t
    elif re.search(r" proto (241|vpc-peer) ", ev + " "):
        adds[ev.split()[0]] += 1
        last = t
ms = "%.1f" % ((last - back) * 1000) if back is not None and last is not None and last >= back else "-"
print(max(adds.values()) if adds else 0, ms)
PY
)
        adds=${stats% *} ms=${stats#* }
        if [ "$expect" = own ]; then
                if [ "$ms" = - ]; then
                        check "$what: all three routes in place (none was lost)" own_is_expected
                else
                        check "$what: all three routes back, $ms ms after the NIC's address" own_is_expected
                fi
        else
                check "$what: the manager's three routes back" networkd_present
                check "$what: the agent added none of its own" no_own_routes
        fi
        check "$what: the peered host answers" can_ping
        check "$what: no route re-added more than twice in the 10 s after it (at most $adds)" test "$adds" -le 2
        check "$what: the service still runs" running
}

# ---- systemd-networkd manages the NIC ----
if boot_with networkd; then
        within 20 "networkd: the agent's routes installed once networkd configured the NIC" own_is_expected
        check "networkd: the peered host answers" can_ping
        disturb own "networkd: systemctl restart systemd-networkd" "systemctl restart systemd-networkd"
        disturb own "networkd: networkctl reload" "networkctl reload"
        disturb own "networkd: networkctl reconfigure ens4" "networkctl reconfigure ens4"
        disturb own "networkd: networkctl down ens4, up ens4" "networkctl down ens4 && networkctl up ens4"

        # Egress: systemd-networkd removes the routing policy rules it did not make when it
        # configures a link (ManageForeignRoutingPolicyRules=yes, its default); the agent puts
        # them back. (Its 252 keeps them over a plain restart; a reconfigure drops them.)
        own_rules_count() {
                [ "$(ip -n "$DR" rule show | grep -c ' proto 241$')" -eq "$1" ]
        }
        echo "nat_gateway = vpc" >>"$TESTDIR/root-networkd/etc/vpc-peer-routes.conf"
        in_ct systemctl reload vpc-peer-routes
        within 10 "networkd: nat_gateway = vpc puts the four egress rules in place" own_rules_count 4
        ip -n "$DR" monitor rule >"$TESTDIR/rules.monitor" 2>&1 &
        RMON=$!
        # The monitor listens once it reports a rule added for the purpose.
        rule_probe_seen() {
                ip -n "$DR" rule del priority 9 2>/dev/null
                ip -n "$DR" rule add priority 9 from 203.0.113.99 lookup 99 proto 99 &&
                        grep -q 'from 203.0.113.99 lookup 99' "$TESTDIR/rules.monitor"
        }
        wait_for 5 rule_probe_seen
        ip -n "$DR" rule del priority 9 2>/dev/null
        in_ct systemctl restart systemd-networkd
        within 10 "networkd: after systemctl restart systemd-networkd the egress rules are in place" own_rules_count 4
        in_ct networkctl reconfigure ens4
        within 10 "networkd: networkctl reconfigure ens4 removes the agent's rules" \
                grep -q '^Deleted .*lookup 241 proto 241' "$TESTDIR/rules.monitor"
        within 10 "networkd: the egress rules are back" own_rules_count 4
        kill "$RMON" 2>/dev/null
        wait "$RMON" 2>/dev/null
        sed -i '/^nat_gateway = vpc$/d' "$TESTDIR/root-networkd/etc/vpc-peer-routes.conf"
        in_ct systemctl reload vpc-peer-routes
        within 10 "networkd: nat_gateway = off removes them again" own_rules_count 0

        # A Docker-style network: a bridge in 172.18.0.0/16 and a container-side address on it.
        ip netns add "$CTR"
        ip -n "$DR" link add br-3f2a type bridge
        ip -n "$DR" link add veth3f2a type veth peer name eth0 netns "$CTR"
        ip -n "$DR" link set veth3f2a master br-3f2a up
        ip -n "$DR" addr add 172.18.0.1/16 dev br-3f2a
        ip -n "$DR" link set br-3f2a up
        ip -n "$CTR" addr add 172.18.0.2/16 dev eth0
        ip -n "$CTR" link set eth0 up
        ip -n "$CTR" link set lo up
        in_ct vpc-peer-routes doctor >"$TESTDIR/doctor.out" 2>&1
        rc=$?
        check "doctor beside a Docker-style bridge exits 3 (exit $rc)" test "$rc" -eq 3
        check "doctor names the bridge that shadows 172.16.0.0/12" \
                grep -q "^172.16.0.0/12      shadowed  172.18.0.0/16 dev br-3f2a .*(a Docker bridge) takes 172.18.255.254" "$TESTDIR/doctor.out"
        check "the container behind the bridge answers from the droplet" ip netns exec "$DR" ping -c 1 -W 1 -q 172.18.0.2
        in_ct vpc-peer-routes status >"$TESTDIR/status.out" 2>&1
        check "status says doctor finds more" grep -q "^Doctor:      172.16.0.0/12 shadowed" "$TESTDIR/status.out"
        ip -n "$DR" link del br-3f2a
        ip -n "$DR" link del veth3f2a 2>/dev/null
        ip netns del "$CTR"
        in_ct vpc-peer-routes doctor >"$TESTDIR/doctor.out" 2>&1
        rc=$?
        check "without the bridge doctor exits 0 (exit $rc)" test "$rc" -eq 0
fi

# ---- the same .network with the three routes in it, as DigitalOcean's newer images ----
if boot_with networkd-routes; then
        within 20 "networkd with routes: networkd installs its three routes" networkd_present
        check "networkd with routes: the agent adds none of its own" no_own_routes
        in_ct vpc-peer-routes status >"$TESTDIR/status.out" 2>&1
        check "networkd with routes: status shows the three as present" test "$(grep -c '^  present ' "$TESTDIR/status.out")" -eq 3
        present_status() {
                case $(svc StatusText) in "3 routes present, held by another program"*) return 0 ;; *) return 1 ;; esac
        }
        within 10 "networkd with routes: the service's STATUS says they are another program's" present_status
        disturb present "networkd with routes: networkctl reconfigure ens4" "networkctl reconfigure ens4"
        disturb present "networkd with routes: networkctl down ens4, up ens4" "networkctl down ens4 && networkctl up ens4"
        link_configured() {
                local state
                state=$(in_ct networkctl status ens4 --no-pager 2>&1 | sed -n 's/^ *State: //p')
                case $state in routable*) return 0 ;; *) echo "ens4: $state"; return 1 ;; esac
        }
        check "networkd with routes: networkd's link is still routable, none of its routes refused" link_configured
fi

# ---- ifupdown (/etc/network/interfaces) ----
if boot_with ifupdown; then
        within 20 "ifupdown: the agent's routes installed" own_is_expected
        disturb own "ifupdown: ifdown ens4, ifup ens4" "ifdown ens4 && ifup ens4"
        # DigitalOcean's own helper on newer images: doctor names it.
        printf '#!/bin/sh\n' >"$TESTDIR/root-ifupdown/etc/network/if-up.d/vpc-peering"
        in_ct vpc-peer-routes doctor >"$TESTDIR/doctor.out" 2>&1
        check "ifupdown: doctor names DigitalOcean's peering helper" \
                grep -qx "Note:        DigitalOcean's peering helper /etc/network/if-up.d/vpc-peering is installed; its routes count as present" \
                "$TESTDIR/doctor.out"
fi

# ---- NetworkManager ----
if boot_with networkmanager; then
        within 30 "NetworkManager: the agent's routes installed" own_is_expected
        disturb own "NetworkManager: nmcli device reapply ens4" "nmcli device reapply ens4"
        disturb own "NetworkManager: nmcli connection up ens4" "nmcli connection up ens4"

        # The connection declares the three routes and is reapplied while the agent's are in
        # place: NetworkManager appends its own beside them, and the agent's go. One route per
        # destination, the manager's.
        one_per_destination() {
                local net
                for net in 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16; do
                        [ "$(ip -n "$DR" route show "$net" | wc -l)" -eq 1 ] || {
                                ip -n "$DR" route show "$net"
                                return 1
                        }
                done
        }
        check "NetworkManager: the agent's routes are in place before the connection declares its own" own_is_expected
        disturb present "NetworkManager with routes: nmcli device reapply ens4" \
                "nmcli connection modify ens4 ipv4.routes '10.0.0.0/8 10.116.0.1 101 mtu=1500, 172.16.0.0/12 10.116.0.1 101 mtu=1500, 192.168.0.0/16 10.116.0.1 101 mtu=1500' && nmcli device reapply ens4"
        check "NetworkManager with routes: one route per destination" one_per_destination
        in_ct vpc-peer-routes status >"$TESTDIR/status.out" 2>&1
        check "NetworkManager with routes: status lists each destination once, as present" \
                test "$(grep -c '^  present ' "$TESTDIR/status.out")" -eq 3 -a "$(grep -cE '^  [a-z]+ +[0-9]' "$TESTDIR/status.out")" -eq 3
        in_ct vpc-peer-routes doctor >"$TESTDIR/doctor.out" 2>&1
        check "NetworkManager with routes: doctor prints one line per destination" \
                test "$(grep -cE '^(10.0.0.0/8|172.16.0.0/12|192.168.0.0/16) ' "$TESTDIR/doctor.out")" -eq 3
        disturb own "NetworkManager: the routes leave the connection, nmcli device reapply ens4" \
                "nmcli connection modify ens4 ipv4.routes '' && nmcli device reapply ens4"
fi

if nspawn_poweroff; then ok "the last container powers off"; else not_ok "the last container powers off"; fi
tap_done
