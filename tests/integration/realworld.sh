#!/bin/bash
# SPDX-License-Identifier: MIT
# Every metadata document that real droplets, DigitalOcean's documentation and its clients have
# published (tests/fixtures/realworld, and ../shared/realworld beside the checkout when it is
# there), served byte for byte in a simulated droplet built to match it: its private NIC has the
# document's MAC and address, the VPC gateway sits where the document (or, when it gives none,
# the subnet's first address) says. `sync` must install the three routes via that gateway and
# the peered host must answer; a document without a private interface must fail in one line and
# change nothing. A capture added to either folder later is tested without a code change.
# Then the December 2021 shape ("gateway": "0.0.0.0") under the service, and the gateway key.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"

require_root

DIRS="$top_srcdir/tests/fixtures/realworld $top_srcdir/../shared/realworld ${VPR_REALWORLD_DIR:-}"
WORK=$(mktemp -d /tmp/vpr-realworld.XXXXXX)
teardown() {
        droplet_cleanup
        CLEANUP_PIDS= MD_PID= TESTDIR= DR= MD= GW= PEER=
}
# droplet_setup sets its own EXIT trap: set ours again after each.
setup() {
        droplet_setup
        local r=$?
        trap 'teardown; rm -rf "$WORK"' EXIT
        return $r
}
trap 'teardown; rm -rf "$WORK"' EXIT

# One line per capture, "name<TAB>path<TAB>kind"; a name seen already with the same bytes is skipped.
"$PYTHON" - $DIRS >"$WORK/captures" <<'PY'
import glob, os, sys
seen = {}
for d in sys.argv[1:]:
    for path in sorted(glob.glob(os.path.join(d, "metadata-*.json")) + glob.glob(os.path.join(d, "fragment-interfaces-*.json"))):
        name = os.path.basename(path)
        data = open(path, "rb").read()
        if name in seen and seen[name] == data:
            continue
        label = name if name not in seen else os.path.basename(os.path.normpath(d)) + "/" + name
        seen.setdefault(name, data)
        print("%s\t%s\t%s" % (label, path, "fragment" if name.startswith("fragment-") else "document"))
PY
if [ ! -s "$WORK/captures" ]; then
        not_ok "captures found in $DIRS"
        tap_done
        exit 1
fi

# describe PATH KIND: the document as served (fragments wrapped) in $WORK/doc.json and shell
# assignments for the droplet that matches it.
describe() {
        "$PYTHON" - "$1" "$2" "$WORK/doc.json" <<'PY'
import ipaddress, json, shlex, sys
path, kind, out = sys.argv[1:4]
text = open(path).read()
if kind == "fragment":
    text = '{"interfaces": %s}' % text
open(out, "w").write(text)
doc = json.loads(text)
priv = (doc.get("interfaces") or {}).get("private") or []
if not priv:
    print("HAS_PRIVATE=0")
    sys.exit(0)
p = priv[0]["ipv4"]
net = ipaddress.ip_network("%s/%s" % (p["ip_address"], p["netmask"]), strict=False)
gw = p.get("gateway") or "0.0.0.0"
origin = "metadata"
if gw == "0.0.0.0":
    gw, origin = str(net.network_address + 1), "derived"
# A peered host outside the droplet's own subnet, inside the routed RFC 1918 space.
peer = ipaddress.ip_network("10.120.0.0/20")
if peer.overlaps(net):
    peer = ipaddress.ip_network("172.20.0.0/20")
# Every value quoted for the shell's eval: the files' strings are data, never commands.
values = {"PRIV_MAC": priv[0]["mac"].lower(), "PRIV_IP": p["ip_address"], "PRIV_PREFIX": net.prefixlen, "GW_IP": gw,
          "GW_ORIGIN": origin, "PEER_IP": peer.network_address + 5, "PEER_GW_IP": peer.network_address + 1,
          "PEER_PREFIX": peer.prefixlen}
print("HAS_PRIVATE=1 " + " ".join("%s=%s" % (k, shlex.quote(str(v))) for k, v in values.items()))
PY
}

# serve_raw FILE: the fake metadata service answers with FILE's bytes, unchanged.
serve_raw() {
        "$PYTHON" -c 'import json, sys; json.dump({"mode": "raw", "raw": open(sys.argv[1]).read()}, open(sys.argv[2], "w"))' \
                "$1" "$CONTROL"
}

expected_routes() {
        printf '%s via %s dev ens4 metric 101 mtu 1500\n' 10.0.0.0/8 "$GW_IP" 172.16.0.0/12 "$GW_IP" 192.168.0.0/16 "$GW_IP"
}

while IFS=$'\t' read -r name path kind; do
        HAS_PRIVATE=
        eval "$(describe "$path" "$kind")"
        [ -n "$HAS_PRIVATE" ] || { not_ok "$name: the test can read it"; continue; }
        if [ "$HAS_PRIVATE" = 1 ]; then
                export PRIV_MAC PRIV_IP PRIV_PREFIX GW_IP PEER_IP PEER_GW_IP PEER_PREFIX
        else
                unset PRIV_MAC PRIV_IP PRIV_PREFIX GW_IP PEER_IP PEER_GW_IP PEER_PREFIX
                PRIV_MAC=aa:bb:cc:00:00:02 PRIV_IP=10.116.0.2 PRIV_PREFIX=20 GW_IP=10.116.0.1
                PEER_IP=10.120.0.5 PEER_GW_IP=10.120.0.1 PEER_PREFIX=20
        fi
        if ! setup; then
                not_ok "$name: a droplet to match it"
                teardown
                continue
        fi
        serve_raw "$WORK/doc.json"
        if [ "$HAS_PRIVATE" = 1 ]; then
                check_not "$name: the peered host $PEER_IP does not answer before sync" can_ping
                vpr sync
                expect_rc 0 "$name: sync (private NIC $PRIV_MAC $PRIV_IP/$PRIV_PREFIX)"
                check "$name: the three routes via the $GW_ORIGIN gateway $GW_IP" own_routes_are "$(expected_routes)"
                check "$name: the peered host answers" can_ping
                [ "$GW_ORIGIN" = derived ] && expect_err "gateway $GW_IP (derived: the metadata gives none)" \
                        "$name: the log says the gateway is derived"
        else
                vpr sync
                expect_rc 1 "$name: sync on a droplet without a private interface"
                expect_err "metadata: interfaces.private is missing (no VPC interface on this droplet); nothing changed" \
                        "$name: one line says why"
                check "$name: nothing installed" no_own_routes
        fi
        teardown
done <"$WORK/captures"

# ---- the December 2021 droplet under the service, and the gateway key ----
KERLA=$top_srcdir/tests/fixtures/realworld/fragment-interfaces-seiyame-kerla.json
eval "$(describe "$KERLA" fragment)"
export PRIV_MAC PRIV_IP PRIV_PREFIX GW_IP PEER_IP PEER_GW_IP PEER_PREFIX
if ! setup || ! notify_start; then
        not_ok "a droplet like the one of December 2021"
        tap_done
        exit 1
fi
serve_raw "$WORK/doc.json"
conf "interval = 1s"
daemon_start
nic_line="Private NIC ens4 (72:a3:af:7a:d1:06) 10.124.0.2/20, gateway 10.124.0.1 (derived: the metadata gives none)"
if wait_for 10 can_ping; then ok "service: the peered host answers through the derived gateway"; else not_ok "service: the peered host answers"; diag "$(cat "$DAEMON_LOG")"; fi
sleep 2.5 # a few polls of the same document
check "service: says once that the gateway is derived" test "$(grep -cF -- "$nic_line" "$DAEMON_LOG")" -eq 1
vpr status
case $OUT in *"gateway 10.124.0.1 (derived: the metadata gives none)"*) ok "status names the derived gateway" ;; *) not_ok "status names the derived gateway"; vpr_diag ;; esac
vpr status --json
if printf '%s' "$OUT" | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
assert s["interface"]["gateway"] == "10.124.0.1" and s["interface"]["gateway_source"] == "derived", s["interface"]
assert s["in_sync"] is True, s
'; then ok "status --json: gateway_source is derived"; else not_ok "status --json: gateway_source is derived"; vpr_diag; fi
check "the state file says where the gateway comes from" grep -q '"gateway_source":[[:space:]]*"derived"' "$TESTDIR/state.json"
daemon_stop

# The VPC gateway is not on the first address: the derived one carries no traffic, the key does.
ip -n "$GW" addr flush dev vpc0
ip -n "$GW" addr add 10.124.0.9/20 dev vpc0
ip -n "$DR" neigh flush dev ens4
conf "gateway = 10.124.0.9"
vpr sync
expect_rc 0 "sync with gateway = 10.124.0.9"
check "the routes go via the configured gateway" own_routes_are "$(GW_IP=10.124.0.9 expected_routes)"
check "the peered host answers through it" can_ping
vpr status
case $OUT in *"gateway 10.124.0.9 (from the config)"*) ok "status says the gateway comes from the config" ;; *) not_ok "status says the gateway comes from the config"; vpr_diag ;; esac
for bad in "10.125.0.1:is outside the private subnet 10.124.0.0/20" "10.124.0.2:is the droplet's own address" \
        "10.124.15.255:is the broadcast address of 10.124.0.0/20"; do
        conf "gateway = ${bad%%:*}"
        vpr sync
        expect_rc 1 "gateway = ${bad%%:*} is refused"
        expect_err "config: gateway \"${bad%%:*}\" ${bad#*:}; nothing changed" "the refusal names the key, the value and why"
        check "nothing changed: the routes still go via 10.124.0.9" own_routes_are "$(GW_IP=10.124.0.9 expected_routes)"
done
conf "gateway = 10.124.0.300"
vpr sync
expect_rc 2 "gateway = 10.124.0.300 is a configuration error"
expect_err "gateway \"10.124.0.300\" is not an IPv4 address" "the error quotes the value"
tap_done
