#!/usr/bin/env python3
"""floord live, on net_ring (its own TX queue loops back to its RX queue): the /floorcast/
telemetry commands answer through DPDK's dpdk-telemetry.py while it runs, ticks advance on the
TSC, its own multicast coming back is counted as a drop (not ours), and SIGTERM drains and
ends the session: exit 0, a report, every mbuf back.

  test_telemetry.py FLOORD"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "replay"))

import harness  # noqa: E402
from harness import Checks  # noqa: E402

TELEMETRY = shutil.which("dpdk-telemetry.py")


def query(prefix, cmd):
    p = subprocess.run([sys.executable if TELEMETRY is None else TELEMETRY, "-f", prefix],
                       input=cmd + "\n", capture_output=True, text=True, timeout=20)
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{") and cmd in line:
            return json.loads(line)[cmd]
    raise AssertionError(f"no answer to {cmd}: {p.stdout} {p.stderr}")


def main(argv):
    floord = argv[1]
    ok = Checks()
    if TELEMETRY is None:
        print("dpdk-telemetry.py not found (Debian package dpdk-dev): skipped")
        return 77
    prefix = f"fctel{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="fc-telemetry-") as work:
        _, roster, keys, _ = harness.make_capture(work, "unused", players=4, gateways=1,
                                                  seconds=0.2)
        floor = os.path.join(work, "floor.ini")
        harness.write_floor(floor, roster, keys, "rx+owner/tx",
                            profile=os.path.join(harness.ROOT, "drivers-cfg", "net_ring.ini"))
        report = os.path.join(work, "report.json")
        cmd = [floord, "-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
               f"--file-prefix={prefix}", "--log-level=*:error", "--vdev=net_ring0", "--",
               "--floor", floor, "--report-json", report]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            sock = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
            for _ in range(100):
                if os.path.exists(sock) or proc.poll() is not None:
                    break
                time.sleep(0.1)
            ok(os.path.exists(sock), "the telemetry socket appears")
            time.sleep(0.5)
            first = query(prefix, "/floorcast/stats")
            time.sleep(1.0)
            second = query(prefix, "/floorcast/stats")
            ok(second["ticks"] >= first["ticks"] + 10, "ticks advance live (50 ms each)",
               (first["ticks"], second["ticks"]))
            ok(second["tx_packets"] > first["tx_packets"] > 0, "TX multicasts every tick",
               second)
            ok(second["rx_frames"] > 0 and second["drops"] == second["rx_frames"],
               "its own looped-back multicast is received and dropped, not applied", second)
            drops = query(prefix, "/floorcast/drops")
            ok(drops.get("net_wrong_dst", 0) > 0 and sum(drops.values()) >= second["drops"],
               "the drops are counted by reason (net_wrong_dst: not our address)", drops)
            lat = query(prefix, "/floorcast/latency")
            ok("p999_ns" in lat and "samples" in lat, "/floorcast/latency answers", lat)
            lc = query(prefix, "/floorcast/lcores")
            ok(lc.get("rx0_lcore") == 0 and lc.get("owner0_lcore") == 0 and lc.get("rx0_frames", 0) > 0,
               "/floorcast/lcores", lc)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=10)
            ok(proc.returncode == 0, "SIGTERM: floord drains and exits 0", out[-500:])
            ok("floord report" in out, "the exit report is printed")
            with open(report) as f:
                rep = json.load(f)
            ok(rep["mempool"]["in_use_at_exit"] == 0, "every mbuf back in the mempool", rep["mempool"])
            ok(rep["mempool"]["drained_at_exit"] > 0,
               "our own last packets, still on the loopback queue, were drained and counted")
            ok(rep["tx"]["ticks"] >= second["ticks"], "the last tick was sent")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    return ok.exit()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
