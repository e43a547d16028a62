# SPDX-License-Identifier: MIT
# A Debian 12 root booted with systemd-nspawn inside the simulated droplet's network namespace,
# for the system tests (tests/system/systemd.sh, tests/system/managers.sh). Source tap.sh and
# droplet.sh first, and call droplet_test_start.
#
# Roots are cached in $VPR_ROOTFS_CACHE (default /var/cache/vpc-peer-routes-tests), outside the
# checkout, one per package set; each boot runs on a copy, removed at the end.

NSPAWN_CACHE=${VPR_ROOTFS_CACHE:-/var/cache/vpc-peer-routes-tests}
NSPAWN_MIRROR=${VPR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What every root holds: systemd, the agent's libraries, and what the tests run in it.
NSPAWN_PACKAGES=systemd,systemd-sysv,dbus,iproute2,iputils-ping,procps,libnl-3-200,libnl-route-3-200,libcurl4,libcjson1,libsystemd0

NSPAWN_PID=
CT=
NSPAWN_USING_HOST=
# Host-wide files that systemd-nspawn needs and a host whose PID 1 is not systemd lacks
# (/run/systemd/inaccessible/*, /run/systemd/nspawn): made by the first of any overlapping test
# runs, removed by the last, each run holding a marker in NSPAWN_USERS meanwhile.
NSPAWN_LOCK=/run/lock/vpc-peer-routes-tests-nspawn.lock
NSPAWN_USERS=/run/vpc-peer-routes-tests-nspawn

# nspawn_host_users: true while a live run holds a marker (call with the lock held). Markers of
# runs that died without releasing theirs are removed.
nspawn_host_users() {
        local m
        for m in "$NSPAWN_USERS"/[0-9]*; do
                [ -e "$m" ] && ! kill -0 "${m##*/}" 2>/dev/null && rm -f "$m"
        done
        ls "$NSPAWN_USERS"/[0-9]* >/dev/null 2>&1
}

nspawn_host_acquire() {
        mkdir -p /run/lock
        (
                flock 8
                mkdir -p "$NSPAWN_USERS"
                if ! nspawn_host_users; then
                        rm -f "$NSPAWN_USERS/made-inaccessible" "$NSPAWN_USERS/made-nspawn"
                        [ -d /run/systemd/inaccessible ] || touch "$NSPAWN_USERS/made-inaccessible"
                        [ -e /run/systemd/nspawn ] || touch "$NSPAWN_USERS/made-nspawn"
                fi
                touch "$NSPAWN_USERS/$$"
                if [ ! -d /run/systemd/inaccessible ]; then
                        mkdir -p /run/systemd/inaccessible
                        cd /run/systemd/inaccessible &&
                                touch reg && mkdir dir && mknod chr c 0 0 && mknod blk b 0 0 && mkfifo fifo &&
                                "$PYTHON" -c "import socket; socket.socket(socket.AF_UNIX).bind('sock')" &&
                                chmod 000 reg dir chr blk fifo sock
                fi
        ) 8>"$NSPAWN_LOCK"
        NSPAWN_USING_HOST=1
}

nspawn_host_release() {
        [ -n "$NSPAWN_USING_HOST" ] || return 0
        (
                flock 8
                rm -f "$NSPAWN_USERS/$$"
                if ! nspawn_host_users; then
                        [ -e "$NSPAWN_USERS/made-inaccessible" ] && rm -rf /run/systemd/inaccessible
                        [ -e "$NSPAWN_USERS/made-nspawn" ] && rm -rf /run/systemd/nspawn
                        rm -rf "$NSPAWN_USERS"
                fi
        ) 8>"$NSPAWN_LOCK"
        NSPAWN_USING_HOST=
}

# nspawn_require_tools: every tool the system tests need, or a failed test line and exit.
nspawn_require_tools() {
        local tool
        for tool in debootstrap systemd-nspawn nsenter dpkg-buildpackage; do
                if ! command -v "$tool" >/dev/null; then
                        not_ok "$tool is installed (tests/deps installs it)"
                        tap_done
                        exit 1
                fi
        done
}

# nspawn_build_deb: builds the .deb into $TESTDIR/debs and sets DEB, or fails the test.
nspawn_build_deb() {
        if "$top_srcdir/packaging/build-deb" "$TESTDIR/debs" >"$TESTDIR/build-deb.log" 2>&1; then
                ok "the .deb builds"
        else
                not_ok "the .deb builds"
                diag "$(tail -n 30 "$TESTDIR/build-deb.log")"
                tap_done
                exit 1
        fi
        DEB=$(ls "$TESTDIR"/debs/vpc-peer-routes_*.deb | head -n 1)
}

# nspawn_root NAME EXTRA_PACKAGES: the cached root NAME (NSPAWN_PACKAGES plus EXTRA_PACKAGES,
# comma-separated), made with debootstrap when missing or made for another package set.
nspawn_root() {
        local name=$1 packages=$NSPAWN_PACKAGES${2:+,$2}
        mkdir -p "$NSPAWN_CACHE"
        (
                flock 9
                if [ ! -e "$NSPAWN_CACHE/$name/.complete" ] || [ "$(cat "$NSPAWN_CACHE/$name/.complete")" != "$packages" ]; then
                        rm -rf "$NSPAWN_CACHE/$name"
                        debootstrap --variant=minbase --include="$packages" bookworm "$NSPAWN_CACHE/$name" "$NSPAWN_MIRROR" \
                                >"$NSPAWN_CACHE/debootstrap-$name.log" 2>&1 || exit 1
                        echo "$packages" >"$NSPAWN_CACHE/$name/.complete"
                fi
        ) 9>"$NSPAWN_CACHE/.lock"
}

# nspawn_copy_root NAME DIR: a copy of the cached root NAME in DIR with the .deb installed (its
# scripts enable the unit and start nothing outside a booted system).
nspawn_copy_root() {
        rm -rf "$2"
        # A shared lock: another run may be remaking the cached root (nspawn_root, exclusive).
        flock -s "$NSPAWN_CACHE/.lock" cp -a "$NSPAWN_CACHE/$1" "$2" || return 1
        # Not /tmp: the booted container mounts a tmpfs there.
        cp "$DEB" "$2/root/vpc-peer-routes.deb"
        chroot "$2" dpkg -i /root/vpc-peer-routes.deb >"$TESTDIR/dpkg.log" 2>&1
}

ct_pid() {
        local p
        for p in $(pgrep -P "$NSPAWN_PID"); do
                [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && { echo "$p"; return 0; }
        done
        return 1
}

in_ct() {
        nsenter -t "$CT" -a "$@"
}

booted() {
        local s
        s=$(in_ct systemctl is-system-running 2>/dev/null)
        [ "$s" = running ] || [ "$s" = degraded ]
}

# nspawn_boot DIR: boots the root in DIR in the droplet's namespace and waits for systemd to be
# up; sets NSPAWN_PID and CT (the container's PID 1 as the host sees it).
nspawn_boot() {
        [ -n "$NSPAWN_USING_HOST" ] || nspawn_host_acquire
        # --keep-unit and --register=no: no systemd or machined on the host to ask.
        # CAP_NET_ADMIN: the container owns the droplet namespace, which this test made.
        systemd-nspawn --quiet --directory="$1" --boot --register=no --keep-unit --capability=CAP_NET_ADMIN \
                --network-namespace-path="/run/netns/$DR" --machine="vpr-$$" --console=passive \
                >"$TESTDIR/nspawn.log" 2>&1 &
        NSPAWN_PID=$!
        wait_for 30 ct_pid
        CT=$(ct_pid)
        [ -n "$CT" ] && wait_for 90 booted
}

# nspawn_poweroff: powers the container off, and waits for it.
nspawn_poweroff() {
        [ -n "$NSPAWN_PID" ] || return 0
        in_ct systemctl poweroff >/dev/null 2>&1
        wait_for 60 sh -c "! kill -0 $NSPAWN_PID 2>/dev/null"
        local r=$?
        wait "$NSPAWN_PID" 2>/dev/null
        NSPAWN_PID= CT=
        return $r
}

nspawn_cleanup() {
        if [ -n "$NSPAWN_PID" ]; then
                kill -TERM "$NSPAWN_PID" 2>/dev/null
                for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$NSPAWN_PID" 2>/dev/null
                wait "$NSPAWN_PID" 2>/dev/null
        fi
        NSPAWN_PID=
        nspawn_host_release
        droplet_cleanup
}

svc() {
        in_ct systemctl show --value -p "$1" vpc-peer-routes.service
}

running() {
        [ "$(svc ActiveState)/$(svc SubState)" = active/running ]
}

# within SECS "what" CMD...: an ok line when CMD succeeds within SECS, else the service's status.
within() {
        local secs=$1 what=$2
        shift 2
        if wait_for "$secs" "$@"; then ok "$what"; else not_ok "$what"; diag "$(in_ct systemctl status --no-pager vpc-peer-routes 2>&1 | tail -n 15)"; fi
}
