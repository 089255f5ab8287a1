#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Codec benchmark (perf/README.md, "Codec"): builds bench_codec in a release build of its own,
# times the uplink receive path into perf/results/codec.csv, then counts instructions per frame
# under callgrind into perf/results/codec_instructions.csv (a count does not move with the
# neighbours' load the way a time does, so the two together tell noise from a real change).
#
#   perf/run_codec.sh [bench_codec options, e.g. --samples 500]
#
# Environment: FC_PERF_BUILD_DIR (default build-perf/ at the top of the tree, ignored by git's
# /build*/ rule), FC_PERF_CPU (pin the timing run to this CPU with taskset).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${FC_PERF_BUILD_DIR:-$root/build-perf}
results=$root/perf/results

# The project's default build type (debugoptimized: -O2 -g), the one deploy/ installs, so the
# figures are those of the deployed code; no test suites (no Criterion, no clang needed).
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" -Dtests=false
fi
ninja -C "$build" perf/bench_codec
bench=$build/perf/bench_codec
mkdir -p "$results"

echo "== $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs:" \
	"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"

pin=()
if [ -n "${FC_PERF_CPU:-}" ]; then
	pin=(taskset -c "$FC_PERF_CPU")
fi
"${pin[@]}" "$bench" --out "$results/codec.csv" "$@"

if ! command -v valgrind >/dev/null; then
	echo "valgrind not found: no instruction counts" >&2
	exit 0
fi
cgdir=$build/perf/callgrind
rm -rf "$cgdir"
mkdir -p "$cgdir"
# Collection off at start; bench_codec turns it on around each configuration's pass and dumps
# one part per configuration, labelled "mac,fixes,stage,frames".
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$cgdir/callgrind.out.%p" \
	"$bench" --callgrind >/dev/null 2>"$cgdir/valgrind.log" || {
	cat "$cgdir/valgrind.log" >&2
	exit 1
}
out=$results/codec_instructions.csv
{
	echo "mac,fixes_per_frame,stage,instr_per_frame,instr_per_fix"
	# Parts in dump order (callgrind.out.PID.N), which is the configurations' order.
	for f in $(cd "$cgdir" && ls callgrind.out.*.* | sort -t. -k4,4n); do
		awk '
			sub(/^desc: Trigger: Client Request: /, "") { label = $0 }
			/^totals: / { total = $2 }
			END {
				if (label == "") exit
				split(label, a, ",") # mac, fixes, stage, frames
				pf = total / a[4]
				printf "%s,%s,%s,%.0f,%.1f\n", a[1], a[2], a[3], pf, pf / a[2]
			}' "$cgdir/$f"
	done
} >"$out"
echo "instructions per frame (callgrind, Ir):"
if command -v column >/dev/null; then column -s, -t <"$out"; else cat "$out"; fi
echo "csv: $out"
