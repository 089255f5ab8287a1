#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""floorgen's summary against the real floord: impaired captures (every scenario feature at once:
clues, BLE noise, overlapping grid cells, skewed and drifting clocks, loss, duplicates,
reordering, late frames past the clock bound, the hostile classes) are replayed through floord,
and every counter of the summary's expected_counters must be what floord's exit report says,
with no drop floord counted that the summary did not expect.

usage: test_floord.py FLOORGEN FLOORD"""

import json
import os
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "replay"))

import harness  # noqa: E402

CLUES = """policy = distance
# clue_id,x_mm,y_mm,radius_mm,points
1,2000,2000,,10
2,18000,2000,,10
3,10000,5000,200,50
4,2000,8000,,10
5,18000,8000,,10
"""

EVERY = """[scenario]
players = 120
gateways = 4
seconds = 6
seed = 11
roster = fx/roster.csv
keys = fx/gateways.keys
[rates]
teams = 2:5
fraction = 0.3
fraction_hz = 30
[clues]
layout = clues.txt
attraction = 0.6
hot_spots = 3
[noise]
profile = ble_aoa
[gateways]
coverage = grid
overlap_mm = 500
[clock]
skew_ms = 300
drift_ppm = 50
[impairments]
loss_pct = 2
duplicate_pct = 3
reorder_pct = 5
reorder_window_ms = 80
late_pct = 2
late_ms = 2500
[hostile]
enabled = yes
"""

# one gateway, many tags: late frames fall behind 1024 newer ones (replay_old), UWB noise,
# stripes overlapping
WINDOW = """[scenario]
players = 400
gateways = 1
seconds = 5
rate_hz = 50
seed = 3
roster = fx/roster.csv
keys = fx/gateways.keys
clock_bound_ms = 10000
[noise]
profile = uwb
[impairments]
late_pct = 1
late_ms = 3000
reorder_pct = 10
reorder_window_ms = 200
"""


def compare(ok, summ, rep, what):
    bad, others = harness.counter_mismatches(summ, rep)
    ok(not bad, f"{what}: floord counted every expected counter "
       f"({len(summ['expected_counters'])})", bad)
    ok(not others, f"{what}: no drop counted that was not expected", others)


def run(floorgen, floord, work, ok, name, text, layout="rtc", extra=()):
    ini = os.path.join(work, f"{name}.ini")
    with open(ini, "w") as f:
        f.write(text)
    cap = os.path.join(work, f"{name}.pcap")
    summ_path = os.path.join(work, f"{name}.json")
    p = subprocess.run([floorgen, "--scenario-file", ini, "--out", cap, "--summary", summ_path,
                        *extra], capture_output=True, text=True)
    ok(p.returncode == 0, f"{name}: floorgen ran", p.stdout + p.stderr)
    if p.returncode != 0:
        return None
    with open(summ_path) as f:
        summ = json.load(f)
    floor = os.path.join(work, f"{name}.floor.ini")
    harness.write_floor(floor, os.path.join(work, "fx", "roster.csv"),
                        os.path.join(work, "fx", "gateways.keys"), layout,
                        width_m=summ["args"]["width_mm"] / 1000,
                        height_m=summ["args"]["height_mm"] / 1000)
    bound = summ["args"]["clock_bound_ns"]
    if bound != 2_000_000_000:
        with open(floor) as f:
            t = f.read()
        with open(floor, "w") as f:
            f.write(t.replace("[uplink]\n", f"[uplink]\nclock_bound_ms = {bound // 1_000_000}\n"))
    out = os.path.join(work, f"{name}.out.pcap")
    _, rep, _ = harness.run_floord(floord, floor, [cap], out, work, name)
    compare(ok, summ, rep, f"{name} ({layout})")
    return summ


def main():
    floorgen, floord = sys.argv[1], sys.argv[2]
    ok = harness.Checks()
    with tempfile.TemporaryDirectory(prefix="fc-gen-floord-") as work:
        subprocess.run([floorgen, "--write-fixtures", os.path.join(work, "fx"), "--players",
                        "400", "--gateways", "4"], check=True, capture_output=True)
        with open(os.path.join(work, "clues.txt"), "w") as f:
            f.write(CLUES)
        s = run(floorgen, floord, work, ok, "every", EVERY)
        if s is not None:
            sent = s["sent"]
            ok(all(sent[k] > 0 for k in ("lost_frames", "overlap_reports", "duplicate_reports",
                                         "reordered_frames", "late_frames", "window_drops")),
               "every impairment happened", sent)
            ok(s["expected_counters"].get("uplink.clock_skew", 0) > 1,
               "late frames past the bound are expected as clock_skew")
        # one owner lcore apart from RX: the same counts (owners.* assume a single owner)
        run(floorgen, floord, work, ok, "every-split", EVERY, layout="rx/owner+tx")
        s = run(floorgen, floord, work, ok, "window", WINDOW)
        if s is not None:
            ok(s["expected_counters"].get("uplink.replay_old", 0) > 0,
               "frames held behind 1024 newer ones are expected as replay_old")
        # live: what the socket sent, captured beside it, replays to the summary's counts
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        s = run(floorgen, floord, work, ok, "live", EVERY,
                extra=("--live", f"127.0.0.1:{port}", "--speed", "0", "--dst-ip", "198.18.0.1", "--dst-port", "47474",
                       "--set", "scenario.seconds=3"))
        got = 0
        sock.setblocking(False)
        try:
            while True:
                sock.recv(2048)
                got += 1
        except BlockingIOError:
            pass
        sock.close()
        if s is not None:
            ok(got == s["live"]["sent"] == s["frames"], "live: every frame of the capture sent",
               f"{got} received, {s['live']['sent']} sent, {s['frames']} in the capture")
            ok(len(s["skipped"]) == 9 and not any(k.startswith("net.")
                                                 for k in s["expected_counters"]),
               "live: the other hosts' frames are skipped, none expected", s["skipped"])
    return ok.exit()


if __name__ == "__main__":
    sys.exit(main())
