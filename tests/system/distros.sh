#!/bin/bash
# SPDX-License-Identifier: MIT
# The tree on the distributions that droplets created before October 2024 run. For each suite
# (default: Debian 11 bullseye and Debian 13 trixie; Debian 12 is the host), a root made with
# debootstrap holding that release's compiler and libraries:
#   - the tree builds there with --enable-werror,
#   - its unit tests pass there (make check-unit: cmocka, the docs, systemd-analyze verify with
#     that release's systemd),
#   - the .deb built there installs there and its unit verifies,
#   - tests/integration/sync.sh passes with the binary built there (run in the root, against
#     the simulated droplet).
# Roots are cached in $VPR_ROOTFS_CACHE (default /var/cache/vpc-peer-routes-tests), outside the
# checkout, and used through an overlay: the cache is never written to by a test.
#
# VPR_DISTROS picks the suites. Ubuntu's focal (20.04) and jammy (22.04) are known too, for a
# developer whose machine reaches Ubuntu's mirror (CI's does not); debootstrap checks Ubuntu's
# signatures with /usr/share/keyrings/ubuntu-archive-keyring.gpg, which Debian does not ship:
# without it, VPR_UBUNTU_INSECURE=1 skips the check. VPR_DISTRO_CC builds with another compiler
# (installed from the suite's VPR_DISTRO_EXTRA packages), e.g. the oldest the agent supports:
#   VPR_DISTROS=focal VPR_DISTRO_EXTRA=gcc-8 VPR_DISTRO_CC=gcc-8 tests/system/distros.sh
set -u
. "$(dirname "$0")/../lib/tap.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export LC_ALL=C.UTF-8

require_root

# Every mount this script makes lives in a mount namespace of its own and ends with it, whatever
# happens to the script.
if [ -z "${VPR_DISTROS_NS:-}" ]; then
        exec env VPR_DISTROS_NS=1 unshare --mount --propagation private "$0" "$@"
fi

for tool in debootstrap chroot git; do
        if ! command -v "$tool" >/dev/null; then
                not_ok "$tool is installed (tests/deps installs it)"
                tap_done
                exit 1
        fi
done

CACHE=${VPR_ROOTFS_CACHE:-/var/cache/vpc-peer-routes-tests}
SUITES=${VPR_DISTROS:-bullseye trixie}
PACKAGES=build-essential,autoconf,automake,pkg-config,libnl-3-dev,libnl-route-3-dev,libcurl4-openssl-dev,libcjson-dev
PACKAGES=$PACKAGES,libsystemd-dev,libcmocka-dev,systemd,debhelper,dpkg-dev,fakeroot,bash-completion,groff-base,iproute2,procps

WORK=$(mktemp -d /tmp/vpr-distros.XXXXXX)
# Unmount before deleting: rm must never walk into a mounted tree.
cleanup() {
        local r
        for r in "$WORK"/*/root; do
                mountpoint -q "$r" && umount -R -l "$r"
        done
        rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# suite_info SUITE: sets NAME, MIRROR, DEBOOTSTRAP_ARGS.
suite_info() {
        DEBOOTSTRAP_ARGS=()
        case $1 in
        bullseye) NAME="Debian 11" MIRROR=${VPR_DEBIAN_MIRROR:-http://deb.debian.org/debian} ;;
        bookworm) NAME="Debian 12" MIRROR=${VPR_DEBIAN_MIRROR:-http://deb.debian.org/debian} ;;
        trixie) NAME="Debian 13" MIRROR=${VPR_DEBIAN_MIRROR:-http://deb.debian.org/debian} ;;
        focal | jammy)
                NAME="Ubuntu $([ "$1" = focal ] && echo 20.04 || echo 22.04)"
                MIRROR=${VPR_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
                DEBOOTSTRAP_ARGS=(--components=main,universe)
                if [ -e /usr/share/keyrings/ubuntu-archive-keyring.gpg ]; then
                        DEBOOTSTRAP_ARGS+=(--keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg)
                elif [ "${VPR_UBUNTU_INSECURE:-}" = 1 ]; then
                        DEBOOTSTRAP_ARGS+=(--no-check-gpg)
                else
                        return 2
                fi
                ;;
        *) return 1 ;;
        esac
}

# in_root ROOT COMMAND: runs COMMAND (a shell line) inside ROOT.
in_root() {
        chroot "$1" /bin/sh -c "$2"
}

# The source as the checkout holds it now: tracked and new files, nothing ignored.
mkdir -p "$WORK/src"
(cd "$top_srcdir" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$WORK/src" -xf -

for suite in $SUITES; do
        suite_info "$suite"
        case $? in
        1) not_ok "$suite is a suite this test knows"; continue ;;
        2) not_ok "$NAME: needs /usr/share/keyrings/ubuntu-archive-keyring.gpg (or VPR_UBUNTU_INSECURE=1)"; continue ;;
        esac
        packages=$PACKAGES${VPR_DISTRO_EXTRA:+,$VPR_DISTRO_EXTRA}
        cached=$CACHE/$suite-build
        mkdir -p "$CACHE"
        (
                flock 9
                if [ ! -e "$cached/.complete" ] || [ "$(cat "$cached/.complete")" != "$packages" ]; then
                        rm -rf "$cached"
                        debootstrap --variant=minbase "${DEBOOTSTRAP_ARGS[@]}" --include="$packages" "$suite" "$cached" "$MIRROR" \
                                >"$CACHE/debootstrap-$suite.log" 2>&1 || exit 1
                        echo "$packages" >"$cached/.complete"
                fi
        ) 9>"$CACHE/.lock"
        if [ $? -ne 0 ]; then
                not_ok "$NAME: a $suite root with the build dependencies"
                diag "$(tail -n 20 "$CACHE/debootstrap-$suite.log")"
                continue
        fi

        # A throw-away view of the cached root: writes go to $WORK.
        root=$WORK/$suite/root
        mkdir -p "$WORK/$suite/upper" "$WORK/$suite/work" "$root"
        if ! mount -t overlay overlay -o "lowerdir=$cached,upperdir=$WORK/$suite/upper,workdir=$WORK/$suite/work" "$root"; then
                not_ok "$NAME: an overlay on the cached root"
                continue
        fi
        # debootstrap made the device nodes; proc and sys (with the cgroup tree, which older
        # systemd-analyze needs) are what builds and systemd-analyze need.
        mount -t proc proc "$root/proc" && mount --rbind /sys "$root/sys"
        cc=${VPR_DISTRO_CC:-gcc}
        versions=$(in_root "$root" 'printf "'"$cc"' %s, libcurl %s, cJSON %s, libnl %s, systemd %s" "$('"$cc"' -dumpfullversion)" \
                "$(pkg-config --modversion libcurl)" \
                "$(sed -n "s/^#define CJSON_VERSION_\(MAJOR\|MINOR\|PATCH\) *\([0-9]*\).*/\2/p" /usr/include/cjson/cJSON.h | paste -sd.)" \
                "$(pkg-config --modversion libnl-3.0)" "$(pkg-config --modversion libsystemd)"')
        ok "$NAME: a $suite root ($versions), cached in $cached"
        mkdir -p "$root/build"
        cp -a "$WORK/src" "$root/build/src"

        # ---- build ----
        if in_root "$root" 'cd /build/src && ./autogen.sh && ./configure --enable-werror CC='"$cc"' && make -j"$(nproc)"' \
                >"$WORK/$suite/build.log" 2>&1; then
                ok "$NAME: builds with --enable-werror ($cc)"
        else
                not_ok "$NAME: builds with --enable-werror ($cc)"
                diag "$(grep -E 'error|warning' "$WORK/$suite/build.log" | head -n 40)" "$(tail -n 20 "$WORK/$suite/build.log")"
                continue
        fi

        # ---- unit tests ----
        in_root "$root" 'cd /build/src && make -j"$(nproc)" check-unit' >"$WORK/$suite/check.log" 2>&1
        for trs in $(cd "$root/build/src" && find tests -name '*.trs' | sort); do
                t=${trs%.trs}
                n=$(grep -c '^:test-result: PASS' "$root/build/src/$trs")
                f=$(grep -cE '^:test-result: (FAIL|ERROR|XPASS)' "$root/build/src/$trs")
                if [ "$f" -eq 0 ] && [ "$n" -gt 0 ]; then
                        ok "$NAME: $t ($n passed)"
                else
                        not_ok "$NAME: $t ($n passed, $f failed)"
                        diag "$(grep -E '^(not ok|#)' "$root/build/src/$t.log" | head -n 30)"
                fi
        done
        grep -qE '^# FAIL: +0$' "$WORK/$suite/check.log" && grep -qE '^# ERROR: +0$' "$WORK/$suite/check.log" ||
                { not_ok "$NAME: make check-unit"; diag "$(tail -n 30 "$WORK/$suite/check.log")"; }

        # ---- the package ----
        # packaging/debian asks for debhelper 13, which Ubuntu 20.04 has only in its backports.
        if ! in_root "$root" 'dpkg --compare-versions "$(dpkg-query -W -f="\${Version}" debhelper)" ge 13'; then
                skip "$NAME: the .deb built there installs there" "debhelper is older than 13 (build from source, see packaging/README.md)"
        elif in_root "$root" 'cd /build/src && packaging/build-deb /build/debs' >"$WORK/$suite/deb.log" 2>&1 &&
                in_root "$root" 'dpkg -i /build/debs/vpc-peer-routes_*.deb' >>"$WORK/$suite/deb.log" 2>&1; then
                ok "$NAME: the .deb built there installs there"
                check "$NAME: the installed program runs" in_root "$root" 'vpc-peer-routes --version'
                # A directive that this systemd does not know may cost a warning, never more.
                out=$(in_root "$root" 'systemd-analyze verify --man=no /lib/systemd/system/vpc-peer-routes.service' 2>&1)
                rc=$?
                other=$(printf '%s\n' "$out" | grep -v '^$' | grep -vE 'Unknown (key name|lvalue) .* ignoring')
                if [ "$rc" -eq 0 ] && [ -z "$other" ]; then
                        ok "$NAME: systemd-analyze verify accepts the installed unit"
                else
                        not_ok "$NAME: systemd-analyze verify accepts the installed unit (exit $rc)"
                fi
                [ -n "$out" ] && diag "verify says: $out"
        else
                not_ok "$NAME: the .deb built there installs there"
                diag "$(tail -n 30 "$WORK/$suite/deb.log")"
        fi

        # ---- the sync integration test, with the binary built there ----
        # The test's config and state files live in the host's /tmp: show it to the binary, for
        # the length of one call, in a mount namespace of the call's own.
        printf '#!/bin/sh\nexec unshare --mount --propagation private sh -c '"'"'mount --bind /tmp %s/tmp && exec chroot %s /build/src/vpc-peer-routes "$@"'"'"' vpr "$@"\n' \
                "$root" "$root" >"$WORK/$suite/vpr"
        chmod +x "$WORK/$suite/vpr"
        top_srcdir=$top_srcdir VPR=$WORK/$suite/vpr "$top_srcdir/tests/integration/sync.sh" >"$WORK/$suite/sync.log" 2>&1
        rc=$?
        n=$(grep -c '^ok ' "$WORK/$suite/sync.log")
        f=$(grep -c '^not ok ' "$WORK/$suite/sync.log")
        if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] && [ "$n" -gt 0 ] && grep -qE '^1\.\.[0-9]+$' "$WORK/$suite/sync.log"; then
                ok "$NAME: tests/integration/sync.sh with the binary built there ($n passed)"
        else
                not_ok "$NAME: tests/integration/sync.sh with the binary built there ($n passed, $f failed, exit $rc)"
                diag "$(grep -A8 '^not ok' "$WORK/$suite/sync.log" | head -n 60)"
        fi
        umount -R "$root" 2>/dev/null
done
tap_done
