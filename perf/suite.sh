#!/usr/bin/env bash
# floorcast's benchmark suite (issue 6): floord and its peer (redis-server + a hiredis client,
# perf/peer_redis/) on the same floorgen captures, side by side in one run, with the original
# engine's published figures in the same table. Nothing here asserts a time.
#
#   perf/suite.sh [--smoke] [--out DIR] [--build DIR]
#
#   --smoke      two small points (200 and 400 players, 2 s each): checks that everything runs
#                and writes its files (the numbers of a smoke run mean nothing)
#   --out DIR    where suite.csv, suite.md and suite_latency.png go (default perf/results)
#   --build DIR  a configured floorcast build dir (default build/, built with ninja, never
#                reconfigured); it needs app/floord, app/floorgen and tests/alloc's guard
#
# Needs: python3; for the peer redis-server and libhiredis-dev (apt-get install redis-server
# libhiredis-dev); for the plot gnuplot (gnuplot-nox). Missing ones are reported in the table,
# not fatal. Work files go to a temporary directory removed at exit.
set -euo pipefail
TOP=$(realpath "$(dirname "$0")/..")

smoke=0
out=$TOP/perf/results
build=$TOP/build
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--out) out=$2; shift ;;
	--build) build=$2; shift ;;
	*) echo "usage: perf/suite.sh [--smoke] [--out DIR] [--build DIR]" >&2; exit 2 ;;
	esac
	shift
done
build=$(realpath -m "$build")
mkdir -p "$out"
out=$(realpath "$out")
cd "$TOP"

if [ $smoke -eq 0 ] || [ ! -x "$build/app/floord/floord" ]; then
	ninja -C "$build" app/floord/floord app/floorgen/floorgen \
		tests/alloc/fc_alloc_guard.so >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fc-suite.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

peer=""
if command -v redis-server >/dev/null && [ -f /usr/include/hiredis/hiredis.h ]; then
	cc -O2 -g -o "$WORK/peer_client" perf/peer_redis/peer_client.c -lhiredis
	peer="$WORK/peer_client"
fi

args=(--build "$build" --work "$WORK" --out "$out")
[ -n "$peer" ] && args+=(--peer "$peer")
[ $smoke -eq 1 ] && args+=(--smoke)
python3 perf/suite.py "${args[@]}"

if command -v gnuplot >/dev/null; then
	gnuplot -e "dat='$out/suite_plot.dat'; png='$out/suite_latency.png'" perf/suite_plot.gp
	echo "written: $out/suite_latency.png"
else
	echo "gnuplot not installed: no plot (apt-get install gnuplot-nox)"
fi
