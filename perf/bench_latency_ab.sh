#!/usr/bin/env bash
# RX burst -> applied latency of two floord binaries, side by side in one run: the workloads of
# perf/bench_pipeline.sh's latency rows (400 players x 20 Hz x 60 s, HMAC, 8 gateways; and
# 65 535 players x 30 Hz x 10 s, SipHash, 16 gateways), paced at capture speed, run to completion
# (every role on lcore 0). The runs alternate A, B, A, B, ... so a neighbour's load lands on
# both alike; the medians of REPEAT runs (default 3) are reported. Nothing is asserted.
#
#   perf/bench_latency_ab.sh FLOORD_A FLOORD_B [FLOORGEN]
#   REPEAT=5 FC_LAT_ONLY=p400h perf/bench_latency_ab.sh ...   (5 pairs, 400 players only)
#
# Appends to perf/results/latency_ab.csv: run,binary,workload,p50_us,p99_us,p999_us,max_us.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$(realpath "$1")
B=$(realpath "$2")
FLOORGEN=$(realpath "${3:-build/app/floorgen/floorgen}")
REPEAT=${REPEAT:-3}
WORK=$(realpath -m "${FC_PERF_WORK:-build/latency_ab}")
OUT=perf/results/latency_ab.csv
mkdir -p "$WORK" perf/results
[ -f "$OUT" ] || echo "run,binary,workload,p50_us,p99_us,p999_us,max_us" >"$OUT"

. perf/lib.sh

fc_fixtures p400h 400 16 hmac
fc_fixtures p65k 65535 16 siphash
fc_capture "$WORK/p400-hmac.pcap" p400h 400 20 60 hmac 8
fc_capture "$WORK/p65k.pcap" p65k 65535 30 10 siphash 16
fc_floor "$WORK/p400h.ini" p400h 0 0 0 65536
fc_floor "$WORK/p65k.ini" p65k 0 0 0 65536

stamp=$(date -u +%Y-%m-%dT%H:%M)
for i in $(seq 1 "$REPEAT"); do
	for wl in "p400h p400-hmac.pcap 400p x 20 Hz HMAC" "p65k p65k.pcap 65535p x 30 Hz SipHash"; do
		# FC_LAT_ONLY=p400h (or p65k): one workload only.
		[ -n "${FC_LAT_ONLY:-}" ] && [ "${wl%% *}" != "$FC_LAT_ONLY" ] && continue
		set -- $wl
		fx=$1 cap=$2
		name=$(echo "$wl" | cut -d' ' -f3-)
		for bin in A B; do
			exe=$A
			[ $bin = B ] && exe=$B
			prefix="fclat$$"
			"$exe" -l 0 --no-huge -m 1024 --no-pci --no-shconf --file-prefix=$prefix \
				--log-level='*:error' --vdev="net_pcap0,rx_pcap=$WORK/$cap,tx_pcap=/dev/null" \
				-- --floor "$WORK/$fx.ini" --replay --pace \
				--report-json "$WORK/lat-$bin-$fx-$i.json" >/dev/null
			rm -rf "/var/run/dpdk/$prefix"
			python3 - "$WORK/lat-$bin-$fx-$i.json" "$stamp#$i" "$bin" "$name" >>"$OUT" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))["latency_ns"]
print(f"{sys.argv[2]},{sys.argv[3]},{sys.argv[4]},{d['p50']/1e3:.1f},{d['p99']/1e3:.1f},"
      f"{d['p999']/1e3:.1f},{d['max']/1e3:.1f}")
EOF
		done
	done
done
python3 - "$OUT" "$stamp" <<'EOF'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["run"].startswith(sys.argv[2] + "#")]
print("| workload | binary | p50 us | p99 us | p99.9 us | max us | runs |")
print("|---|---|---:|---:|---:|---:|---:|")
for wl in dict.fromkeys(r["workload"] for r in rows):
    for b in ("A", "B"):
        rs = [r for r in rows if r["workload"] == wl and r["binary"] == b]
        med = lambda k: statistics.median(float(r[k]) for r in rs)
        print(f"| {wl} | {b} | {med('p50_us'):.1f} | {med('p99_us'):.1f} | "
              f"{med('p999_us'):.1f} | {med('max_us'):.1f} | {len(rs)} |")
EOF
