#!/bin/bash
# SPDX-License-Identifier: MIT
# source = api: exactly the ACTIVE peers' ranges, from a fake DigitalOcean API with three pages
# of peerings; every kind of API failure keeps every route; the token goes nowhere but the API.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"

droplet_test_start notify
if ! api_start; then
        not_ok "fake API could be started"
        tap_done
        exit 1
fi

API_EXPECTED="10.120.0.0/20 via 10.116.0.1 dev ens4 metric 101 mtu 1500
10.130.0.0/16 via 10.116.0.1 dev ens4 metric 101 mtu 1500"
api_routes_expected() {
        own_routes_are "$API_EXPECTED"
}
api_conf() {
        conf "source = api" "api_url = http://192.0.2.1:8080" "api_insecure = yes" "api_token_file = $TOKEN_FILE" \
                "timeout = 2s" "connect_timeout = 1s" "$@"
}
# Everything the agent said or wrote, for the token check at the end.
ALL_OUTPUT=$TESTDIR/all-output
collect() {
        printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL_OUTPUT"
}

# ---- the token file ----
api_conf
chmod 644 "$TOKEN_FILE"
vpr sync
collect
expect_rc 2 "a token file readable by others is refused"
expect_err "is readable or writable by group or others (mode 0644); refusing it" "the refusal says why"
chmod 640 "$TOKEN_FILE"
vpr sync
collect
expect_rc 2 "a token file readable by the group is refused"
chmod 600 "$TOKEN_FILE"
chown 65534 "$TOKEN_FILE"
vpr sync
collect
expect_rc 2 "a token file root does not own is refused"
expect_err "API token file $TOKEN_FILE belongs to uid 65534, not to root" "the refusal names the owner"
chown 0 "$TOKEN_FILE"

conf "source = api" "api_url = http://192.0.2.1:8080" "api_token_file = $TOKEN_FILE"
vpr sync
collect
expect_rc 2 "plain http without api_insecure is refused"
expect_err "is plain http; the token would travel unencrypted" "the refusal says why"

conf "source = api" "api_url = http://192.0.2.1:8080" "api_insecure = yes"
vpr sync
collect
expect_rc 2 "source = api without a token"
expect_err "source = api needs a read-only API token" "missing token explained"

# ---- one round with sync ----
api_conf
: >"$API_LOG"
vpr sync
collect
expect_rc 0 "sync with source = api"
check "exactly the ACTIVE peers' ranges are routed" api_routes_expected
check "the peered host answers" can_ping
expect_err "warning: api_url http://192.0.2.1:8080 is plain http (api_insecure = yes)" "plain http warned about"
expect_err "Skipping 10.10.0.0/16 of VPC peer-e (peering peering-e): it overlaps 10.10.0.0/16 on eth0" "a range overlapping a connected subnet is skipped, naming both"
check "no route for PROVISIONING, DELETING or unrelated peerings" test -z "$(own_routes | grep -E '10\.(140|150|160|170|10)\.')"
check "droplet, three pages and three VPCs: seven requests" test "$(api_requests)" -eq 7
check "every request carried the token" test "$(grep -c '"token_ok": true' "$API_LOG")" -eq 7
check "pages were followed" grep -q 'peerings?page=3&per_page=2' "$API_LOG"

# doctor with source = api: each peered VPC's range, looked up in the kernel.
vpr doctor
collect
expect_rc 0 "doctor with source = api: both peered ranges ok"
case $OUT in *"10.120.0.0/20      ok "*"10.130.0.0/16      ok "*"2 of 2 destinations ok"*) ok "doctor lists the peered ranges" ;; *) not_ok "doctor lists the peered ranges"; vpr_diag ;; esac
ip -n "$DR" link add wg0 type bridge
ip -n "$DR" link set wg0 up
ip -n "$DR" route add 10.120.8.0/21 dev wg0
vpr doctor
collect
expect_rc 3 "doctor with source = api: a VPN route inside a peered range"
case $OUT in *"10.120.0.0/20      shadowed  10.120.8.0/21 dev wg0 metric 0 proto boot (WireGuard) takes 10.120.15.254"*) ok "doctor names the VPN's route in the peered range" ;; *) not_ok "doctor names the VPN route"; vpr_diag ;; esac
ip -n "$DR" link del wg0

# droplet_id as cloud-init's capture has it, a string of digits; and one that is no id at all.
md_control '{"mode": "ok", "set": {"droplet_id": "3164444"}}'
: >"$API_LOG"
vpr sync
collect
expect_rc 0 "droplet_id as a string of digits"
check "it asks for that droplet" grep -q '"path": "/v2/droplets/3164444"' "$API_LOG"
md_control '{"mode": "ok", "set": {"droplet_id": "n/a"}}'
vpr sync
collect
expect_rc 1 "a droplet_id that is no id stops source = api"
expect_err 'metadata: droplet_id "n/a" is not a droplet id (a number, or a string of its digits); source = api needs it; nothing changed' \
        "the error names the field, its value and what needs it"
check "a bad droplet_id keeps every route" api_routes_expected
md_control '{"mode": "ok"}'

vpr status
collect
expect_rc 0 "status with source = api"
case $OUT in *"Source:      api (http://192.0.2.1:8080); VPC $API_OWN_VPC, 3 ACTIVE peerings"*"10.120.0.0/20 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241  [peering peering-a, VPC peer-a]"*) ok "status names the source and each route's peering" ;; *) not_ok "status names the source and peerings"; vpr_diag ;; esac
case $OUT in *"3 ACTIVE peerings, 1 PROVISIONING (peering-c)"*) ok "status names the peering still PROVISIONING" ;; *) not_ok "status names PROVISIONING peerings"; vpr_diag ;; esac
vpr status --json
collect
if printf '%s' "$OUT" | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
assert s["source"] == "api" and s["api"]["ok"] and s["api"]["active_peerings"] == 3, s["api"]
assert [p["name"] for p in s["api"]["provisioning"]] == ["peering-c"], s["api"]
names = {r["destination"]: r["peering"]["name"] for r in s["routes"]}
assert names == {"10.120.0.0/20": "peering-a", "10.130.0.0/16": "peering-b"}, names
'; then ok "status --json names each route's peering"; else not_ok "status --json peerings"; vpr_diag; fi


# The systemd credential serves as the token when present (LoadCredential=do-api-token:...).
mkdir -p "$TESTDIR/creds"
(umask 077 && cp "$TOKEN_FILE" "$TESTDIR/creds/do-api-token")
# systemd gives the dynamic user its credential through an ACL, which shows as a group-readable
# mode: fine for a credential, never writable.
chmod 440 "$TESTDIR/creds/do-api-token"
conf "source = api" "api_url = http://192.0.2.1:8080" "api_insecure = yes" "timeout = 2s"
ip netns exec "$DR" env CREDENTIALS_DIRECTORY="$TESTDIR/creds" "$VPR" --config "$CONF" sync >"$TESTDIR/out" 2>"$TESTDIR/err"
RC=$? OUT=$(cat "$TESTDIR/out") ERR=$(cat "$TESTDIR/err")
collect
expect_rc 0 "the token from \$CREDENTIALS_DIRECTORY/do-api-token"
api_conf

# ---- failures keep every route (sync) ----
for mode in status:500 status:503 429 garbage hang status:404 fail_page:2; do
        api_set "c['mode'] = '$mode'"
        vpr sync
        collect
        expect_rc 1 "API $mode: sync fails"
        check "API $mode: every route kept" api_routes_expected
        [ "$(printf '%s\n' "$ERR" | grep -c '^error:')" -eq 1 ] && ok "API $mode: one error line" || { not_ok "API $mode: one error line"; vpr_diag; }
done
# meta.total must agree with what the pages held, and with itself from page to page.
api_set "c['mode'] = 'ok'; c['total_offset'] = 1"
vpr sync
collect
expect_rc 1 "pages that hold fewer peerings than meta.total: sync fails"
expect_err "API: the pages held 6 peerings, but meta.total says 7; not trusting this answer" "the mismatch is named"
check "a short count keeps every route" api_routes_expected
api_set "c['total_offset'] = 2; c['total_offset_page'] = 2"
vpr sync
collect
expect_rc 1 "a meta.total that changes from page to page: sync fails"
expect_err "meta.total is 8, but the first page said 6; not trusting this answer" "the change between pages is named"
api_set "c.pop('total_offset'); c.pop('total_offset_page')"

# Retry-After: 0 (an answer DigitalOcean's rate limiter may give at the edge of a window), the
# hour spent (ratelimit-remaining: 0): its wait.
api_set "c['mode'] = '429'; c['retry_after'] = 0; c['headers'] = {'ratelimit-remaining': 0}"
vpr sync
collect
expect_rc 1 "API 429 with Retry-After: 0: sync fails"
expect_err "rate limited (HTTP 429); next request in 1 s" "Retry-After: 0 reads as a second, not as an underflow"
# The same with requests left in the hour: the minute's limit, which no header reports. Never
# sooner than the minute has passed, whatever Retry-After says.
api_set "c.pop('headers')"
vpr sync
collect
expect_rc 1 "API 429 of the minute: sync fails"
# The wait is said as "N s" below two minutes, "2 min" from there.
wait_s=$(printf '%s\n' "$ERR" | sed -n 's/.*rate limited (HTTP 429); next request in \([0-9]*\) \(s\|min\)\b.*/\1 \2/p' | head -n 1 |
        awk '{ print $2 == "min" ? $1 * 60 : $1 }')
check "a 429 of the minute waits a minute at least, Retry-After 0 or not (${wait_s:-?} s)" \
        test "${wait_s:-0}" -ge 60 -a "${wait_s:-0}" -le 121
# Retry-After as an HTTP-date (RFC 9110 allows both forms): its wait, not the 60 s default.
api_set "c['mode'] = '429'; c['retry_after'] = 300; c['retry_after_date'] = True"
vpr sync
collect
expect_rc 1 "API 429 with Retry-After as an HTTP-date: sync fails"
case $ERR in *"rate limited (HTTP 429); next request in 5 min"* | *"rate limited (HTTP 429); next request in 4 min"*)
        ok "Retry-After as an HTTP-date is read as the wait it names" ;;
*) not_ok "Retry-After as an HTTP-date is read as the wait it names"; vpr_diag ;; esac
api_set "c['retry_after'] = 30; c.pop('retry_after_date')"
# ratelimit-remaining: 0 on a good answer: the round's next request would meet a 429, so it is
# not sent.
api_set "c['mode'] = 'ok'; c['headers'] = {'ratelimit-remaining': 0, 'reset_in': 40}"
before=$(api_requests)
vpr sync
collect
expect_rc 1 "ratelimit-remaining: 0 on the droplet's answer: sync fails"
expect_err "the token has no request left in its window (ratelimit-remaining: 0); next request in 4" "the exhausted token is named with its wait"
check "no request went after the answer that said nothing was left" test "$(api_requests)" -eq $((before + 1))
api_set "c.pop('headers')"
api_set "c['mode'] = 'ok'; c['token'] = 'another-token'"
vpr sync
collect
expect_rc 1 "API 401: sync fails"
expect_err "the token was rejected (HTTP 401: \"Unable to authenticate you\"); check the API token file" "401 names the token and the scopes"
expect_err "droplet:read and vpc:read" "401 names the read scopes"
check "API 401: every route kept" api_routes_expected
api_set "c['token'] = '$API_TOKEN'"

# ---- the shapes DigitalOcean's clients read, and the scopes ----
# godo decodes GET /v2/vpcs/{id}/peerings from "vpc_peerings", the specification says "peerings".
vpr flush
api_set "c['list_key'] = 'vpc_peerings'"
vpr sync
collect
expect_rc 0 "peerings listed under vpc_peerings (godo's shape)"
check "vpc_peerings: exactly the ACTIVE peers' ranges are routed" api_routes_expected
for key in both none; do
        api_set "c['list_key'] = '$key'"
        vpr sync
        collect
        expect_rc 1 "peerings under $key of the two keys: sync fails"
        check "peerings under $key of the two keys: every route kept" api_routes_expected
done
expect_err "neither peerings nor vpc_peerings is there" "no list at all is named"
api_set "c['list_key'] = 'both'"
vpr sync
expect_err "both peerings and vpc_peerings are there; expected one of them" "two lists are named"
api_set "c['list_key'] = 'peerings'"

api_set "c['droplet_vpc_null'] = True"
vpr sync
collect
expect_rc 1 "a droplet in no VPC: sync fails"
expect_err "API: GET /v2/droplets/3164444: droplet.vpc_uuid is null; the droplet is in no VPC, so no peering can reach it" \
        "a droplet in no VPC is said plainly"
check "a droplet in no VPC: every route kept" api_routes_expected
api_set "c.pop('droplet_vpc_null')"

for forbid in droplets:droplet:read peerings:vpc:read vpcs:vpc:read; do
        api_set "c['forbid'] = '${forbid%%:*}'"
        vpr sync
        collect
        expect_rc 1 "HTTP 403 on ${forbid%%:*}: sync fails"
        expect_err "(HTTP 403: \"You are not authorized to perform this operation\"); it lacks the ${forbid#*:} scope" \
                "a 403 on ${forbid%%:*} names the missing scope ${forbid#*:}"
        check "HTTP 403 on ${forbid%%:*}: every route kept" api_routes_expected
done
api_set "c.pop('forbid')"

# A peering that names one VPC (as godo's own test answer does), and a status nobody documented.
api_set "peering('a')['vpc_ids'] = [c['own_vpc']]; peering('b')['status'] = 'FAILED'"
vpr sync
collect
expect_rc 0 "one VPC id and an unknown status: sync still works"
expect_err "peering aa111111-1111-4111-8111-1111111111aa (peering-a) names only the VPC $API_OWN_VPC in vpc_ids; without the other VPC there is nothing to route" \
        "a peering with one VPC id is named"
expect_err 'peering bb111111-1111-4111-8111-1111111111bb (peering-b) has the status "FAILED", which this agent does not know; treating it as not ACTIVE' \
        "an unknown status is named"
check "neither gets a route" test -z "$(own_routes | grep -E '10\.(120|130)\.')"
api_set "peering('a')['vpc_ids'] = [c['own_vpc'], u('a')]; peering('b')['status'] = 'ACTIVE'"
vpr sync
check "back to two VPC ids and ACTIVE: the routes are back" api_routes_expected

# ---- the plan as JSON, and sync --wait right after a peering was created ----
for args in "sync --json" "sync --dry-run --wait" "sync --wait=soon" "sync --wait=0s" "status --wait"; do
        # shellcheck disable=SC2086
        vpr $args
        expect_rc 2 "$args is a usage error"
done
vpr sync --wait=soon
expect_err '--wait=soon is not a time from 1s to 24h' "a bad --wait names its value"
vpr sync --json
expect_err "sync --json prints the plan of --dry-run; use sync --dry-run --json" "sync --json says what it needs"

vpr flush
vpr sync --dry-run --json
collect
expect_rc 0 "sync --dry-run --json"
if printf '%s' "$OUT" | "$PYTHON" -c '
import json, sys
p = json.load(sys.stdin)
assert p["version"] == 1 and p["source"] == "api" and p["interface"] == "ens4" and p["gateway"] == "10.116.0.1", p
acts = {a["route"]["destination"]: (a["action"], a["peering"]["name"]) for a in p["actions"]}
assert acts == {"10.120.0.0/20": ("add", "peering-a"), "10.130.0.0/16": ("add", "peering-b")}, acts
assert p["counts"]["add"] == 2 and p["counts"]["delete"] == 0, p["counts"]
assert [w["name"] for w in p["api"]["provisioning"]] == ["peering-c"], p["api"]
'; then ok "the JSON plan names each action, its route and its peering, and the peering still PROVISIONING"; else not_ok "JSON plan"; vpr_diag; fi
check "sync --dry-run --json changed nothing" no_own_routes

# Still PROVISIONING when the time runs out: what is ACTIVE is installed, and the rest is named.
vpr sync --wait=2s
collect
expect_rc 1 "sync --wait: a peering still PROVISIONING when the time runs out"
expect_err "Still PROVISIONING after 2 s: peering-c; their routes come once they are ACTIVE" "the peering still waiting is named"
check "the ACTIVE peerings were routed meanwhile" api_routes_expected

# It turns ACTIVE while sync waits: exit 0 with its route.
(sleep 2 && api_set "peering('c')['status'] = 'ACTIVE'") &
before=$(api_requests)
vpr sync --wait=60s
wait "$!"
collect
expect_rc 0 "sync --wait: the peering turned ACTIVE while it waited"
expect_err "Waiting for peering-c to become ACTIVE; asking again in" "it said what it waits for"
expect_err "No peering is PROVISIONING any more, after" "it said when the wait ended"
droplet_reads=$(tail -n +"$((before + 1))" "$API_LOG" | grep -c '"path": "/v2/droplets/')
peering_reads=$(tail -n +"$((before + 1))" "$API_LOG" | grep -c '/peerings')
check "sync --wait reads the droplet once, the peerings at every look ($droplet_reads, $peering_reads)" \
        test "$droplet_reads" -eq 1 -a "$peering_reads" -ge 4
check "the new peering's route is installed" own_count "10.140.0.0/16" 1
api_set "peering('c')['status'] = 'PROVISIONING'"

# A 429 of a spent hour while waiting: its Retry-After is honoured, then the wait goes on.
api_set "c['mode'] = '429'; c['retry_after'] = 15; c['headers'] = {'ratelimit-remaining': 0}"
(sleep 2 && api_set "c['mode'] = 'ok'; c.pop('headers'); peering('c')['status'] = 'ACTIVE'") &
before=$(api_requests)
vpr sync --wait=60s
wait "$!"
collect
expect_rc 0 "sync --wait through a 429"
expect_err "rate limited (HTTP 429); next request in 15 s; nothing changed; asking again in 1" "the 429 is warned about with its wait"
# Its Retry-After (15 s) is longer than the 10 s between looks: the second look waits for it.
if tail -n +"$((before + 1))" "$API_LOG" | "$PYTHON" -c '
import json, sys
t = [json.loads(l)["time"] for l in sys.stdin if "/v2/droplets/" in l]
assert len(t) == 2 and t[1] - t[0] >= 14.5, t
'; then ok "no request before Retry-After passed"; else not_ok "no request before Retry-After passed"; diag "$(tail -n 5 "$API_LOG")"; fi
api_set "peering('c')['status'] = 'PROVISIONING'"
api_set "c['mode'] = '429'; c['retry_after'] = 600"
vpr sync --wait=30s
collect
expect_rc 1 "sync --wait: a Retry-After beyond the wait gives up at once"
expect_err "gave up after waiting 30 s (the API asks to wait longer than that)" "and says why"
api_set "c['mode'] = 'ok'; c['retry_after'] = 30; c['token'] = 'another-token'"
vpr sync --wait=60s
collect
expect_rc 1 "sync --wait: a rejected token ends the wait at once"
check "a rejected token: no second try" test "$(printf '%s\n' "$ERR" | grep -c 'HTTP 401')" -eq 1
api_set "c['token'] = '$API_TOKEN'"
vpr sync
check "the standard world again" api_routes_expected

# A next link to another host is not followed, and the token never goes there.
api_set "c['mode'] = 'next_host:http://192.0.2.1:8081'"
vpr sync
collect
expect_rc 1 "next link to another host: sync fails"
expect_err 'links.pages.next "http://192.0.2.1:8081/v2/vpcs/' "the foreign next link is named"
check "the other host got no request" test ! -s "$OTHER_LOG"
check "next link to another host: every route kept" api_routes_expected
api_set "c['mode'] = 'ok'"

# ---- the daemon follows the API ----
within() {
        local secs=$1 what=$2
        shift 2
        if wait_for "$secs" "$@"; then ok "$what"; else not_ok "$what"; diag "$(own_routes)" "$(tail -n 15 "$DAEMON_LOG")"; fi
}
requests_above() {
        [ "$(api_requests)" -ge "$1" ]
}
# A new droplet knows nothing of the fleet that shares its token: its first round waits a draw
# from 9 minutes (a fleet booted at once stays under the 250 requests a minute), and says so; a
# reload asks at once.
: >"$API_LOG"
api_conf "interval = 10min" "api_interval = 10s" "metrics_file = $TESTDIR/metrics.prom"
rm -f "$TESTDIR/api-fleet"
daemon_start
within 10 "a new droplet: the first round waits a draw from the start spread, and the log says so" \
        logged "API: first round in .* (a new droplet does not know how many share the token: the starts of a fleet spread over 9 min)"
drawn=$(sed -n 's/.*API: first round in \([0-9.]*\) \(ms\|s\|min\) .*/\1 \2/p' "$DAEMON_LOG" | head -n 1)
case $drawn in
*" s" | *" min") # a second or more
        sleep 0.5
        check "no API request before the draw ($drawn)" test "$(api_requests)" -eq 0 ;;
*) ok "# the draw was under a second ($drawn): nothing to wait for" ;;
esac
kill -HUP "$DAEMON_PID"
within 10 "a reload asks at once, start spread or not" logged "API: VPC $API_OWN_VPC has [0-9]* ACTIVE peerings"
check "the routes are the peers'" api_routes_expected
daemon_stop
# Every later start of this droplet knows: its last run kept the fleet it saw (alone: 1), and a
# fleet of one starts within a second.
check "the run kept the fleet it saw in the folder of owner_file" grep -qx "fleet = 1" "$TESTDIR/api-fleet"
: >"$API_LOG"
daemon_start
within 10 "daemon ready with source = api" grep -q READY=1 "$NOTIFY_LOG"
within 5 "a droplet that was alone asks at once" requests_above 1
check "and says nothing of a start spread" sh -c "! grep -q 'first round in' '$DAEMON_LOG'"
check "daemon keeps exactly the peers' routes" api_routes_expected

api_set "peering('b')['status'] = 'DELETING'"
kill -HUP "$DAEMON_PID"
within 5 "a peering leaving ACTIVE loses its route at the next round" own_count "10.130.0.0/16" 0
check "the other peer's route stays" own_count "10.120.0.0/20" 1
api_set "peering('b')['status'] = 'ACTIVE'; c['peerings'].append({'id': '99111111-1111-4111-8111-111111111199', 'name': 'peering-new', 'vpc_ids': [c['own_vpc'], u('f')], 'status': 'ACTIVE'})"
kill -HUP "$DAEMON_PID"
within 5 "a new ACTIVE peering gets its route" own_count "10.180.0.0/16" 1
within 5 "a peering back to ACTIVE gets its route back" own_count "10.130.0.0/16" 1
api_set "c['peerings'] = [p for p in c['peerings'] if p['name'] != 'peering-new']"
kill -HUP "$DAEMON_PID"
within 5 "a deleted peering loses its route" own_count "10.180.0.0/16" 0

# A status the agent does not know: not ACTIVE, and said once, not at every round.
lines=$(wc -l <"$DAEMON_LOG")
api_set "peering('b')['status'] = 'FAILED'"
kill -HUP "$DAEMON_PID"
within 5 "a peering in an unknown status loses its route" own_count "10.130.0.0/16" 0
# Two more rounds, each seen asking for the peerings.
peering_requests() {
        grep -c '/peerings' "$API_LOG"
}
rounds=1
for i in 1 2; do
        before=$(peering_requests)
        kill -HUP "$DAEMON_PID"
        more_peering_requests() { [ "$(peering_requests)" -gt "$before" ]; }
        wait_for 5 more_peering_requests && rounds=$((rounds + 1))
done
check "three rounds read the peerings" test "$rounds" -ge 3
check "an unknown status is logged once over three rounds" \
        test "$(tail -n +$((lines + 1)) "$DAEMON_LOG" | grep -c 'has the status "FAILED", which this agent does not know')" -eq 1
api_set "peering('b')['status'] = 'ACTIVE'"
kill -HUP "$DAEMON_PID"
within 5 "back to ACTIVE: the route is back" own_count "10.130.0.0/16" 1

# An API answer without any of our peerings would remove every route: held until a second
# round, api_interval later, says the same.
lines=$(wc -l <"$DAEMON_LOG")
api_set "c['saved'] = c['peerings']; c['peerings'] = []"
kill -HUP "$DAEMON_PID"
within 5 "an API answer that would remove every route is held" logged_since "$lines" "The API's answer would remove 2 of 2 routes at once; keeping them until a second answer, in 10 s"
check "every route stays after one such answer" api_routes_expected
within 15 "the second round, api_interval later, removes them" no_own_routes
api_set "c['peerings'] = c.pop('saved')"
kill -HUP "$DAEMON_PID"
within 5 "the peerings back: their routes back" api_routes_expected

# Steady state: one request a round (the peerings' one page) once the droplet's VPC and the VPC
# ranges are known.
api_set "c['page_size'] = 20"
before=$(api_requests)
kill -HUP "$DAEMON_PID"
wait_for 5 requests_above $((before + 1))
before=$(api_requests)
kill -HUP "$DAEMON_PID"
within 5 "a steady-state round is seen" requests_above $((before + 1))
sleep 0.5 # a second request of the same round would come within milliseconds of the first
check "a steady-state round costs one request" test $(($(api_requests) - before)) -eq 1
check "and it is the peerings'" sh -c "tail -n 1 '$API_LOG' | grep -q '\"path\": \"/v2/vpcs/$API_OWN_VPC/peerings'"
# The droplet moved to another VPC: the old one's peerings answer 404, and the same round reads
# the droplet's VPC again and asks the new one's.
lines=$(wc -l <"$DAEMON_LOG")
NEW_VPC=7b4981aa-9653-4bd1-bef5-d6bff52042e4
move_vpc() { # from to: the droplet's VPC, in the droplet's answer and in every peering
        api_set "c['own_vpc'] = '$2'; [p.__setitem__('vpc_ids', ['$2' if v == '$1' else v for v in p['vpc_ids']]) for p in c['peerings']]"
}
move_vpc "$API_OWN_VPC" "$NEW_VPC"
api_set "c['gone_vpcs'] = ['$API_OWN_VPC']"
before=$(api_requests)
kill -HUP "$DAEMON_PID"
within 5 "a 404 of the VPC's peerings: the droplet is read again" logged_since "$lines" "API: VPC $API_OWN_VPC answers 404 (gone); reading droplet 3164444's VPC again"
within 5 "and the log names the new VPC" logged_since "$lines" "API: droplet 3164444 is now in VPC 7b4981aa-9653-4bd1-bef5-d6bff52042e4 (it was in $API_OWN_VPC)"
check "the routes stay those of the peerings" api_routes_expected
check "no failure was counted" sh -c "! tail -n +$((lines + 1)) '$DAEMON_LOG' | grep -q 'keeping [0-9]* route'"
move_vpc "$NEW_VPC" "$API_OWN_VPC"
api_set "c['gone_vpcs'] = ['$NEW_VPC']"
kill -HUP "$DAEMON_PID"
within 5 "and back" logged_since "$lines" "API: droplet 3164444 is now in VPC $API_OWN_VPC (it was in $NEW_VPC)"
api_set "c.pop('gone_vpcs')"
# The metadata puts the droplet in another subnet (a VPC migration changes the private address
# and subnet): the droplet's VPC is read again, by the round the new document starts or the one
# after it (this service polls the metadata on a reload only).
droplet_reads() {
        grep -c '"path": "/v2/droplets/' "$API_LOG"
}
reads=$(droplet_reads)
md_control '{"mode": "ok", "set": {"interfaces.private.0.ipv4.netmask": "255.255.0.0"}}'
kill -HUP "$DAEMON_PID"
more_droplet_reads() { [ "$(droplet_reads)" -gt "$reads" ]; }
within 20 "another private subnet in the metadata: the droplet's VPC is read again" more_droplet_reads
md_control '{"mode": "ok"}'
kill -HUP "$DAEMON_PID"
api_set "c['page_size'] = 2"

# A token the rest of a fleet uses too: 3,000 of its 5,000 requests an hour are others'. The
# agent's share of 95 % of api_budget (50 %) stretches its interval beyond api_interval (10 s).
lines=$(wc -l <"$DAEMON_LOG")
api_set "c['rate_limit'] = {'limit': 5000, 'window': 3600, 'others': 3000}"
kill -HUP "$DAEMON_PID"
within 5 "a token shared with a fleet: the log says so" logged_since "$lines" "API: the token is shared by about [0-9]* agents like this one (300[0-9] of 5000 requests in its window); asking every [0-9]* s to keep them under 50%"
if "$PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))["api_pacing"]
assert p["interval_seconds"] > 10 and p["token_used"] >= 3000 and p["token_limit"] == 5000 and p["fleet"] > 1, p
' "$TESTDIR/state.json"; then ok "the state file has the pacing"; else not_ok "state file pacing"; diag "$(cat "$TESTDIR/state.json")"; fi
check "the metrics have the interval" awk '/^vpc_peer_routes_api_interval_seconds/ {exit !($2 > 10)}' "$TESTDIR/metrics.prom"
check "the metrics have the token's use" grep -q '^vpc_peer_routes_api_token_used 300[0-9]$' "$TESTDIR/metrics.prom"
vpr status
case $OUT in *"API: asking every "*" s; the token used 300"*" of 5000 requests in its window, shared by about "*" agents"*) ok "status shows the pacing" ;; *) not_ok "status shows the pacing"; vpr_diag ;; esac
# Spent: the droplet's answer says nothing is left; the round stops there (its next request
# would meet a 429) and waits for the window to drain, and says so.
lines=$(wc -l <"$DAEMON_LOG")
api_set "c['rate_limit']['others'] = 4999"
before=$(api_requests)
kill -HUP "$DAEMON_PID"
within 5 "a spent token: the agent waits and says why" logged_since "$lines" "API: the token has no request left in its window (ratelimit-remaining: 0); next request in"
check "a spent token: no request after the answer that said so" test "$(api_requests)" -eq $((before + 1))
lines=$(wc -l <"$DAEMON_LOG")
api_set "c.pop('rate_limit')"
kill -HUP "$DAEMON_PID"
within 5 "the token to itself again: back to api_interval" logged_since "$lines" "API: the token's use (.* of 5000 requests in its window) leaves room; asking every 10 s"

# Failures in the daemon: every route kept, the daemon alive, one warning, each counted by its
# kind in the metrics (which is also how the test knows the failing round happened).
api_errors() {
        sed -n "s/^vpc_peer_routes_api_errors_total{kind=\"$1\"} //p" "$TESTDIR/metrics.prom"
}
lines=$(wc -l <"$DAEMON_LOG")
for c in status:500/http garbage/answer hang/network; do
        mode=${c%/*} kind=${c#*/}
        before=$(api_errors "$kind")
        api_set "c['mode'] = '$mode'"
        kill -HUP "$DAEMON_PID"
        counted() { [ "$(api_errors "$kind")" -gt "${before:-0}" ]; }
        within 10 "daemon, API $mode: the failed round is counted as $kind" counted
        check "daemon, API $mode: alive" kill -0 "$DAEMON_PID"
        check "daemon, API $mode: every route kept" api_routes_expected
        api_set "c['mode'] = 'ok'"
done
check "the daemon logged those API failures as warnings" logged_since "$lines" "warning: API: "
check "no token error was counted" grep -q '^vpc_peer_routes_api_errors_total{kind="token"} 0$' "$TESTDIR/metrics.prom"
# A 429: counted, and no request goes before its Retry-After (30 s) has passed.
before=$(api_errors rate_limit)
api_set "c['mode'] = '429'; c['retry_after'] = 30"
kill -HUP "$DAEMON_PID"
counted() { [ "$(api_errors rate_limit)" -gt "${before:-0}" ]; }
within 10 "daemon, API 429: the failed round is counted as rate_limit" counted
n429=$(api_requests)
api_set "c['mode'] = 'ok'"
kill -HUP "$DAEMON_PID" # a reload asks at once, unless a Retry-After holds it
sleep 4
check "after a 429 the agent waits for Retry-After before asking again, reload or not" test "$(api_requests)" -eq "$n429"
check "routes kept while rate limited" api_routes_expected
check "the daemon's state file names peerings" grep -q '"name":[[:space:]]*"peering-a"' "$TESTDIR/state.json"
cmdline=$(tr '\0' ' ' <"/proc/$DAEMON_PID/cmdline" 2>/dev/null)
check "the daemon's command line can be read (it runs)" test -n "$cmdline"
check_not "token not in the daemon's command line" grep -qF "$API_TOKEN" <<<"$cmdline"
daemon_stop
check "daemon exits 0" test "$DAEMON_RC" -eq 0
cat "$DAEMON_LOG" "$TESTDIR/state.json" "$TESTDIR/metrics.prom" >>"$ALL_OUTPUT" 2>/dev/null

# ---- https with a certificate authority made here ----
if api_tls_start; then
        conf "source = api" "api_url = https://192.0.2.1:8443" "api_token_file = $TOKEN_FILE" "timeout = 2s"
        vpr sync
        collect
        expect_rc 1 "https without the test CA: the certificate is not trusted"
        expect_err "certificate" "the error names the certificate problem"
        check "untrusted certificate: every route kept" api_routes_expected
        conf "source = api" "api_url = https://192.0.2.1:8443" "api_token_file = $TOKEN_FILE" "api_ca_file = $API_CA" "timeout = 2s"
        vpr flush
        vpr sync
        collect
        expect_rc 0 "https with api_ca_file verifies the server"
        check "routes installed over https" api_routes_expected
else
        not_ok "could make a test CA and start the https API (openssl)"
fi

check "the token appears in no output, log, state or metrics file" sh -c "! grep -qF '$API_TOKEN' '$ALL_OUTPUT'"
tap_done
