#!/usr/bin/env bash
# The main job on its embedded default: a 400-player, 60-second game on the demo floor
# (deploy/examples/floor-demo.ini: 20 m x 10 m, 8 gateways, 20 fixes/s a tag) is generated as a
# capture, replayed through floord's real pipeline (DPDK net_pcap in and out, no NIC, no
# hugepages), and floord's report printed; the multicast deltas it sent are decoded and checked
# by an independent decoder. Everything lands in build/demo/.
#
#   bash deploy/demo.sh [--players N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."

players=400
seconds=60
while [ $# -gt 0 ]; do
	case "$1" in
	--players) players=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	*) echo "usage: bash deploy/demo.sh [--players N] [--seconds S]" >&2; exit 2 ;;
	esac
done

bash deploy/install-deps.sh >/dev/null
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
meson compile -C build >/dev/null

out=build/demo
mkdir -p "$out"
game="$out/game-${players}p-${seconds}s.pcap"
if [ ! -f "$game" ]; then
	echo "demo: generating $players players x ${seconds} s of gateway traffic -> $game"
	python3 tests/replay/mkcapture.py --out "$game" --summary "$game.summary.json" \
		--roster deploy/examples/roster-demo.csv --keys deploy/examples/keys-demo.txt \
		--players "$players" --gateways 8 --seconds "$seconds" --seed 1
fi

prefix="fc-demo-$$"
trap 'rm -rf "/var/run/dpdk/$prefix"' EXIT
echo "demo: replaying through floord (every role on lcore 0; see docs/configuration.md [lcores])"
build/app/floord/floord -l 0 --no-huge -m 512 --no-pci --no-shconf --file-prefix="$prefix" \
	--log-level='*:error' --vdev="net_pcap0,rx_pcap=$game,tx_pcap=$out/deltas.pcap" \
	-- --floor deploy/examples/floor-demo.ini --replay --report-json "$out/report.json"

echo
echo "demo: the deltas floord multicast, decoded independently (tests/replay/decode_capture.py)"
python3 tests/replay/decode_capture.py "$out/deltas.pcap" --json "$out/deltas.json"
echo "demo: files in $out/: the capture, deltas.pcap (floord's output), report.json, deltas.json"
