#!/usr/bin/env python3
"""deploy/floorcast-metrics, its output parsed by Prometheus' own parser (Debian's
python3-prometheus-client, prometheus_client.parser.text_string_to_metric_families).

  test_metrics.py render        against a fake DPDK telemetry socket (the v2 protocol: hello,
                                then one JSON answer per command): every family, label and
                                value; --textfile and --listen; floord absent -> floorcast_up 0
  test_metrics.py live FLOORD   against a live floord on net_ring: the same families, values
                                that agree with dpdk-telemetry.py, then floorcast_up 0 after
                                SIGTERM"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from deploylib import DEPLOY, Checks, harness, run, skip  # noqa: E402

TOOL = os.path.join(DEPLOY, "floorcast-metrics")

CANNED = {
    "/floorcast/stats": {"rx_frames": 1000, "gw_frames": 900, "fixes": 9000, "routed": 8990,
                         "drops": 117, "ring_hwm": 37, "applied": 8900, "older": 60,
                         "duplicates": 30, "ticks": 1200, "tx_packets": 2400, "tx_drops": 2,
                         "tx_retries": 5},
    "/floorcast/drops": {"net_arp": 3, "net_wrong_dst": 90, "uplink_bad_mac": 7,
                         "uplink_clock_skew": 4, "uplink_replay_dup": 3,
                         "pipeline_unknown_tag": 10, "pipeline_ring_full": 0,
                         "pipeline_no_timestamp": 0},
    "/floorcast/latency": {"samples": 8990, "p50_ns": 1600, "p90_ns": 2000, "p99_ns": 8200,
                           "p999_ns": 15000, "max_ns": 42000},
    "/floorcast/lcores": {"rx0_lcore": 2, "rx0_frames": 600, "rx0_ring_full": 0,
                          "rx0_ring_hwm_owner0": 37, "rx0_ring_hwm_owner1": 12,
                          "rx1_lcore": 3, "rx1_frames": 400, "rx1_ring_full": 0,
                          "rx1_ring_hwm_owner0": 5, "rx1_ring_hwm_owner1": 9,
                          "owner0_lcore": 4, "owner0_applied": 5000, "owner1_lcore": 5,
                          "owner1_applied": 3900},
    "/ethdev/list": [0],
    "/ethdev/stats": {"ipackets": 1003, "opackets": 2400, "ibytes": 500000, "obytes": 900000,
                      "imissed": 3, "ierrors": 0, "oerrors": 0, "rx_nombuf": 0,
                      "q_ipackets": [600, 403]},
    "/ethdev/link_status": {"status": "UP", "speed": 25000, "duplex": "full-duplex"},
}


class FakeTelemetry(threading.Thread):
    """Answers like DPDK 22.11's telemetry v2 socket."""

    def __init__(self, path):
        super().__init__(daemon=True)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.srv.bind(path)
        self.srv.listen(4)

    def run(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    @staticmethod
    def serve(c):
        c.send(json.dumps({"version": "DPDK 22.11.11", "pid": 4242,
                           "max_output_len": 16384}).encode())
        while True:
            cmd = c.recv(1024).decode()
            if not cmd:
                break
            base = cmd.split(",")[0]
            c.send(json.dumps({base: CANNED.get(base)}).encode())
        c.close()


def parse(text):
    from prometheus_client.parser import text_string_to_metric_families

    fams = {}
    for fam in text_string_to_metric_families(text):
        fams[fam.name] = fam
    return fams


def value(fams, family, sample=None, **labels):
    fam = fams.get(family)
    if fam is None:
        return None
    for s in fam.samples:
        if (sample is None or s.name == sample) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def render():
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return skip("python3-prometheus-client not installed")
    ok = Checks()
    with tempfile.TemporaryDirectory(prefix="fc-metrics-") as work:
        FakeTelemetry(os.path.join(work, "dpdk", "fcfake", "dpdk_telemetry.v2")).start()
        rc, out = run([sys.executable, TOOL, "--runtime-dir", work, "-f", "fcfake"])
        ok(rc == 0, "exit 0 when floord answers", out[-300:])
        fams = parse(out)
        ok(value(fams, "floorcast_up") == 1, "floorcast_up 1")
        ok(value(fams, "floorcast_info", dpdk_version="DPDK 22.11.11", pid="4242") == 1,
           "floorcast_info: the DPDK version and floord's pid")
        ok(fams["floorcast_rx_frames"].type == "counter"
           and value(fams, "floorcast_rx_frames", "floorcast_rx_frames_total") == 1000,
           "/floorcast/stats: counters with _total (rx_frames)")
        for fam, v in (("floorcast_rx_gateway_frames", 900), ("floorcast_rx_fixes", 9000),
                       ("floorcast_rx_routed", 8990), ("floorcast_owner_applied", 8900),
                       ("floorcast_owner_older", 60), ("floorcast_owner_duplicates", 30),
                       ("floorcast_tx_ticks", 1200), ("floorcast_tx_packets", 2400),
                       ("floorcast_tx_dropped", 2), ("floorcast_tx_retries", 5)):
            ok(value(fams, fam) == v, f"{fam}_total = {v}")
        ok(fams["floorcast_ring_high_water_max"].type == "gauge"
           and value(fams, "floorcast_ring_high_water_max") == 37, "ring high-water: a gauge")
        ok(value(fams, "floorcast_drops", layer="uplink", reason="bad_mac") == 7
           and value(fams, "floorcast_drops", layer="uplink", reason="clock_skew") == 4
           and value(fams, "floorcast_drops", layer="net", reason="wrong_dst") == 90
           and value(fams, "floorcast_drops", layer="pipeline", reason="unknown_tag") == 10
           and value(fams, "floorcast_drops", layer="pipeline", reason="no_timestamp") == 0,
           "/floorcast/drops: one series per reason, labelled by layer and reason (no_timestamp"
           " keeps its underscore)")
        ok(len(fams["floorcast_drops"].samples) == len(CANNED["/floorcast/drops"]),
           "every drop reason is exported")
        lat = fams.get("floorcast_fix_latency_seconds")
        ok(lat is not None and lat.type == "summary"
           and value(fams, "floorcast_fix_latency_seconds", quantile="0.999") == 15e-6
           and value(fams, "floorcast_fix_latency_seconds", quantile="0.5") == 1.6e-6
           and value(fams, "floorcast_fix_latency_seconds",
                     "floorcast_fix_latency_seconds_count") == 8990,
           "/floorcast/latency: a summary in seconds, p50 to p99.9, and its count")
        ok(value(fams, "floorcast_fix_latency_max_seconds") == 42e-6, "the slowest fix, seconds")
        ok(value(fams, "floorcast_rx_lcore_frames", rx="1", lcore="3") == 400
           and value(fams, "floorcast_ring_high_water", rx="0", owner="1") == 12
           and value(fams, "floorcast_owner_lcore_applied", owner="1", lcore="5") == 3900
           and value(fams, "floorcast_rx_lcore_ring_full", rx="0", lcore="2") == 0,
           "/floorcast/lcores: per RX lcore, per ring, per owner, with lcore ids")
        ok(value(fams, "floorcast_port_rx_missed", port="0") == 3
           and value(fams, "floorcast_port_rx_packets", port="0") == 1003
           and value(fams, "floorcast_port_link_up", port="0") == 1
           and value(fams, "floorcast_port_link_speed_mbps", port="0") == 25000,
           "/ethdev/stats and link_status of each port")
        names = re.findall(r"^# TYPE (\S+)", out, re.M)
        ok(len(names) == len(set(names)), "each family's HELP and TYPE once")

        rc, out2 = run([sys.executable, TOOL, "--runtime-dir", work, "-f", "fcfake", "--no-ports"])
        ok(rc == 0 and "floorcast_port_" not in out2, "--no-ports leaves the ethdev metrics out")
        tf = os.path.join(work, "floorcast.prom")
        rc, _ = run([sys.executable, TOOL, "--runtime-dir", work, "-f", "fcfake", "--textfile", tf])
        ok(rc == 0 and value(parse(open(tf).read()), "floorcast_tx_ticks") == 1200
           and not [f for f in os.listdir(work) if f.startswith(".floorcast-metrics.")],
           "--textfile: written whole (no temporary left), parses")

        srv = subprocess.Popen([sys.executable, TOOL, "--runtime-dir", work, "-f", "fcfake",
                                "--listen", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
        try:
            line = srv.stderr.readline()
            m = re.search(r"http://([0-9.]+):(\d+)/metrics", line)
            body = ""
            if m:
                with urllib.request.urlopen(f"http://{m.group(1)}:{m.group(2)}/metrics",
                                            timeout=10) as r:
                    ctype = r.headers.get("Content-Type", "")
                    body = r.read().decode()
            ok(m is not None and "version=0.0.4" in ctype
               and value(parse(body), "floorcast_rx_fixes") == 9000,
               "--listen: GET /metrics serves the text format", line)
        finally:
            srv.terminate()
            srv.wait(10)

        rc, out = run([sys.executable, TOOL, "--runtime-dir", work, "-f", "nobody"])
        ok(rc == 1 and value(parse(out), "floorcast_up") == 0,
           "no floord: floorcast_up 0 (parses), exit 1", out)
    return ok.exit()


def live(floord):
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return skip("python3-prometheus-client not installed")
    tel = shutil.which("dpdk-telemetry.py")
    ok = Checks()
    prefix = f"fcmet{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="fc-metrics-live-") as work:
        _, roster, keys, _ = harness.make_capture(work, "unused", players=4, gateways=1,
                                                  seconds=0.2)
        floor = os.path.join(work, "floor.ini")
        harness.write_floor(floor, roster, keys, "rx+owner/tx",
                            profile=os.path.join(harness.ROOT, "drivers-cfg", "net_ring.ini"))
        proc = subprocess.Popen([floord, "-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
                                 f"--file-prefix={prefix}", "--log-level=*:error",
                                 "--vdev=net_ring0", "--", "--floor", floor],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        rt = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
        try:
            sock = os.path.join(rt, "dpdk", prefix, "dpdk_telemetry.v2")
            end = time.time() + 10
            while not os.path.exists(sock) and proc.poll() is None and time.time() < end:
                time.sleep(0.1)
            time.sleep(1.0)
            rc, out = run([sys.executable, TOOL, "--runtime-dir", rt, "-f", prefix])
            ok(rc == 0, "floorcast-metrics against a live floord: exit 0", out[-300:])
            fams = parse(out)
            for fam in ("floorcast_up", "floorcast_rx_frames", "floorcast_tx_ticks",
                        "floorcast_drops", "floorcast_fix_latency_seconds",
                        "floorcast_rx_lcore_frames", "floorcast_ring_high_water",
                        "floorcast_owner_lcore_applied", "floorcast_port_rx_missed",
                        "floorcast_port_link_up"):
                ok(fam in fams, f"family {fam}")
            n_drops = len(fams["floorcast_drops"].samples) if "floorcast_drops" in fams else 0
            want = 28  # 10 net, 15 uplink, 3 pipeline reasons in floord today
            if tel:
                p = subprocess.run([tel, "-f", prefix], input="/floorcast/drops\n",
                                   capture_output=True, text=True, timeout=20)
                for ln in p.stdout.splitlines():
                    if ln.startswith("{") and "/floorcast/drops" in ln:
                        want = len(json.loads(ln)["/floorcast/drops"])
            ok(n_drops == want, f"every drop reason floord has ({want}) is a series", n_drops)
            ticks = value(fams, "floorcast_tx_ticks")
            ok(ticks is not None and ticks >= 10, "ticks advance live", ticks)
            ok(value(fams, "floorcast_drops", layer="net", reason="wrong_dst") > 0,
               "its own looped-back multicast is counted by reason (net, wrong_dst)")
            if tel:
                p = subprocess.run([tel, "-f", prefix], input="/floorcast/stats\n",
                                   capture_output=True, text=True, timeout=20)
                later = [json.loads(ln)["/floorcast/stats"] for ln in p.stdout.splitlines()
                         if ln.startswith("{") and "/floorcast/stats" in ln]
                ok(later and later[0]["ticks"] >= ticks
                   and later[0]["rx_frames"] >= value(fams, "floorcast_rx_frames"),
                   "the values agree with dpdk-telemetry.py's (asked just after)", later)
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=20)
            ok(proc.returncode == 0, "SIGTERM: floord exits 0")
            rc, out = run([sys.executable, TOOL, "--runtime-dir", rt, "-f", prefix])
            ok(rc == 1 and value(parse(out), "floorcast_up") == 0,
               "floord gone: floorcast_up 0, exit 1", out)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(os.path.join(rt, "dpdk", prefix), ignore_errors=True)
    return ok.exit()


def main(argv):
    if argv[1] == "render":
        return render()
    return live(argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
