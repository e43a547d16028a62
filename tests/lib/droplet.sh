# SPDX-License-Identifier: MIT
# A simulated DigitalOcean droplet in network namespaces, built and torn down by each test.
#
#   $DR   the droplet: eth0 (public, aa:bb:cc:00:00:01, 192.0.2.10/24 + anchor 10.10.0.5/16,
#         default via 192.0.2.1, 169.254.0.0/16 on-link) and ens4 (private, aa:bb:cc:00:00:02,
#         10.116.0.2/20). The private NIC is deliberately not called eth1.
#   $MD   the "outside": 192.0.2.1 and the metadata service at 169.254.169.254:80 (no forwarding,
#         so nothing beyond it is reachable that way)
#   $GW   the VPC gateway, 10.116.0.1/20 towards the droplet and 10.120.0.1/20 towards the
#         peered VPC, forwarding (addresses and MAC: see the defaults below)
#   $PEER a host in the peered VPC, 10.120.0.5/20, default via 10.120.0.1
#   EXTRA_NS  namespaces a test adds (tests/integration/egress.sh): removed with the rest
#
# Every address lives in namespaces created here; nothing talks to the host's network.
# Source tap.sh first. Needs: VPR (the binary), top_srcdir.

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${VPR:=$top_srcdir/vpc-peer-routes}"
PYTHON=${PYTHON:-/usr/bin/python3}

# A test may set these before droplet_setup to build another droplet (tests/integration/
# realworld.sh builds one per captured metadata document).
: "${PRIV_IP:=10.116.0.2}" "${PRIV_PREFIX:=20}" "${PRIV_MAC:=aa:bb:cc:00:00:02}"
: "${GW_IP:=10.116.0.1}"                               # the VPC gateway, on the private subnet
: "${PEER_IP:=10.120.0.5}" "${PEER_GW_IP:=10.120.0.1}" "${PEER_PREFIX:=20}"
: "${MD_FIXTURE:=$top_srcdir/tests/fixtures/metadata-v1.json}"
NIC=ens4

droplet_cleanup() {
        local ns pid
        for pid in ${CLEANUP_PIDS:-} ${MD_PID:-}; do
                kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        done
        for ns in "$DR" "$MD" "$GW" "$PEER" ${EXTRA_NS:-}; do
                [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
        done
        [ -n "${TESTDIR:-}" ] && rm -rf "$TESTDIR"
        return 0
}

droplet_setup() {
        local tag=vpr-$$-${RANDOM}
        DR=$tag-dr MD=$tag-md GW=$tag-gw PEER=$tag-peer
        TESTDIR=$(mktemp -d /tmp/vpr-test.XXXXXX)
        CONTROL=$TESTDIR/control.json
        REQLOG=$TESTDIR/requests.log
        CONF=$TESTDIR/vpc-peer-routes.conf
        trap droplet_cleanup EXIT
        trap 'exit 130' INT TERM

        ip netns add "$DR" && ip netns add "$MD" && ip netns add "$GW" && ip netns add "$PEER" || return 1
        for ns in "$DR" "$MD" "$GW" "$PEER"; do
                ip -n "$ns" link set lo up || return 1
        done
        # public side and metadata
        ip -n "$DR" link add eth0 address aa:bb:cc:00:00:01 type veth peer name eth0 netns "$MD" &&
        ip -n "$DR" addr add 192.0.2.10/24 dev eth0 &&
        ip -n "$DR" addr add 10.10.0.5/16 dev eth0 &&
        ip -n "$DR" link set eth0 up &&
        ip -n "$DR" route add default via 192.0.2.1 dev eth0 &&
        ip -n "$DR" route add 169.254.0.0/16 dev eth0 scope link &&
        ip -n "$MD" addr add 192.0.2.1/24 dev eth0 &&
        ip -n "$MD" addr add 169.254.169.254/16 dev eth0 &&
        ip -n "$MD" link set eth0 up || return 1
        # private side, VPC gateway, peered VPC
        ip -n "$DR" link add "$NIC" address "$PRIV_MAC" type veth peer name vpc0 netns "$GW" &&
        ip -n "$DR" addr add "$PRIV_IP/$PRIV_PREFIX" dev "$NIC" &&
        ip -n "$DR" link set "$NIC" up &&
        ip -n "$GW" addr add "$GW_IP/$PRIV_PREFIX" dev vpc0 &&
        ip -n "$GW" link set vpc0 up &&
        ip -n "$GW" link add peer0 type veth peer name eth0 netns "$PEER" &&
        ip -n "$GW" addr add "$PEER_GW_IP/$PEER_PREFIX" dev peer0 &&
        ip -n "$GW" link set peer0 up &&
        ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1 &&
        ip -n "$PEER" addr add "$PEER_IP/$PEER_PREFIX" dev eth0 &&
        ip -n "$PEER" link set eth0 up &&
        ip -n "$PEER" route add default via "$PEER_GW_IP" || return 1

        echo '{"mode": "ok"}' >"$CONTROL"
        : >"$REQLOG"
        conf
        ip netns exec "$MD" "$PYTHON" "$top_srcdir/tests/lib/fake_metadata.py" --address 169.254.169.254 \
                --fixture "$MD_FIXTURE" --control "$CONTROL" --log "$REQLOG" \
                >"$TESTDIR/md.out" 2>&1 &
        MD_PID=$!
        for _ in $(seq 100); do
                grep -q ready "$TESTDIR/md.out" 2>/dev/null && return 0
                sleep 0.05
        done
        diag "fake metadata service did not start:" "$(cat "$TESTDIR/md.out")"
        return 1
}

# droplet_test_start [notify]: what every test script starts with: root or skip, the droplet
# (and the notify socket stand-in), or a failed test and exit.
droplet_test_start() {
        require_root
        if ! droplet_setup || { [ "${1:-}" = notify ] && ! notify_start; }; then
                not_ok "simulated droplet could be built"
                tap_done
                exit 1
        fi
}

# The default desired routes, as `ip route show proto 241` prints them.
OWN_EXPECTED="10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500
172.16.0.0/12 via 10.116.0.1 dev ens4 metric 101 mtu 1500
192.168.0.0/16 via 10.116.0.1 dev ens4 metric 101 mtu 1500"

# own_routes_are TEXT: the own routes are exactly TEXT (one route a line, as ip prints them).
own_routes_are() {
        local got
        got=$(own_routes | sed 's/ *$//')
        [ "$got" = "$1" ] || {
                echo "own routes:"
                echo "$got"
                return 1
        }
}

own_is_expected() {
        own_routes_are "$OWN_EXPECTED"
}

no_own_routes() {
        [ -z "$(own_routes)" ] || {
                own_routes
                return 1
        }
}

own_total() {
        [ "$(own_routes | wc -l)" -eq "$1" ]
}

# own_count PATTERN N: exactly N own routes match PATTERN (evaluated at each call).
own_count() {
        [ "$(own_routes | grep -c -- "$1")" -eq "$2" ]
}

# md_control JSON: what the metadata service does from now on.
md_control() {
        # Atomically: the fake reads the file on every request, and half a file reads as "ok".
        printf '%s\n' "$1" >"$CONTROL.tmp" && mv -f "$CONTROL.tmp" "$CONTROL"
}

# conf "key = value" ...: replaces the agent's config file. The state and owner files always
# live in the test's own folder, never in the host's /run or /var/lib.
conf() {
        printf '%s\n' "$@" "state_file = $TESTDIR/state.json" "owner_file = $TESTDIR/owner" >"$CONF"
}

# vpr ARGS...: runs the agent in the droplet; sets RC, OUT (stdout) and ERR (stderr).
vpr() {
        local o e
        o=$TESTDIR/out e=$TESTDIR/err
        ip netns exec "$DR" "$VPR" --config "$CONF" "$@" >"$o" 2>"$e"
        RC=$?
        OUT=$(cat "$o")
        ERR=$(cat "$e")
}

# Shows what the last vpr call did, for diagnostics.
vpr_diag() {
        diag "exit $RC" "stdout:" "$OUT" "stderr:" "$ERR"
}

own_routes() {
        ip -n "$DR" route show table main proto 241
}

all_routes() {
        ip -n "$DR" route show table main
}

can_ping() {
        ip netns exec "$DR" ping -c 1 -W 1 -q "${1:-$PEER_IP}" >/dev/null 2>&1
}

# expect_rc N "what": an ok line if the last vpr call exited N.
expect_rc() {
        if [ "$RC" -eq "$1" ]; then
                ok "$2 (exit $1)"
        else
                not_ok "$2 (expected exit $1)"
                vpr_diag
        fi
}

# expect_err "substring" "what": the last vpr call's stderr names the cause.
expect_err() {
        case $ERR in
        *"$1"*) ok "$2" ;;
        *)
                not_ok "$2"
                diag "stderr lacks: $1"
                vpr_diag
                ;;
        esac
}

# ---- the daemon ----

# notify_start: a stand-in for systemd's notify socket; datagrams land in $NOTIFY_LOG.
notify_start() {
        NOTIFY_SOCK=$TESTDIR/notify.sock
        NOTIFY_LOG=$TESTDIR/notify.log
        : >"$NOTIFY_LOG"
        "$PYTHON" "$top_srcdir/tests/lib/notify_recorder.py" "$NOTIFY_SOCK" "$NOTIFY_LOG" >"$TESTDIR/notify.out" 2>&1 &
        CLEANUP_PIDS="${CLEANUP_PIDS:-} $!"
        wait_for 5 grep -q ready "$TESTDIR/notify.out"
}

# daemon_start [args...]: `vpc-peer-routes run` in the droplet, with the notify socket and a
# 1 s watchdog; log in $DAEMON_LOG, pid in $DAEMON_PID.
daemon_start() {
        DAEMON_LOG=$TESTDIR/daemon.log
        : >"$DAEMON_LOG"
        NOTIFY_SOCKET=$NOTIFY_SOCK WATCHDOG_USEC=1000000 ip netns exec "$DR" ${DAEMON_WRAPPER:-} "$VPR" --config "$CONF" "$@" run \
                >>"$DAEMON_LOG" 2>&1 &
        DAEMON_PID=$!
        CLEANUP_PIDS="${CLEANUP_PIDS:-} $DAEMON_PID"
}

# daemon_stop: SIGTERM, then the exit status in $DAEMON_RC. A daemon that has not exited 30 s
# later (valgrind included) is killed and its status is 137: never a wait without end.
daemon_stop() {
        local deadline=$((SECONDS + 30))
        kill -TERM "$DAEMON_PID" 2>/dev/null
        while kill -0 "$DAEMON_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
                sleep 0.05
        done
        kill -KILL "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID"
        DAEMON_RC=$?
}

# wait_for SECONDS command...: polls the command every 20 ms until it succeeds.
wait_for() {
        local deadline=$(($(date +%s%N) + $1 * 1000000000))
        shift
        until "$@" >/dev/null 2>&1; do
                [ "$(date +%s%N)" -ge "$deadline" ] && return 1
                sleep 0.02
        done
}

notified() {
        grep -q -- "$1" "$NOTIFY_LOG"
}

logged() {
        grep -q -- "$1" "$DAEMON_LOG"
}

# ---- the fake DigitalOcean API (source = api) ----

API_OWN_VPC=5a4981aa-9653-4bd1-bef5-d6bff52042e4
API_TOKEN="dop_v1_$(printf 'test%.0s' $(seq 16))$$"

# api_start: the fake API at http://192.0.2.1:8080 (the droplet reaches it through its public
# NIC), a second server at :8081 that only logs (the "other host"), and the token file.
api_start() {
        API_CONTROL=$TESTDIR/api.json
        API_LOG=$TESTDIR/api.log
        OTHER_LOG=$TESTDIR/other.log
        TOKEN_FILE=$TESTDIR/token
        : >"$API_LOG"
        : >"$OTHER_LOG"
        (umask 077 && printf '%s\n' "$API_TOKEN" >"$TOKEN_FILE")
        api_world
        _api_server api 8080 "$API_LOG" || return 1
        _api_server other 8081 "$OTHER_LOG" || return 1
}

_api_server() {
        local role=$1 port=$2 log=$3
        shift 3
        ip netns exec "$MD" "$PYTHON" "$top_srcdir/tests/lib/fake_api.py" --address 192.0.2.1 --port "$port" \
                --control "$API_CONTROL" --log "$log" --role "$role" "$@" >"$TESTDIR/api-$port.out" 2>&1 &
        CLEANUP_PIDS="${CLEANUP_PIDS:-} $!"
        wait_for 5 grep -q ready "$TESTDIR/api-$port.out" || {
                diag "fake API on port $port did not start:" "$(cat "$TESTDIR/api-$port.out")"
                return 1
        }
}

# api_tls_start: the same API over https on :8443 with a certificate from a CA made here.
api_tls_start() {
        local d=$TESTDIR/tls
        mkdir -p "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vpc-peer-routes test CA" \
                -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=192.0.2.1" -keyout "$d/server.key" -out "$d/server.csr" \
                >/dev/null 2>&1 &&
        printf 'subjectAltName=IP:192.0.2.1\nbasicConstraints=CA:FALSE\n' >"$d/ext" &&
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
                -extfile "$d/ext" -out "$d/server.pem" >/dev/null 2>&1 || return 1
        API_CA=$d/ca.pem
        _api_server api 8443 "$API_LOG" --cert "$d/server.pem" --key "$d/server.key"
}

# api_world: the standard world: our VPC with six peerings over three pages of two:
# two ACTIVE peers (10.120.0.0/20 holds the peered host, 10.130.0.0/16), one PROVISIONING,
# one DELETING, one ACTIVE peer whose range overlaps the droplet's anchor network 10.10.0.0/16,
# and one peering between two other VPCs (which a real API would not list; the agent must
# ignore it anyway).
api_world() {
        "$PYTHON" - "$API_CONTROL" "$API_OWN_VPC" "$API_TOKEN" <<'PY'
import json, sys
path, own, token = sys.argv[1:4]
def u(c): return "%s000000-0000-4000-8000-0000000000%s" % (c * 2, c * 2)
vpcs = {own: {"name": "droplets", "ip_range": "10.116.0.0/20"},
        u("a"): {"name": "peer-a", "ip_range": "10.120.0.0/20"},
        u("b"): {"name": "peer-b", "ip_range": "10.130.0.0/16"},
        u("c"): {"name": "peer-c", "ip_range": "10.140.0.0/16"},
        u("d"): {"name": "peer-d", "ip_range": "10.150.0.0/16"},
        u("e"): {"name": "peer-e", "ip_range": "10.10.0.0/16"},
        u("f"): {"name": "peer-f", "ip_range": "10.180.0.0/16"},
        u("1"): {"name": "x", "ip_range": "10.160.0.0/16"},
        u("2"): {"name": "y", "ip_range": "10.170.0.0/16"}}
def p(c, a, b, status): return {"id": "%s111111-1111-4111-8111-1111111111%s" % (c * 2, c * 2), "name": "peering-" + c,
                                "vpc_ids": [a, b], "status": status}
world = {"token": token, "own_vpc": own, "droplet_id": 3164444, "page_size": 2, "leak_unrelated": True, "mode": "ok",
         "vpcs": vpcs,
         "peerings": [p("a", own, u("a"), "ACTIVE"), p("b", u("b"), own, "ACTIVE"), p("c", own, u("c"), "PROVISIONING"),
                      p("d", own, u("d"), "DELETING"), p("e", own, u("e"), "ACTIVE"), p("f", u("1"), u("2"), "ACTIVE")]}
json.dump(world, open(path, "w"), indent=1)
PY
}

# api_set 'python statement on c': changes the fake API's world or behaviour.
api_set() {
        "$PYTHON" - "$API_CONTROL" "$1" <<'PY'
import json, sys
path, stmt = sys.argv[1:3]
c = json.load(open(path))
def u(ch): return "%s000000-0000-4000-8000-0000000000%s" % (ch * 2, ch * 2)
def peering(ch): return next(p for p in c["peerings"] if p["name"] == "peering-" + ch)
exec(stmt)
json.dump(c, open(path + ".tmp", "w"), indent=1)
import os
os.rename(path + ".tmp", path)
PY
}

api_requests() {
        wc -l <"$API_LOG"
}

# logged_since LINE TEXT: the daemon logged TEXT after line LINE of its log.
logged_since() {
        tail -n +"$(($1 + 1))" "$DAEMON_LOG" | grep -q -- "$2"
}
