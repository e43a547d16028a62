#!/bin/bash
# SPDX-License-Identifier: MIT
# --help, vpc-peer-routes(8), the README and the bash completion name the same commands and
# options; HACKING.md's file map names the files of agent/; the man pages render without
# warnings.
set -u
. "$(dirname "$0")/../lib/tap.sh"

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${VPR:=$top_builddir/vpc-peer-routes}"
man8=$top_srcdir/man/vpc-peer-routes.8
readme=$top_srcdir/README.md
completion=$top_srcdir/packaging/bash-completion/vpc-peer-routes

help=$("$VPR" --help)

# What the bash completion offers after "vpc-peer-routes WORDS... ''", with bash-completion's
# _init_completion stood in for (the completion asks the program itself).
complete_after() {
        bash -c '
                _init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]}; prev=${words[cword-1]}; }
                _filedir() { :; }
                . "$1"; shift
                COMP_WORDS=("$@" ""); COMP_CWORD=$(($# )); COMPREPLY=()
                _vpc_peer_routes
                printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$VPR" "$@"
}
completed_commands=$(complete_after)
completed_options=$(for c in "" $(printf '%s\n' "$completed_commands" | grep -v -- '^-'); do complete_after $c; done | grep -- '^--' | sort -u)
options=$(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z-]+' | sort -u)
commands=$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/p' | awk 'NF && $1 !~ /:$/ && /^  [a-z]/ {print $1}')

check "--help lists the six commands" test "$(printf '%s\n' "$commands" | sort | tr '\n' ' ')" = "check-config doctor flush run status sync "
for c in $commands; do
        check "command $c described in vpc-peer-routes(8)" grep -qx ".B $c" "$man8"
        check "command $c in the README" grep -q "| \`$c\` |" "$readme"
        check "command $c in the bash completion" grep -qx -- "$c" <<<"$completed_commands"
done
for o in $options; do
        roff=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
        check "option $o described in vpc-peer-routes(8)" grep -q -- "$roff" "$man8"
        check "option $o in the README" grep -qE -- "$o([^a-z-]|$)" "$readme"
        check "option $o in the bash completion" grep -qx -- "$o" <<<"$completed_options"
done
# The reverse: the man page's OPTIONS describe nothing --help lacks.
for o in $(sed -n '/^\.SH OPTIONS/,/^\.SH EXIT/p' "$man8" | grep -oE '\\-\\-[a-z\\-]+' | sed 's/\\//g' | sort -u); do
        check "man page option $o exists in --help" grep -qx -- "$o" <<<"$options"
done

# HACKING.md's file map names every source file of agent/, folder by folder, and no other.
hacking=$top_srcdir/HACKING.md
for dir in "$top_srcdir"/agent/*/; do
        folder=agent/$(basename "$dir")/
        # The files a row names are those of its first cell.
        mapped=$(awk -F '|' -v h="### $folder " 'index($0, h) == 1 { on = 1; next } /^##/ { on = 0 } on && /^\| `/ { print $2 }' \
                "$hacking" | grep -oE '`[a-z_]+\.[ch]`' | tr -d '`' | sort)
        actual=$(cd "$dir" && ls -- *.c *.h 2>/dev/null | sort)
        if [ "$mapped" = "$actual" ]; then
                ok "HACKING.md's file map lists $folder exactly"
        else
                not_ok "HACKING.md's file map lists $folder exactly"
                diag "$(diff <(printf '%s\n' "$mapped") <(printf '%s\n' "$actual") | grep '^[<>]' | sed 's/^</only in the map:/; s/^>/not in the map:/')"
        fi
done
for folder in $(grep -oE '^### agent/[a-z]+/' "$hacking" | sed 's/^### //'); do
        check "HACKING.md's folder $folder exists" test -d "$top_srcdir/$folder"
done

for page in "$top_srcdir/man/vpc-peer-routes.8" "$top_srcdir/man/vpc-peer-routes.conf.5"; do
        warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 groff -man -Tutf8 -ww -z "$page" 2>&1)
        if [ -z "$warnings" ]; then ok "$(basename "$page") renders without warnings"; else not_ok "$(basename "$page") renders without warnings"; diag "$warnings"; fi
done
tap_done
