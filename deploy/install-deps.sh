#!/usr/bin/env bash
# Installs exactly the Debian 12 packages floorcast needs to build, test and run.
# Idempotent: a second run changes nothing. Used by the README and by .ci/run.
set -euo pipefail

PKGS=(
	# build
	build-essential meson ninja-build pkg-config
	# libraries (DESIGN.md: DPDK with rte_ring, libnuma, Criterion, libpcap, libsodium)
	libdpdk-dev dpdk dpdk-dev libnuma-dev libcriterion-dev libpcap-dev libsodium-dev zlib1g-dev
	# fuzzing (libFuzzer runtime ships in libclang-rt-14-dev) and house-style lint
	clang libclang-rt-14-dev clang-format
	# tests and benchmarks: namespaces/veth, instruction counts, python helpers
	iproute2 valgrind python3 python3-nacl
	# tests/e2e: nft(8) makes B's 10 % downlink loss in the kernel when sch_netem is absent
	nftables
	# perf/suite.sh: the redis-based peer and its client library, the plots
	redis-server libhiredis-dev gnuplot-nox
	# deploy/ tests: Prometheus text parser, shell lint, systemd-analyze verify
	python3-prometheus-client shellcheck systemd
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages already installed"
	exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
