#!/bin/bash
# SPDX-License-Identifier: MIT
# What gets installed: `make install` into a staging folder, the Debian package (lintian, the
# conffiles, the maintainer scripts) and the RPM (config files, systemd scriptlets).
set -u
. "$(dirname "$0")/../lib/tap.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export LC_ALL=C.UTF-8

tmp=$(mktemp -d /tmp/vpr-packages.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- make install ----
if make -s -C "$top_builddir" install DESTDIR="$tmp/stage" >"$tmp/install.log" 2>&1; then
        ok "make install into a staging folder"
        prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
        sysconfdir=$(sed -n 's/^sysconfdir = //p' "$top_builddir/Makefile" | sed "s|\${prefix}|$prefix|")
        unitdir=$(sed -n 's/^systemdsystemunitdir = //p' "$top_builddir/Makefile")
        for f in "$prefix/sbin/vpc-peer-routes" "$unitdir/vpc-peer-routes.service" "$sysconfdir/vpc-peer-routes.conf" \
                "$sysconfdir/iproute2/rt_protos.d/vpc-peer-routes.conf" "$prefix/share/man/man8/vpc-peer-routes.8" \
                "$prefix/share/man/man5/vpc-peer-routes.conf.5"; do
                check "installs $f" test -s "$tmp/stage$f"
        done
        check "installs a bash completion" test -n "$(find "$tmp/stage" -path '*bash-completion/completions/vpc-peer-routes')"
        check "the installed unit starts the installed program" grep -qx "ExecStart=$prefix/sbin/vpc-peer-routes run" "$tmp/stage$unitdir/vpc-peer-routes.service"
        check "rt_protos names 241 vpc-peer" grep -qP '^241\tvpc-peer$' "$tmp/stage$sysconfdir/iproute2/rt_protos.d/vpc-peer-routes.conf"
        echo "metric = 7" >"$tmp/stage$sysconfdir/vpc-peer-routes.conf"
        make -s -C "$top_builddir" install DESTDIR="$tmp/stage" >/dev/null 2>&1
        check "make install keeps an existing config" grep -qx "metric = 7" "$tmp/stage$sysconfdir/vpc-peer-routes.conf"
else
        not_ok "make install into a staging folder"
        diag "$(cat "$tmp/install.log")"
fi

# ---- Debian ----
if "$top_srcdir/packaging/build-deb" "$tmp/deb" >"$tmp/deb.log" 2>&1; then
        ok "packaging/build-deb builds the package"
        deb=$(ls "$tmp"/deb/vpc-peer-routes_*.deb | head -n 1)
        check "dh_auto_test ran the unit tests during the build" grep -qE '^# PASS: +[1-9]' "$tmp/deb.log"
        check "build-deb writes only its packages into OUTDIR" test "$(ls "$tmp/deb" | grep -cvE '\.(deb|buildinfo|changes)$')" -eq 0
        contents=$(dpkg-deb -c "$deb")
        for f in ./usr/sbin/vpc-peer-routes ./lib/systemd/system/vpc-peer-routes.service ./etc/vpc-peer-routes.conf \
                ./etc/iproute2/rt_protos.d/vpc-peer-routes.conf ./usr/share/man/man8/vpc-peer-routes.8.gz \
                ./usr/share/man/man5/vpc-peer-routes.conf.5.gz ./usr/share/bash-completion/completions/vpc-peer-routes; do
                check "the .deb holds $f" grep -q " $f\$" <<<"$contents"
        done
        dpkg-deb -e "$deb" "$tmp/control"
        check "the config is a conffile" grep -qx /etc/vpc-peer-routes.conf "$tmp/control/conffiles"
        check "postinst enables the service" grep -q "deb-systemd-helper enable 'vpc-peer-routes.service'" "$tmp/control/postinst"
        check "postinst starts it, and restarts it on upgrade" sh -c "grep -q '_dh_action=restart' '$tmp/control/postinst' && grep -q 'deb-systemd-invoke \$_dh_action .vpc-peer-routes.service' '$tmp/control/postinst'"
        check "prerm stops it only on remove, never before an upgrade" sh -c "grep -q 'deb-systemd-invoke stop' '$tmp/control/prerm' && grep -q '\"\$1\" = remove' '$tmp/control/prerm'"
        check "the package depends on the shared libraries it links" sh -c "dpkg-deb -f '$deb' Depends | grep -q libnl-route-3"
        if command -v lintian >/dev/null; then
                lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges')
                errors=$(printf '%s\n' "$lint" | grep -c '^E:')
                diag "lintian:" "${lint:-no tags}"
                check "lintian reports no errors" test "$errors" -eq 0
        else
                not_ok "lintian is installed (tests/deps installs it)"
        fi
else
        not_ok "packaging/build-deb builds the package"
        diag "$(tail -n 40 "$tmp/deb.log")"
fi

# ---- RPM ----
if "$top_srcdir/packaging/build-rpm" "$tmp/rpm" >"$tmp/rpm.log" 2>&1; then
        ok "packaging/build-rpm builds the package (its %check ran the unit tests)"
        rpm=$(ls "$tmp"/rpm/vpc-peer-routes-*.rpm | head -n 1)
        check "build-rpm writes only packages into OUTDIR" test "$(ls "$tmp/rpm" | grep -cv '\.rpm$')" -eq 0
        files=$(rpm -qpl "$rpm" 2>/dev/null)
        for f in /usr/sbin/vpc-peer-routes /usr/lib/systemd/system/vpc-peer-routes.service /etc/vpc-peer-routes.conf; do
                check "the .rpm holds $f" grep -qx "$f" <<<"$files"
        done
        check "the config is %config(noreplace)" sh -c "rpm -qp --configfiles '$rpm' 2>/dev/null | grep -qx /etc/vpc-peer-routes.conf && rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' '$rpm' 2>/dev/null | grep -q '^/etc/vpc-peer-routes.conf cn'"
        scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
        check "%post presets the unit" grep -q 'systemctl preset vpc-peer-routes.service' <<<"$scripts"
        check "%preun disables and stops it on erase" grep -q 'disable --now vpc-peer-routes.service' <<<"$scripts"
        check "%postun restarts it on upgrade" grep -q 'try-restart vpc-peer-routes.service' <<<"$scripts"
        check "a preset enables the service" grep -qx /usr/lib/systemd/system-preset/80-vpc-peer-routes.preset <<<"$files"
        check "%check ran the unit tests" grep -qE '^# PASS: +[1-9]' "$tmp/rpm.log"
        check "%check had no failure" grep -qE '^# FAIL: +0$' "$tmp/rpm.log"
        # Debian's rpmlint applies Fedora's rules where they fit: long description lines and an
        # unstripped program are real faults; no-signature, no-group-tag and the like are not.
        rpmlint "$rpm" "$top_srcdir/packaging/rpm/vpc-peer-routes.spec" >"$tmp/rpmlint.log" 2>&1
        check_not "rpmlint: no description line over 80 columns" grep -q 'description-line-too-long' "$tmp/rpmlint.log"
        check_not "rpmlint: the program is stripped" grep -q 'unstripped-binary-or-object' "$tmp/rpmlint.log"
        check "rpmlint checked the package" grep -q '1 packages and 1 specfiles checked' "$tmp/rpmlint.log"
else
        not_ok "packaging/build-rpm builds the package"
        diag "$(tail -n 40 "$tmp/rpm.log")"
fi
tap_done
