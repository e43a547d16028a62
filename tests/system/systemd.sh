#!/bin/bash
# SPDX-License-Identifier: MIT
# The packaged agent under a real systemd: a Debian 12 root with the freshly built .deb,
# booted with systemd-nspawn inside the simulated droplet's network namespace. Proves the
# hardened unit reaches "active (running)" through the notify handshake, runs with
# CAP_NET_ADMIN alone and not as root, installs working routes, is restarted by systemd after
# SIGKILL and by an upgrade with every route in place throughout, keeps routes on stop, polls at
# once on reload, refuses a reload of a broken config visibly, keeps its owner record in its
# StateDirectory, serves metrics to node_exporter as vpc-peer-routes(8) says, logs structured fields
# to the journal, and follows the API with the token handed over as the README and vpc-peer-routes(8) say.
#
# The Debian root is cached outside the checkout (tests/lib/nspawn.sh); each run boots a copy of
# it, removed at the end.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/droplet.sh"
. "$(dirname "$0")/../lib/nspawn.sh"
export LC_ALL=C.UTF-8

require_root
nspawn_require_tools
droplet_test_start
SAMPLER=
systemd_cleanup() {
        [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
        nspawn_cleanup
}
trap systemd_cleanup EXIT

nspawn_build_deb
if nspawn_root bookworm prometheus-node-exporter; then
        ok "a Debian 12 root with systemd (cached in $NSPAWN_CACHE)"
else
        not_ok "a Debian 12 root with systemd"
        diag "$(tail -n 20 "$NSPAWN_CACHE/debootstrap-bookworm.log")"
        tap_done
        exit 1
fi
ROOT=$TESTDIR/root
if nspawn_copy_root bookworm "$ROOT"; then
        ok "the .deb installs, with its dependencies already in the root"
else
        not_ok "the .deb installs"
        diag "$(cat "$TESTDIR/dpkg.log")"
fi
check "the package enabled the unit" test -L "$ROOT/etc/systemd/system/multi-user.target.wants/vpc-peer-routes.service"

if nspawn_boot "$ROOT"; then
        ok "the container boots systemd ($(in_ct systemctl is-system-running))"
else
        not_ok "the container boots systemd"
        diag "$(cat "$TESTDIR/nspawn.log")"
        tap_done
        exit 1
fi

within 30 "the packaged unit is active (running)" running
check "it went through the notify handshake (Type=notify, STATUS= set)" test "$(svc Type)" = notify -a -n "$(svc StatusText)"
diag "StatusText: $(svc StatusText)"
MAIN=$(svc MainPID)
cap_eff=$(in_ct awk '/^CapEff/ {print $2}' "/proc/$MAIN/status")
check "effective capabilities are CAP_NET_ADMIN alone ($cap_eff)" test "$cap_eff" = 0000000000001000
uid=$(in_ct awk '/^Uid/ {print $2}' "/proc/$MAIN/status")
check "it does not run as root (uid $uid)" test "${uid:-0}" -ne 0
within 10 "routes installed in the droplet" own_is_expected
check "the peered host answers a ping from the droplet" can_ping
check "ip names the agent's protocol vpc-peer (rt_protos.d)" test "$(in_ct ip route show proto vpc-peer | wc -l)" -eq 3

# The journal holds the structured fields of the first installs.
journal=$(in_ct journalctl -u vpc-peer-routes.service -o json --no-pager 2>/dev/null)
for field in '"ACTION":"add"' '"ROUTE":"10.0.0.0/8"' '"IFACE":"ens4"' '"GATEWAY":"10.116.0.1"'; do
        check "the journal holds $field" grep -qF "$field" <<<"$journal"
done

# Routes must stay in place through every stop, kill and restart: sample them meanwhile.
sampler_start() {
        : >"$TESTDIR/samples"
        (while :; do ip -n "$DR" route show proto 241 | wc -l >>"$TESTDIR/samples"; sleep 0.02; done) &
        SAMPLER=$!
}
sampler_stop() {
        kill "$SAMPLER" 2>/dev/null
        wait "$SAMPLER" 2>/dev/null
        SAMPLER=
        [ -s "$TESTDIR/samples" ] && ! grep -qv '^3$' "$TESTDIR/samples"
}

sampler_start
in_ct systemctl kill -s KILL vpc-peer-routes.service
restarted() {
        [ "$(svc NRestarts)" -ge 1 ] && running
}
within 30 "after SIGKILL systemd restarts it" restarted
check "a new process serves" test "$(svc MainPID)" != "$MAIN"
check "every route stayed in place through the kill and restart ($(wc -l <"$TESTDIR/samples") samples)" sampler_stop

# SIGPIPE (libcurl closing a TLS connection the API reset) leaves the service running.
MAIN=$(svc MainPID)
in_ct systemctl kill -s PIPE --kill-who=main vpc-peer-routes.service
ip -n "$DR" route del 10.0.0.0/8 proto 241
within 5 "after a SIGPIPE the service still heals" own_is_expected
check "the same process still serves after a SIGPIPE" test "$(svc MainPID)" = "$MAIN"
# A death by a signal the service did not ask for (SIGTERM from kill, not from systemctl stop)
# counts as clean for Restart=on-failure: the unit restarts it all the same.
restarts=$(svc NRestarts)
in_ct systemctl kill -s TERM --kill-who=main vpc-peer-routes.service
restarted_again() {
        [ "$(svc NRestarts)" -gt "$restarts" ] && running && [ "$(svc MainPID)" != "$MAIN" ]
}
within 30 "after a SIGTERM it did not ask for, systemd restarts it" restarted_again

# flush while the service runs would be undone at once: refused, naming the service.
if in_ct vpc-peer-routes flush >"$TESTDIR/flush.out" 2>&1; then
        not_ok "flush is refused while the service runs"
else
        ok "flush is refused while the service runs"
fi
check "the refusal names the running service and how to stop it" grep -q "PID $(svc MainPID)) runs in this network namespace.*systemctl stop vpc-peer-routes" "$TESTDIR/flush.out"
check "the refused flush left every route" own_is_expected

sampler_start
in_ct systemctl stop vpc-peer-routes.service
check "systemctl stop stops it" test "$(svc ActiveState)" = inactive
sleep 1
check "systemctl stop keeps every route" sampler_stop
check "the peered host still answers with the service stopped" can_ping
in_ct systemctl start vpc-peer-routes.service
within 30 "it starts again" running

before=$(wc -l <"$REQLOG")
sleep 1
in_ct systemctl reload vpc-peer-routes.service
more_requests() {
        [ "$(wc -l <"$REQLOG")" -gt "$before" ]
}
within 5 "systemctl reload polls the metadata at once" more_requests
within 10 "it is running after the reload" running

# A broken config: `systemctl reload` fails visibly (check-config runs first) and the service
# goes on with the previous one.
cp "$ROOT/etc/vpc-peer-routes.conf" "$TESTDIR/good.conf"
echo "metric = lots" >>"$ROOT/etc/vpc-peer-routes.conf"
if in_ct systemctl reload vpc-peer-routes.service >"$TESTDIR/reload.out" 2>&1; then
        not_ok "systemctl reload fails on a broken config"
else
        ok "systemctl reload fails on a broken config"
fi
check "the service is still running after the refused reload" running
check "its routes are untouched" own_is_expected
# journald may take a moment to store the refused reload's output: wait for it, with a bound.
within 10 "the journal names the broken line" sh -c "nsenter -t $CT -a journalctl -u vpc-peer-routes.service --no-pager | grep -q 'metric \"lots\" is not a number'"
cp "$TESTDIR/good.conf" "$ROOT/etc/vpc-peer-routes.conf"

# owner_file lives in the StateDirectory, writable by the dynamic user across restarts.
check "the service records the protocol and table its routes carry" grep -qx "protocol = 241" "$ROOT/var/lib/private/vpc-peer-routes/owner"

# The README's metrics recipe, as written, under the unit's DynamicUser: the textfile in the
# runtime directory, a symlink in node_exporter's textfile folder, node_exporter serving it.
echo "metrics_file = /run/vpc-peer-routes/metrics.prom" >>"$ROOT/etc/vpc-peer-routes.conf"
in_ct ln -sf /run/vpc-peer-routes/metrics.prom /var/lib/prometheus/node-exporter/vpc-peer-routes.prom
in_ct systemctl reload vpc-peer-routes.service
scraped() {
        ip netns exec "$DR" curl -s --max-time 2 http://127.0.0.1:9100/metrics | grep -q '^vpc_peer_routes_routes_installed 3$'
}
within 20 "node_exporter serves the agent's metrics through the recipe's symlink" scraped
cp "$TESTDIR/good.conf" "$ROOT/etc/vpc-peer-routes.conf"
in_ct systemctl reload vpc-peer-routes.service

# An upgrade (the same package again) restarts it; the routes stay throughout.
MAIN=$(svc MainPID)
sampler_start
if in_ct dpkg -i /root/vpc-peer-routes.deb >"$TESTDIR/upgrade.log" 2>&1; then ok "the package upgrades in place"; else not_ok "the package upgrades in place"; diag "$(cat "$TESTDIR/upgrade.log")"; fi
new_main() {
        running && [ "$(svc MainPID)" != "$MAIN" ]
}
within 30 "the upgrade restarted the service" new_main
check "every route stayed in place through the upgrade" sampler_stop

# An own route deleted under the running service comes back.
ip -n "$DR" route del 10.0.0.0/8 proto 241
within 5 "the service heals a deleted route" own_is_expected

# The README's API recipe under the real systemd (source = api, step 3, and the Fleets user
# data): the token root's own with mode 0600, handed to the dynamic user as a credential by a
# drop-in that also opens the API's address.
if api_start; then ok "the fake API runs"; else not_ok "the fake API runs"; fi
install -d -m 0755 "$ROOT/etc/vpc-peer-routes"
install -m 0600 -o 0 -g 0 "$TOKEN_FILE" "$ROOT/etc/vpc-peer-routes/do-api-token"
cat "$TESTDIR/good.conf" - >"$ROOT/etc/vpc-peer-routes.conf" <<'CONF'
source = api
api_url = http://192.0.2.1:8080
api_insecure = yes
api_token_file = /etc/vpc-peer-routes/do-api-token
api_interval = 10s
CONF
api_journal() {
        in_ct journalctl -u vpc-peer-routes.service --no-pager -o cat
}
# The fleet the last run saw, in the StateDirectory: a few droplets, so the first round comes
# within a few seconds (a new droplet would wait a draw from 10 minutes).
printf 'fleet = 3\n' >"$ROOT/var/lib/private/vpc-peer-routes/api-fleet"
# Without the drop-in the dynamic user cannot read the root-only token: a clear error, and the
# routes already there stay.
in_ct systemctl restart vpc-peer-routes.service
token_refused() {
        api_journal | grep -F "API token file /etc/vpc-peer-routes/do-api-token: Permission denied (as uid " |
                grep -qF "; hand it to the service with LoadCredential=do-api-token:/etc/vpc-peer-routes/do-api-token, or DynamicUser=no before systemd 247)"
}
within 15 "without the credential, the journal says the token cannot be read, and what to do" token_refused
diag "$(api_journal | grep -m 1 "do-api-token")"
check "and every route stays" own_is_expected
mkdir -p "$ROOT/etc/systemd/system/vpc-peer-routes.service.d"
printf '%s\n' "[Service]" "LoadCredential=do-api-token:/etc/vpc-peer-routes/do-api-token" "IPAddressAllow=any" \
        >"$ROOT/etc/systemd/system/vpc-peer-routes.service.d/api.conf"
in_ct systemctl daemon-reload
in_ct systemctl restart vpc-peer-routes.service
API_EXPECTED="10.120.0.0/20 via 10.116.0.1 dev ens4 metric 101 mtu 1500
10.130.0.0/16 via 10.116.0.1 dev ens4 metric 101 mtu 1500"
api_routes_expected() {
        own_routes_are "$API_EXPECTED"
}
api_added() {
        own_count '^10\.120\.0\.0/20 ' 1 && own_count '^10\.130\.0\.0/16 ' 1
}
within 30 "with the recipe's drop-in: the ACTIVE peers' ranges, from the API" api_added
held() {
        api_journal | grep -qF "The API's answer would remove 3 of 3 routes at once; keeping them until a second answer"
}
check "the three documented routes wait for a second answer" held
within 30 "then exactly the ACTIVE peers' ranges are routed" api_routes_expected
check "the dynamic user keeps the fleet it saw (alone) in its StateDirectory" \
        grep -qx "fleet = 1" "$ROOT/var/lib/private/vpc-peer-routes/api-fleet"
check "the peered host answers" can_ping
check "every API request carried the token" test "$(grep -c '"token_ok": true' "$API_LOG")" -eq "$(api_requests)" -a "$(api_requests)" -gt 0
check "the token is nowhere in the journal" sh -c "! nsenter -t $CT -a journalctl --no-pager -o cat | grep -qF '$API_TOKEN'"

# The README's way for a systemd older than 247, which has no LoadCredential= (Ubuntu 20.04,
# EL 8): DynamicUser=no, and the service reads the root-only file itself.
printf '%s\n' "[Service]" "DynamicUser=no" "IPAddressAllow=any" \
        >"$ROOT/etc/systemd/system/vpc-peer-routes.service.d/api.conf"
in_ct systemctl daemon-reload
before=$(api_requests)
in_ct systemctl restart vpc-peer-routes.service
asked_again() {
        running && [ "$(api_requests)" -gt "$before" ] &&
                case "$(svc StatusText)" in "2 routes via 10.116.0.1 dev ens4, in sync"*) true ;; *) false ;; esac
}
within 30 "with DynamicUser=no instead: the service reads the token file and the API again" asked_again
diag "StatusText: $(svc StatusText)"
MAIN=$(svc MainPID)
cap_eff=$(in_ct awk '/^CapEff/ {print $2}' "/proc/$MAIN/status")
check "still CAP_NET_ADMIN alone ($cap_eff)" test "$cap_eff" = 0000000000001000
check "every API request carried the token" test "$(grep -c '"token_ok": true' "$API_LOG")" -eq "$(api_requests)"

if nspawn_poweroff; then ok "the container powers off"; else not_ok "the container powers off"; fi
check "routes stay after the whole system shut down" api_routes_expected
tap_done
