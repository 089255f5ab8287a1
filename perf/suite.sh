#!/usr/bin/env bash
# floorcast's benchmark suite (issue 6), one command for all of perf/: floord and its peer
# (redis-server + a hiredis client, perf/peer_redis/) on the same floorgen captures, side by
# side in one run, with the original engine's published figures in the same table; the highest
# sustained fixes/s per layout; instructions per fix by stage (callgrind); the codec and
# journal micro-benchmarks. Every latency point is run R times and reported as the median with
# min..max. One summary, OUT/suite.md, plus CSVs and plots. Nothing here asserts a time.
#
#   perf/suite.sh [--smoke] [--out DIR] [--build DIR] [--repeat R] [--secs S]
#                 [--only STAGE,...] [--peer-timeout X]
#
#   --smoke        small points, 1 run each, every stage: checks that everything runs and
#                  writes files that parse (the numbers of a smoke run mean nothing); CI runs it
#   --out DIR      where the results go (default perf/results)
#   --build DIR    a configured floorcast build dir (default build/, built with ninja, never
#                  reconfigured); it needs app/floord, app/floorgen, tests/alloc's guard and
#                  perf/bench_codec, perf/bench_journal
#   --repeat R     runs per latency point (default 5; smoke 1); throughput takes min(R, 3)
#   --secs S       seconds of each latency capture (default 5; smoke 2)
#   --only LIST    stages among latency,throughput,instructions,codec,journal,game (default all)
#   --peer-timeout X  stop the peer at X times the capture's length when it falls behind (2)
#
# Needs: python3; for the peer redis-server, libhiredis-dev and libsodium-dev; for the plots
# gnuplot (gnuplot-nox); for instruction counts valgrind. deploy/install-deps.sh installs them
# all; a missing one is reported in the results, not fatal. Work files go to a temporary
# directory removed at exit.
set -euo pipefail
TOP=$(realpath "$(dirname "$0")/..")

smoke=0
out=$TOP/perf/results
build=$TOP/build
pyargs=()
usage() {
	echo "usage: perf/suite.sh [--smoke] [--out DIR] [--build DIR] [--repeat R] [--secs S]" \
		"[--only STAGE,...] [--peer-timeout X]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--out) out=$2; shift ;;
	--build) build=$2; shift ;;
	--repeat | --secs | --only | --peer-timeout) pyargs+=("$1" "$2"); shift ;;
	*) usage ;;
	esac
	shift
done
build=$(realpath -m "$build")
mkdir -p "$out"
out=$(realpath "$out")
cd "$TOP"

if [ $smoke -eq 0 ] || [ ! -x "$build/app/floord/floord" ]; then
	ninja -C "$build" app/floord/floord app/floorgen/floorgen \
		tests/alloc/fc_alloc_guard.so perf/bench_codec perf/bench_journal >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fc-suite.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

args=(--build "$build" --work "$WORK" --out "$out")
if command -v redis-server >/dev/null && [ -f /usr/include/hiredis/hiredis.h ] &&
	[ -f /usr/include/sodium.h ]; then
	cc -O2 -g -o "$WORK/peer_client" perf/peer_redis/peer_client.c -lhiredis -lsodium
	cc -O2 -g -shared -fPIC -o "$WORK/alloc_count.so" perf/peer_redis/alloc_count.c -ldl
	args+=(--peer "$WORK/peer_client" --alloc-shim "$WORK/alloc_count.so")
else
	echo "suite: redis-server, libhiredis-dev or libsodium-dev missing: the peer is not run" >&2
fi
[ $smoke -eq 1 ] && args+=(--smoke)
python3 perf/suite.py "${args[@]}" "${pyargs[@]}"

stages=latency,throughput,instructions,codec,journal,game
for ((i = 0; i < ${#pyargs[@]}; i += 2)); do
	[ "${pyargs[i]}" = --only ] && stages=${pyargs[i + 1]}
done
if [[ ,$stages, == *,latency,* ]]; then
	if command -v gnuplot >/dev/null; then
		gnuplot -e "dat='$out/suite_plot.dat'; png='$out/suite_latency.png'; png_rate='$out/suite_rate.png'; png_claim='$out/suite_claim.png'" \
			perf/suite_plot.gp 2>"$WORK/gnuplot.log" || { cat "$WORK/gnuplot.log" >&2; exit 1; }
		echo "written: $out/suite_latency.png $out/suite_rate.png $out/suite_claim.png"
	else
		echo "gnuplot not installed: no plots (apt-get install gnuplot-nox)"
	fi
fi
echo "written: $out/suite.md and its CSVs"
if [ $smoke -eq 1 ]; then
	# CI's check: every stage wrote its files and they parse. Never a timing.
	python3 perf/suite.py --check --out "$out" --only "$stages"
fi
