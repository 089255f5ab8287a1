#!/usr/bin/env bash
# Instructions per fix, end to end and by stage: floord under valgrind's callgrind, collecting only
# inside the lcore loops (--toggle-collect=lcore_loop), run to completion (every role on lcore 0),
# on two floorgen captures (SipHash):
#   big:   65 535 players x 30 Hz x 0.5 s, 16 gateways (full frames of 42 fixes)
#   small: 400 players x 20 Hz x 3 s, 8 gateways (about 18 fixes a frame)
# The figure is the loop's total divided by the fixes applied (the owners' records). Nothing is
# asserted; instruction counts do not depend on the machine's load.
#
#   perf/bench_ipf.sh [BUILD_DIR] [TAG]     (default build/ and "now")
#   FC_IPF_PARSE_ONLY=1 FC_IPF_COMMIT=abc1234 perf/bench_ipf.sh BUILD TAG   (rows from the
#                                           profiles of an earlier run of TAG)
#
# Writes perf/results/ipf_stages.csv rows for TAG (replacing that TAG's rows) and prints them.
# Stages (callgrind inclusive costs, per fix):
#   rx.nic      rte_eth_rx_burst (net_pcap reading the capture: the driver, not floorcast)
#   rx.accept   fc_up_accept (of which rx.mac: fc_mac_verify, libsodium's SipHash-2-4)
#   rx.route    tag -> player, shard -> owner, the record written into the ring
#   rx.other    the rest of fc_rx_poll: classify, mbuf free, ticks, ring reserve/commit
#   owner       fc_owner_poll (dequeue, apply, latency histogram)
#   tx          fc_tx_poll (dirty sets, dead band, POSITIONS, snapshots, headers and checksums)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
TAG=${2:-now}
WORK=$(realpath -m "${FC_PERF_WORK:-$BUILD/ipf}")
OUT=perf/results/ipf_stages.csv
FLOORD=$BUILD/app/floord/floord
FLOORGEN=$BUILD/app/floorgen/floorgen
mkdir -p "$WORK" perf/results

. perf/lib.sh

fc_fixtures p65k 65535 16 siphash
fc_fixtures p400 400 16 siphash
fc_capture "$WORK/big.pcap" p65k 65535 30 0.5 siphash 16
fc_capture "$WORK/small.pcap" p400 400 20 3 siphash 8
fc_floor "$WORK/big.ini" p65k 0 0 0 65536
fc_floor "$WORK/small.ini" p400 0 0 0 65536

[ -f "$OUT" ] || echo "tag,workload,stage,instr_per_fix,instructions,fixes,commit" >"$OUT"
grep -v "^$TAG," "$OUT" >"$OUT.tmp" || true
mv "$OUT.tmp" "$OUT"
commit=${FC_IPF_COMMIT:-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- lib || echo "+dirty")}
for wl in big small; do
	cg="$WORK/cg-$wl-$TAG.out"
	# FC_IPF_PARSE_ONLY=1: the profile of this TAG is already there; only the rows are made.
	if [ -z "${FC_IPF_PARSE_ONLY:-}" ]; then
		valgrind --tool=callgrind --callgrind-out-file="$cg" --toggle-collect=lcore_loop \
			"$FLOORD" -l 0 --no-huge -m 1024 --no-pci --no-shconf --file-prefix=fcipf$$ \
			--log-level='*:error' \
			--vdev="net_pcap0,rx_pcap=$WORK/$wl.pcap,tx_pcap=/dev/null" \
			-- --floor "$WORK/$wl.ini" --replay --report-json "$WORK/$wl-$TAG.json" \
			>"$WORK/$wl-$TAG.log" 2>&1
		rm -rf "/var/run/dpdk/fcipf$$"
	fi
	python3 - "$cg" "$WORK/$wl-$TAG.json" "$TAG" "$wl" "$commit" <<'EOF' | tee -a "$OUT"
import json, re, subprocess, sys
cg, rep, tag, wl, commit = sys.argv[1:6]
fixes = json.load(open(rep))["owners"]["records"]
out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cg],
                     capture_output=True, text=True).stdout
def cost(fn, file=None):
    """The largest inclusive cost callgrind lists for function fn (optionally as inlined from
    file): an inlined function is listed once per file its instructions come from."""
    best = 0
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(.*?\)\s+(\S*?):(\S+)( \[.*\])?$", line)
        if m and m.group(3) == fn and (file is None or m.group(2).endswith(file)):
            best = max(best, int(m.group(1).replace(",", "")))
    return best
total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", out).group(1).replace(",", ""))
rx = cost("fc_rx_poll")
nic = cost("fc_rx_poll", "rte_ethdev.h")
accept = cost("fc_up_accept")
mac = cost("fc_mac_verify")
route = cost("route_fixes")
owner = cost("fc_owner_poll")
tx = cost("fc_tx_poll")
name = {"big": "65535p x 30 Hz x 0.5 s; 16 gw; 42 fixes/frame",
        "small": "400p x 20 Hz x 3 s; 8 gw; ~18 fixes/frame"}[wl]
for stage, c in [("total", total), ("rx", rx), ("rx.nic", nic), ("rx.accept", accept),
                 ("rx.mac", mac), ("rx.route", route),
                 ("rx.other", rx - nic - accept - route), ("owner", owner), ("tx", tx),
                 ("other", total - rx - owner - tx)]:
    print(f"{tag},{name},{stage},{c / fixes:.1f},{c},{fixes},{commit}")
EOF
done
