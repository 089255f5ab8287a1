# SPDX-License-Identifier: BSD-3-Clause
# What the benchmark scripts share, sourced after they set FLOORGEN (floorgen's path) and WORK
# (their work directory): floorgen's fixtures and captures, kept in WORK between runs, and the
# floor file that replays them through DPDK's net_pcap.
# shellcheck shell=bash

FC_PERF_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# fc_fixtures NAME PLAYERS GATEWAYS MAC: roster and gateway keys in WORK/NAME, once.
fc_fixtures() {
	[ -f "$WORK/$1/roster.csv" ] || "$FLOORGEN" --write-fixtures "$WORK/$1" --players "$2" \
		--gateways "$3" --mac "$4" >/dev/null
}

# fc_capture OUT NAME PLAYERS RATE SECONDS MAC GATEWAYS [FLOORGEN ARGS...]: a capture of the
# fixtures NAME, once (a capture already at OUT is kept).
fc_capture() {
	local out=$1 fx=$WORK/$2 players=$3 rate=$4 secs=$5 mac=$6 gw=$7
	shift 7
	[ -f "$out" ] || "$FLOORGEN" --out "$out" --roster "$fx/roster.csv" \
		--keys "$fx/gateways.keys" --players "$players" --rate "$rate" --seconds "$secs" \
		--mac "$mac" --gateways "$gw" --no-check "$@" >/dev/null
}

# fc_floor OUT NAME RX OWNERS TX [RING_SIZE [EXTRA]]: a 20 x 10 m floor file for the fixtures
# NAME, with the lcore layout given, replayed through net_pcap; RING_SIZE empty for the
# default, EXTRA (more sections, e.g. [game]) appended as it is.
fc_floor() {
	cat >"$1" <<EOT
[floor]
width_m = 20
height_m = 10
[uplink]
local_ip = 198.18.0.1
keys = $WORK/$2/gateways.keys
[downlink]
session_id = 1
[roster]
file = $WORK/$2/roster.csv
[lcores]
rx = $3
owners = $4
tx = $5
$([ -n "${6:-}" ] && echo "ring_size = $6")
[port]
profile = $FC_PERF_TOP/drivers-cfg/net_pcap.ini
${7:-}
EOT
}
