# SPDX-License-Identifier: MIT
# Shared by the benchmarks: root, the built agent, the tools (installed with apt-get when
# missing), the simulated droplet from the tests, and hyperfine's JSON read back.
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
        echo "$(basename "$0"): the benchmarks build network namespaces: run them as root" >&2
        exit 1
fi
VPR=${VPR:-$PWD/vpc-peer-routes}
if [ ! -x "$VPR" ]; then
        echo "$(basename "$0"): build first: ./autogen.sh && ./configure && make (or set VPR)" >&2
        exit 1
fi
missing=
for tool in hyperfine:hyperfine curl:curl /usr/bin/time:time; do
        command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
        echo "installing$missing" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || exit 1
fi
top_srcdir=$PWD
. tests/lib/tap.sh
. tests/lib/droplet.sh

# in_droplet CMD...: runs CMD in the droplet namespace.
in_droplet() {
        ip netns exec "$DR" "$@"
}

# hyperfine_medians FILE: "name median_ms mean_ms stddev_ms" per command of a hyperfine JSON export.
hyperfine_medians() {
        "$PYTHON" - "$1" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], "%.3f" % (r["median"] * 1000), "%.3f" % (r["mean"] * 1000), "%.3f" % (r["stddev"] * 1000))
PY
}

# median_of FILE NAME: the median in ms of one command of a hyperfine JSON export.
median_of() {
        hyperfine_medians "$1" | awk -v n="$2" '$1 == n {print $2}'
}

ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

machine() {
        echo "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, Linux $(uname -r)"
}
