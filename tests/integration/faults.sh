#!/bin/bash
# SPDX-License-Identifier: MIT
# The fault matrix: every way the metadata service, the API, the kernel and the config can go
# wrong. Each case asserts the exit status (or that the daemon lives on), one clear line naming
# the cause, and that every own route is still installed.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"

droplet_test_start notify
pub=
faults_cleanup() {
        ip netns del "$DR-away" 2>/dev/null
        [ -n "$pub" ] && rm -rf "$pub"
        droplet_cleanup
}
trap faults_cleanup EXIT
api_start || { not_ok "fake API could be started"; tap_done; exit 1; }

base_conf() {
        conf "timeout = 3s" "connect_timeout = 1s" "$@"
}
base_conf
vpr sync
[ "$RC" -eq 0 ] && own_is_expected >/dev/null || { not_ok "initial sync"; vpr_diag; tap_done; exit 1; }

error_lines() {
        printf '%s\n' "$ERR" | grep -c '^error:'
}
# sync_fault NAME EXPECTED_RC "text the error names": one sync in the current world.
sync_fault() {
        local name=$1 want=$2 text=$3
        vpr sync
        expect_rc "$want" "$name"
        if [ "$want" -eq 0 ]; then
                check "$name: routes in place" own_is_expected
                return
        fi
        expect_err "$text" "$name: the error names the cause"
        if [ "$(error_lines)" -eq 1 ]; then ok "$name: one error line"; else not_ok "$name: one error line"; vpr_diag; fi
        check "$name: every own route still installed" own_is_expected
}

# ---- the metadata service ----
DOC_DUP='{"droplet_id": 3164444, "interfaces": {"private": [{"ipv4": {"ip_address": "10.116.0.2", "netmask": "255.255.240.0", "gateway": "10.116.0.1", "gateway": "10.116.0.9"}, "mac": "aa:bb:cc:00:00:02", "type": "private"}]}, "features": {"vpc_peering_enabled": true}}'
metadata_cases=(
        "metadata 404|{\"mode\": \"status:404\"}|1|answered HTTP 404, expected 200"
        "metadata 500|{\"mode\": \"status:500\"}|1|answered HTTP 500, expected 200"
        "metadata 503|{\"mode\": \"status:503\"}|1|answered HTTP 503, expected 200"
        "metadata accepts and never answers|{\"mode\": \"hang\"}|1|timed out"
        "metadata trickles a byte a second|{\"mode\": \"trickle\"}|1|timed out: Operation too slow"
        "metadata resets the connection|{\"mode\": \"reset\"}|1|metadata: could not fetch"
        "metadata 200 with HTML|{\"mode\": \"html\"}|1|metadata: not valid JSON at offset 0"
        "metadata truncated JSON|{\"mode\": \"truncated\"}|1|metadata: not valid JSON"
        "metadata empty body|{\"mode\": \"empty\"}|1|metadata: empty document"
        "metadata 64 MiB body with Content-Length|{\"mode\": \"big:67108864\"}|1|response is larger than 4194304 bytes"
        "metadata 64 MiB body chunked|{\"mode\": \"big:67108864\", \"chunked\": true}|1|response is larger than 4194304 bytes"
        "metadata nested 100000 deep|{\"mode\": \"deep:100000\"}|1|metadata: not valid JSON"
        "metadata number where a string belongs|{\"mode\": \"ok\", \"set\": {\"interfaces.private.0.ipv4.gateway\": 168034305}}|1|ipv4.gateway 168034305 is a number, expected a string"
        "metadata droplet_id as a string of digits (cloud-init's capture)|{\"mode\": \"ok\", \"set\": {\"droplet_id\": \"3164444\"}}|0|"
        "metadata droplet_id that is no id (source = metadata does not use it)|{\"mode\": \"ok\", \"set\": {\"droplet_id\": \"n/a\"}}|0|"
        "metadata private gateway 0.0.0.0 (a VPC droplet of 2021)|{\"mode\": \"ok\", \"set\": {\"interfaces.private.0.ipv4.gateway\": \"0.0.0.0\"}}|0|"
        "metadata private gateway null|{\"mode\": \"ok\", \"set\": {\"interfaces.private.0.ipv4.gateway\": null}}|0|"
        "metadata private gateway outside the subnet|{\"mode\": \"ok\", \"set\": {\"interfaces.private.0.ipv4.gateway\": \"10.117.0.1\"}}|1|metadata: interfaces.private[0].ipv4.gateway \"10.117.0.1\" is outside the private subnet 10.116.0.0/20"
        "metadata object where an array belongs|{\"mode\": \"ok\", \"set\": {\"interfaces.private\": {\"0\": 1}}}|1|interfaces.private {...} is an object, expected an array"
        "metadata duplicate keys|{\"mode\": \"raw\", \"raw\": $(printf '%s' "$DOC_DUP" | "$PYTHON" -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}|1|ipv4.gateway appears twice"
        "metadata NUL inside a string|{\"mode\": \"replace\", \"find\": \"\\\"10.116.0.1\\\"\", \"with\": \"\\\"10.116.0.1\\\\u0000evil\\\"\"}|1|ipv4.gateway \"10.116.0.1\\xef\\xbf\\xbdevil\" is not an IPv4 address"
        "metadata escaped Unicode inside strings|{\"mode\": \"replace\", \"find\": \"\\\"10.116.0.1\\\"\", \"with\": \"\\\"\\\\u0031\\\\u0030.116.0.1\\\"\"}|0|"
        "metadata with an extra private interface|{\"mode\": \"ok\", \"set\": {\"interfaces.private.1\": {\"ipv4\": {\"ip_address\": \"10.130.0.2\", \"netmask\": \"255.255.0.0\", \"gateway\": \"10.130.0.1\"}, \"mac\": \"aa:bb:cc:00:00:09\", \"type\": \"private\"}}}|0|"
        "metadata MAC in upper case|{\"mode\": \"ok\", \"set\": {\"interfaces.private.0.mac\": \"AA:BB:CC:00:00:02\"}}|0|"
)
# set_path cannot append to a list; give the fake a list of two for the extra interface.
for c in "${metadata_cases[@]}"; do
        IFS='|' read -r name control want text <<<"$c"
        if [[ $name == *"extra private interface"* ]]; then
                control='{"mode": "ok", "set": {"interfaces.private": [{"ipv4": {"ip_address": "10.116.0.2", "netmask": "255.255.240.0", "gateway": "10.116.0.1"}, "mac": "aa:bb:cc:00:00:02", "type": "private"}, {"ipv4": {"ip_address": "10.130.0.2", "netmask": "255.255.0.0", "gateway": "10.130.0.1"}, "mac": "aa:bb:cc:00:00:09", "type": "private"}]}}'
        fi
        md_control "$control"
        sync_fault "$name" "$want" "$text"
done
md_control '{"mode": "ok"}'
base_conf "metadata_url = http://169.254.169.254:81/metadata/v1.json"
sync_fault "metadata connection refused" 1 "Failed to connect to 169.254.169.254 port 81"
base_conf

# The daemon meets the same faults: it lives on, says what went wrong once, keeps every route.
base_conf "interval = 1s"
daemon_start
wait_for 10 own_is_expected
for c in "${metadata_cases[@]}"; do
        IFS='|' read -r name control want text <<<"$c"
        [ "$want" -eq 0 ] && continue
        case $name in *"64 MiB"* | *trickle* | *"never answers"*) continue ;; esac # slow; covered by sync above
        lines_before=$(wc -l <"$DAEMON_LOG")
        md_control "$control"
        # The daemon met the fault once it warns (the check below judges the warning's words).
        wait_for 10 logged_since "$lines_before" "^warning: "
        md_control '{"mode": "ok"}'
        wait_for 5 logged_since "$lines_before" "Metadata service answers again"
        check "daemon, $name: alive" kill -0 "$DAEMON_PID"
        check "daemon, $name: every own route still installed" own_is_expected
        if tail -n +"$((lines_before + 1))" "$DAEMON_LOG" | grep '^warning: ' | grep -qF -- "$text"; then
                ok "daemon, $name: a warning names the cause"
        else
                not_ok "daemon, $name: a warning names the cause"
                diag "$(tail -n +"$((lines_before + 1))" "$DAEMON_LOG")"
        fi
done
daemon_stop
check "daemon exits 0 after the metadata faults" test "$DAEMON_RC" -eq 0

# ---- the API ----
# api_base_conf [URL]
api_base_conf() {
        conf "source = api" "api_url = ${1:-http://192.0.2.1:8080}" "api_insecure = yes" "api_token_file = $TOKEN_FILE" \
                "timeout = 3s" "connect_timeout = 1s"
}
API_EXPECTED="10.120.0.0/20 via 10.116.0.1 dev ens4 metric 101 mtu 1500
10.130.0.0/16 via 10.116.0.1 dev ens4 metric 101 mtu 1500"
api_conf_routes() {
        own_routes_are "$API_EXPECTED"
}
vpr flush
api_base_conf
vpr sync
check "source = api: initial sync" api_conf_routes
api_fault() {
        local name=$1 want=$2 text=$3
        vpr sync
        expect_rc "$want" "$name"
        expect_err "$text" "$name: the error names the cause"
        if [ "$(error_lines)" -eq 1 ]; then ok "$name: one error line"; else not_ok "$name: one error line"; vpr_diag; fi
        check "$name: every own route still installed" api_conf_routes
}
api_cases=(
        "API 404|c['mode'] = 'status:404'|answered HTTP 404"
        "API 500|c['mode'] = 'status:500'|answered HTTP 500"
        "API 503|c['mode'] = 'status:503'|answered HTTP 503"
        "API 429|c['mode'] = '429'; c['retry_after'] = 1|rate limited (HTTP 429)"
        "API 401|c['mode'] = 'status:401'|the token was rejected (HTTP 401"
        "API 403|c['mode'] = 'status:403'|may not read /v2/droplets/3164444 (HTTP 403"
        "API accepts and never answers|c['mode'] = 'hang'|timed out"
        "API trickles a byte a second|c['mode'] = 'trickle'|timed out: Operation too slow"
        "API 200 with HTML|c['mode'] = 'garbage'|not valid JSON at offset 0"
        "API truncated JSON|c['mode'] = 'truncated'|not valid JSON"
        "API empty body|c['mode'] = 'empty'|empty document"
        "API 64 MiB body|c['mode'] = 'big:67108864'|response is larger than 8388608 bytes"
        "API nested 100000 deep|c['mode'] = 'deep:100000'|not valid JSON"
        "API number where a string belongs|c['mode'] = 'body'; c['body'] = '{\"droplet\": {\"vpc_uuid\": 5}}'|droplet.vpc_uuid 5 is a number, expected a string"
        "API string where an object belongs|c['mode'] = 'body'; c['body'] = '{\"droplet\": \"x\"}'|droplet \"x\" is a string, expected an object"
        "API duplicate keys|c['mode'] = 'body'; c['body'] = '{\"droplet\": {\"vpc_uuid\": \"' + c['own_vpc'] + '\", \"vpc_uuid\": \"' + c['own_vpc'] + '\"}}'|droplet.vpc_uuid appears twice"
        "API NUL inside a string|c['mode'] = 'body'; c['body'] = '{\"droplet\": {\"vpc_uuid\": \"' + c['own_vpc'] + '\\\\u0000\"}}'|is not a UUID"
        "API a page failing midway|c['mode'] = 'fail_page:2'|peerings?page=2&per_page=2 answered HTTP 500"
        "API next link to another host|c['mode'] = 'next_host:http://192.0.2.1:8081'|points away from http://192.0.2.1:8080; not following it"
)
for c in "${api_cases[@]}"; do
        IFS='|' read -r name stmt text <<<"$c"
        api_world
        api_set "$stmt"
        api_fault "$name" 1 "$text"
        sleep 0.1
done
check "the other host never got a request, so never the token" test ! -s "$OTHER_LOG"
api_world
api_base_conf
api_base_conf http://192.0.2.1:8099
api_fault "API connection refused" 1 "Failed to connect to 192.0.2.1 port 8099"
api_base_conf

# ---- the kernel ----
vpr flush
base_conf
vpr sync
# The NIC vanishes between plan and apply: own routes were missing, the plan adds them, and the
# NIC is moved away before the adds go out.
ip -n "$DR" route del 10.0.0.0/8 proto 241
mkdir -p "$TESTDIR/pause"
ip netns add "$DR-away"
ip netns exec "$DR" "$top_builddir/tests/integration/sync-hooked" "$CONF" pause "$TESTDIR/pause" >/dev/null 2>"$TESTDIR/paused.err" &
paused=$!
if wait_for 10 test -e "$TESTDIR/pause/planned"; then
        ip -n "$DR" link set "$NIC" netns "$DR-away"
        touch "$TESTDIR/pause/go"
fi
wait "$paused"
RC=$? ERR=$(cat "$TESTDIR/paused.err") OUT=
expect_rc 1 "the NIC vanishes between plan and apply"
expect_err "Could not add 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241: " "the failed change is named with the kernel's reason"
ip -n "$DR-away" link set "$NIC" netns "$DR"
ip -n "$DR" addr add "$PRIV_IP/20" dev "$NIC" 2>/dev/null
ip -n "$DR" link set "$NIC" up
ip netns del "$DR-away"
vpr sync
check "after the NIC returns, sync restores every route" own_is_expected

# The kernel refuses the route (the gateway is not reachable through the configured interface):
# the replacement fails, the working route stays.
base_conf "interface = eth0"
vpr sync
expect_rc 1 "the kernel refuses a route (gateway unreachable on eth0)"
expect_err "(kernel: Nexthop has invalid gateway)" "the kernel's reason is quoted"
check "the refused replacement left every own route in place" own_is_expected
base_conf

# Another process replaces an own route with a different one.
base_conf "interval = 10min"
daemon_start
wait_for 10 own_is_expected
ip -n "$DR" route replace 10.0.0.0/8 via "$GW_IP" dev "$NIC" metric 101 mtu 9000 proto 241
if wait_for 3 own_is_expected; then ok "a different route under our protocol is put right"; else not_ok "a different route under our protocol is put right"; fi
ip -n "$DR" route replace 172.16.0.0/12 via 192.0.2.1 dev eth0 metric 101 proto static
if wait_for 3 logged "conflict: want 172.16.0.0/12 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241, but 172.16.0.0/12 via 192.0.2.1 dev eth0 metric 101 proto static holds"; then
        ok "a conflict is logged, naming both routes"
else
        not_ok "a conflict is logged, naming both routes"
        diag "$(tail -n 10 "$DAEMON_LOG")"
fi
check "daemon alive after another program took a slot" kill -0 "$DAEMON_PID"
check "the other program's route is not fought" test -n "$(ip -n "$DR" route show 172.16.0.0/12 proto static)"
check "the other own routes stay" own_total 2
ip -n "$DR" route del 172.16.0.0/12 proto static
if wait_for 3 own_is_expected; then ok "once it goes, ours returns"; else not_ok "once it goes, ours returns"; fi
daemon_stop

# Without CAP_NET_ADMIN.
ip -n "$DR" route del 10.0.0.0/8 proto 241
ip netns exec "$DR" setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$VPR" --config "$CONF" sync >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err")
expect_rc 1 "sync without CAP_NET_ADMIN"
expect_err "sync needs CAP_NET_ADMIN" "the missing capability is named"
[ "$(error_lines)" -eq 1 ] && ok "without CAP_NET_ADMIN: one error line" || { not_ok "without CAP_NET_ADMIN: one error line"; vpr_diag; }
check "without CAP_NET_ADMIN: the other own routes stay" own_total 2
vpr sync

# ---- the config ----
config_cases=(
        "source|rip" "metadata_url|gopher://x/" "connect_timeout|forever" "timeout|0" "metadata_max_size|1" "interface|a/b" "gateway|10.0.0.256" "owner_file|owner"
        "routes|10.0.0.1/8" "routes_file|relative" "metric|-1" "mtu|9999999" "table|local" "protocol|4"
        "peering_flag|sometimes" "allow_non_private|perhaps" "max_routes|0" "api_url|ftp://x" "api_token_file|token"
        "api_ca_file|ca.pem" "api_insecure|2" "api_interval|1s" "api_budget|150%" "interval|0s" "state_file|state.json" "metrics_file|m.prom"
)
covered=" "
for c in "${config_cases[@]}"; do
        key=${c%%|*} value=${c#*|}
        covered="$covered$key "
        printf '# a comment first\n%s = %s\n' "$key" "$value" >"$CONF"
        vpr sync
        expect_rc 2 "config: $key = $value"
        expect_err "vpc-peer-routes.conf:2: $key \"$value\"" "config: $key = $value: the error quotes file, line, key and value"
        check "config: $key = $value: every own route still installed" own_is_expected
done
# check-config: the effective configuration and exit 0, or the error with file and line and exit 2.
base_conf "metric = 7"
vpr check-config
expect_rc 0 "check-config on a good config"
case $OUT in *"$CONF is valid"*"metric = 7"*"protocol = 241"*) ok "check-config prints the effective configuration" ;; *) not_ok "check-config prints the effective configuration"; vpr_diag ;; esac
vpr -q check-config
check "check-config -q prints nothing on success" test -z "$OUT$ERR"
printf '# a comment first\nmetric = lots\n' >"$CONF"
vpr check-config
expect_rc 2 "check-config on a broken config"
expect_err "vpc-peer-routes.conf:2: metric \"lots\" is not a number" "check-config names file, line, key and value"
base_conf
# Every key the example config documents is tried with an invalid value: those above with a
# realistic one, any other (a key added since) with a control character, which no key accepts.
for key in $(sed -n 's/^#\([a-z_]*\) =.*/\1/p' "$top_srcdir/packaging/vpc-peer-routes.conf"); do
        case $covered in *" $key "*) continue ;; esac
        printf '# a comment first\n%s = \177\n' "$key" >"$CONF"
        vpr sync
        expect_rc 2 "config: $key = \\x7f"
        expect_err "vpc-peer-routes.conf:2: $key \"\\x7f\"" "config: $key = \\x7f: the error quotes file, line, key and value"
        check "config: $key = \\x7f: every own route still installed" own_is_expected
done
base_conf
ip netns exec "$DR" "$VPR" --config "$TESTDIR" sync >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err")
expect_rc 2 "a config file that is a directory"
expect_err "is a directory" "a directory is named as such"
base_conf
chmod 000 "$CONF"
ip netns exec "$DR" setpriv --bounding-set=-dac_override,-dac_read_search --inh-caps=-dac_override,-dac_read_search \
        "$VPR" --config "$CONF" sync >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err")
expect_rc 2 "an unreadable config file"
expect_err "Permission denied" "the unreadable file is named with the reason"
chmod 644 "$CONF"
head -c 2097152 /dev/zero | tr '\0' '#' >"$CONF"
vpr sync
expect_rc 2 "a 2 MiB config file"
expect_err "larger than 1 MiB" "the huge file is refused with the reason"
base_conf
chmod 666 "$CONF"
vpr sync
expect_rc 2 "a config file writable by others"
expect_err "is writable by group or others (mode 0666); refusing it" "the refusal says why"
chmod 644 "$CONF"
# Files the agent trusts: opened once, checked on the descriptor; group-writable or foreign-owned
# files are refused, whatever path they come by.
chmod 664 "$CONF"
vpr sync
expect_rc 2 "a config file writable by its group"
expect_err "is writable by group or others (mode 0664); refusing it" "the refusal names the mode"
chmod 644 "$CONF"
chown 65534 "$CONF"
vpr sync
expect_rc 2 "a config file root does not own"
expect_err "config file $CONF belongs to uid 65534, not to root; refusing it" "the refusal names the owner"
chown 0 "$CONF"
printf '10.0.0.0/8\n172.16.0.0/12\n192.168.0.0/16\n' >"$TESTDIR/routes"
base_conf "routes_file = $TESTDIR/routes"
chmod 664 "$TESTDIR/routes"
vpr sync
expect_rc 2 "a routes_file writable by its group"
expect_err "routes_file \"$TESTDIR/routes\" is writable by group or others (mode 0664); refusing it" "the routes_file refusal names the mode"
chmod 644 "$TESTDIR/routes"
chown 65534 "$TESTDIR/routes"
vpr sync
expect_rc 2 "a routes_file root does not own"
expect_err "routes_file \"$TESTDIR/routes\" belongs to uid 65534, not to root; refusing it" "the routes_file refusal names the owner"
chown 0 "$TESTDIR/routes"
vpr sync
expect_rc 0 "root's own routes_file is fine"
base_conf
# A user's own config, named with --config, serves that user (status as any user).
pub=$(mktemp -d /tmp/vpr-public.XXXXXX)
chmod 755 "$pub"
printf 'state_file = %s/state.json\nowner_file = %s/owner\n' "$pub" "$pub" >"$pub/user.conf"
chown 65534 "$pub/user.conf"
# The service's owner record is readable by the service alone (DynamicUser, mode 0600).
printf 'protocol = 241\ntable = 254\n' >"$pub/owner"
chmod 600 "$pub/owner"
ip netns exec "$DR" setpriv --reuid=65534 --regid=65534 --clear-groups "$VPR" --config "$pub/user.conf" status \
        >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err") OUT=
expect_rc 0 "a non-root user's status with the config it owns"
check_not "status says nothing about an owner record it cannot read" grep -q "owner" <<<"$ERR"
vpr --config "$pub/user.conf" status
expect_rc 2 "root does not take a config that another user owns"
rm -rf "$pub"
check "every own route survived the config faults" own_is_expected

# /dev/null is the usual way to ask for the defaults; other devices, FIFOs and folders are not.
ip netns exec "$DR" "$VPR" --config /dev/null check-config >"$TESTDIR/out" 2>"$TESTDIR/err"
RC=$? OUT=$(cat "$TESTDIR/out") ERR=$(cat "$TESTDIR/err")
expect_rc 0 "--config /dev/null is the defaults"
check "check-config shows the default metric" grep -qx "metric = 101" <<<"$OUT"
ip netns exec "$DR" "$VPR" --config /dev/zero check-config >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err")
expect_rc 2 "--config /dev/zero is refused"
expect_err "config file /dev/zero: is not a regular file" "the refusal names the file"
mkfifo "$TESTDIR/fifo"
ip netns exec "$DR" "$VPR" --config "$TESTDIR/fifo" check-config >/dev/null 2>"$TESTDIR/err"
RC=$? ERR=$(cat "$TESTDIR/err")
expect_rc 2 "a FIFO as the config is refused"

tap_done
