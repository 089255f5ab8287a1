#!/usr/bin/env bash
# The data plane's numbers (issue 3's benchmark), all through the real floord on replayed captures
# made by floorgen. Nothing here asserts a time; results go to perf/results/pipeline.csv and a
# markdown table on stdout (perf/README.md keeps the latest one, with the date and the machine).
#
#   perf/bench_pipeline.sh [--quick]
#
# What it measures (each row of the CSV says which):
#  - instructions per fix, end to end and by stage: floord under valgrind's callgrind, collecting
#    only inside the lcore loops (--toggle-collect=lcore_loop), on a 400-player, 3 s capture, for
#    both MACs; stages are the inclusive costs of fc_rx_poll (with fc_up_accept and the routing,
#    route_fixes: tag -> player, owner, the record written into the ring, shown apart),
#    fc_owner_poll and fc_tx_poll (perf/bench_ipf.sh splits them further, on two captures);
#  - throughput: the capture replayed as fast as it reads (lockstep replay, so no drops by
#    construction) and paced at increasing speeds: the highest offered rate every fix of which
#    is applied, with no drop and the run keeping up (wall time within 5 % of the paced time),
#    run to completion (1 lcore) and on two lcores (RX+owner | TX);
#  - RX burst -> applied latency, paced at capture speed (frames taken when their time comes):
#    400 players x 20 Hz and 65 535 players x 30 Hz, both layouts; p50/p99/p99.9/max;
#  - memory: peak RSS (VmHWM) and the mempool's size, at 400 and at 65 535 players.
# The machine is shared and noisy: every run is repeated (REPEAT, default 3) and the median
# reported, side by side in one run of this script.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
REPEAT=${REPEAT:-3}
[ $quick -eq 1 ] && REPEAT=1
BUILD=${FC_PERF_BUILD_DIR:-build-perf}
WORK=$(realpath -m "${FC_PERF_WORK:-$BUILD/pipeline}")
OUT=perf/results/pipeline.csv

bash deploy/install-deps.sh >/dev/null
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" -Dtests=false >/dev/null
fi
meson compile -C "$BUILD" >/dev/null
FLOORD=$BUILD/app/floord/floord
FLOORGEN=$BUILD/app/floorgen/floorgen
mkdir -p "$WORK" perf/results

# ---- workloads ------------------------------------------------------------------------------
. perf/lib.sh

secs_small=3
secs_big=10
[ $quick -eq 1 ] && secs_big=2
fc_fixtures p400s 400 16 siphash
fc_fixtures p400h 400 16 hmac
fc_fixtures p65k 65535 16 siphash
fc_capture "$WORK/p400-hmac.pcap" p400h 400 20 60 hmac 8
fc_capture "$WORK/p400-cg-siphash.pcap" p400s 400 20 $secs_small siphash 8
fc_capture "$WORK/p400-cg-hmac.pcap" p400h 400 20 $secs_small hmac 8
fc_capture "$WORK/p65k.pcap" p65k 65535 30 $secs_big siphash 16
for lay in rtc two; do
	for fx in p400s p400h p65k; do
		if [ $lay = rtc ]; then
			fc_floor "$WORK/$fx-$lay.ini" $fx 0 0 0 65536
		else
			fc_floor "$WORK/$fx-$lay.ini" $fx 0 0 1 65536
		fi
	done
done

run() { # tag ini capture [floord args...] -> prints the JSON report path
	local tag=$1 ini=$2 cap=$3
	shift 3
	local prefix="fcperf$$"
	"$FLOORD" -l 0-1 --no-huge -m 2048 --no-pci --no-shconf --file-prefix=$prefix \
		--log-level='*:error' --vdev="net_pcap0,rx_pcap=$cap,tx_pcap=/dev/null" -- \
		--floor "$ini" --replay --report-json "$WORK/$tag.json" "$@" >/dev/null
	rm -rf "/var/run/dpdk/$prefix"
	echo "$WORK/$tag.json"
}

echo "metric,workload,layout,mac,value,unit,detail" >"$OUT"
emit() { echo "$*" >>"$OUT"; }

# ---- instructions per fix ---------------------------------------------------------------------
for mac in siphash hmac; do
	fx=p400s
	[ $mac = hmac ] && fx=p400h
	cg="$WORK/cg-$mac.out"
	valgrind --tool=callgrind --callgrind-out-file="$cg" --toggle-collect=lcore_loop \
		"$FLOORD" -l 0 --no-huge -m 512 --no-pci --no-shconf --file-prefix=fccg$$ \
		--log-level='*:error' --vdev="net_pcap0,rx_pcap=$WORK/p400-cg-$mac.pcap,tx_pcap=/dev/null" \
		-- --floor "$WORK/$fx-rtc.ini" --replay --report-json "$WORK/cg-$mac.json" \
		>/dev/null 2>&1
	rm -rf /var/run/dpdk/fccg$$
	python3 - "$cg" "$WORK/cg-$mac.json" "$mac" >>"$OUT" <<'EOF'
import json, re, subprocess, sys
cg, rep, mac = sys.argv[1:4]
fixes = json.load(open(rep))["owners"]["records"]
out = subprocess.run(["callgrind_annotate", "--inclusive=yes", cg], capture_output=True,
                     text=True).stdout
def cost(pattern):
    best = 0
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(.*?\)\s+(.*)", line)
        if m and re.search(pattern, m.group(2)):
            best = max(best, int(m.group(1).replace(",", "")))
    return best
total = cost(r"PROGRAM TOTALS")
stages = [("total", total), ("rx", cost(r"rx_fp\.c:fc_rx_poll")),
          ("rx.accept", cost(r"uplink\.c:fc_up_accept")),
          ("rx.route", cost(r"rx_fp\.c:route_fixes")),
          ("owner", cost(r"owner_fp\.c:fc_owner_poll")), ("tx", cost(r":fc_tx_poll"))]
for name, c in stages:
    print(f"instructions_per_fix,400p x 20 Hz x 3 s (8 gateways),rtc,{mac},{c / fixes:.0f},"
          f"instructions,{name}: {c} over {fixes} fixes")
EOF
done

# ---- throughput ------------------------------------------------------------------------------
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

for lay in rtc two; do
	vals=()
	for i in $(seq 1 "$REPEAT"); do
		r=$(run "fast-$lay-$i" "$WORK/p65k-$lay.ini" "$WORK/p65k.pcap")
		vals+=("$(field "$r" 'd["run"]["fixes_per_s"]')")
		drops=$(field "$r" 'd["drops"]["total"]')
	done
	emit "fixes_per_s_unpaced,65535p x 30 Hz,$lay,siphash,$(printf '%s\n' "${vals[@]}" | median),fixes/s,as fast as the capture reads; drops $drops"
	# Paced: the highest speed at which every fix is applied, nothing dropped, the run keeps up.
	best=0
	for speed in 1 2 4 6 8 12 16; do
		r=$(run "pace-$lay-$speed" "$WORK/p65k-$lay.ini" "$WORK/p65k.pcap" --pace=$speed)
		ok=$(python3 - "$r" "$speed" "$secs_big" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); speed = float(sys.argv[2]); secs = float(sys.argv[3])
keeps_up = d["run"]["elapsed_ns"] <= 1.05 * secs / speed * 1e9 + 0.3e9
print(1 if d["drops"]["total"] == 0 and d["owners"]["records"] == d["rx"]["fixes"] and keeps_up else 0)
EOF
)
		rate=$(field "$r" 'd["rx"]["fixes"] / (d["run"]["elapsed_ns"] / 1e9)')
		emit "paced_run,65535p x 30 Hz,$lay,siphash,$rate,fixes/s,speed ${speed}x: sustained=$ok drops=$(field "$r" 'd["drops"]["total"]')"
		[ "$ok" = 1 ] && best=$rate
		[ "$ok" = 1 ] || break
	done
	emit "fixes_per_s_sustained,65535p x 30 Hz,$lay,siphash,$best,fixes/s,highest paced rate applied in full without drops"
done

# ---- latency and memory, paced at capture speed -----------------------------------------------
for lay in rtc two; do
	for wl in "p400h p400-hmac.pcap 400p x 20 Hz,hmac" "p65k p65k.pcap 65535p x 30 Hz,siphash"; do
		set -- $wl
		fx=$1 cap=$2
		name=$(echo "$wl" | cut -d' ' -f3- | cut -d, -f1)
		mac=$(echo "$wl" | cut -d, -f2)
		r=$(run "lat-$lay-$fx" "$WORK/$fx-$lay.ini" "$WORK/$cap" --pace)
		for q in p50 p99 p999 max; do
			emit "latency_rx_to_applied_$q,$name,$lay,$mac,$(field "$r" "d['latency_ns']['$q']/1000"),us,paced at capture speed; samples $(field "$r" 'd["latency_ns"]["samples"]')"
		done
		emit "peak_rss,$name,$lay,$mac,$(field "$r" 'd["run"]["peak_rss_kb"]/1024'),MiB,VmHWM at exit"
		emit "mempool,$name,$lay,$mac,$(field "$r" 'd["mempool"]["bytes"]/1048576'),MiB,$(field "$r" 'd["mempool"]["size"]') mbufs"
	done
done

echo "| metric | workload | layout | mac | value | unit | detail |"
echo "|---|---|---|---|---|---|---|"
tail -n +2 "$OUT" | awk -F, '{printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7}'
echo
echo "written: $OUT ($(date -u +%Y-%m-%d), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
