"""Running floord on captures for the replay suite: floor files, layouts, EAL arguments, one
unique --file-prefix per run (and its runtime directory removed afterwards), the exit report.

Used by test_replay.py and the golden and alloc tests; depends only on the standard library,
mkcapture (traffic) and decode_capture (floord's output, decoded with ref_codec)."""

import json
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import decode_capture  # noqa: E402
import mkcapture  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
PROFILE = os.path.join(ROOT, "drivers-cfg", "net_pcap.ini")

# The layouts of DESIGN invariant 5, as [lcores] rx / owners / tx and how many captures
# (RX queues) they read: every role on one lcore, two-lcore splits, several owners, 2 RX x 2.
LAYOUTS = {
    "rtc": ("0", "0", "0", 1),
    "rx+owner/tx": ("0", "0", "1", 1),
    "rx/owner+tx": ("0", "1", "1", 1),
    "rx+tx/owner": ("0", "1", "0", 1),
    "1rx-2owners": ("0", "0,1", "1", 1),
    "2rx-2owners": ("0,1", "1,0", "1", 2),
}


def write_floor(path, roster, keys, layout="rtc", **over):
    rx, owners, tx, nq = LAYOUTS[layout]
    v = {
        "width_m": 20, "height_m": 10, "tick_ms": 50, "local_ip": "198.18.0.1",
        "session_id": 1, "dead_band_mm": 50, "profile": PROFILE,
    }
    v.update(over)
    with open(path, "w") as f:
        f.write(f"""; written by tests/replay/harness.py
[floor]
width_m = {v['width_m']}
height_m = {v['height_m']}
tick_ms = {v['tick_ms']}
[uplink]
local_ip = {v['local_ip']}
keys = {keys}
[downlink]
session_id = {v['session_id']}
dead_band_mm = {v['dead_band_mm']}
[roster]
file = {roster}
[lcores]
rx = {rx}
owners = {owners}
tx = {tx}
[port]
profile = {v['profile']}
""")
    return nq


def split_by_gateway(capture, n, out_prefix):
    """Splits a capture into n queue files the way RSS would: by the sender's address, so each
    gateway stays on one RX queue (its replay window lives there)."""
    import fcpcap

    paths = [f"{out_prefix}{q}.pcap" for q in range(n)]
    files = [open(p, "wb") for p in paths]
    writers = [fcpcap.PcapWriter(f, nanosecond=False) for f in files]
    for ts, data in fcpcap.PcapReader(capture):
        info, _ = fcpcap.parse_udp_frame(data)
        q = int(info["src_ip"].split(".")[3]) % n if info else 0
        writers[q].write(ts, data)
    for f in files:
        f.close()
    return paths


def filter_capture(src, dst, keep):
    """Copies the frames of src whose index keep(i) accepts into dst (same timestamps)."""
    import fcpcap

    with open(dst, "wb") as f:
        w = fcpcap.PcapWriter(f, nanosecond=False)
        for i, (ts, data) in enumerate(fcpcap.PcapReader(src)):
            if keep(i):
                w.write(ts, data)


def run_floord(floord, floor, captures, out, workdir, tag, extra_env=None, lcores="0-1",
               check=True, args=()):
    """Replays captures (one RX queue each) through floord; returns (returncode, report dict,
    stdout+stderr). The JSON report is read from the run's own file."""
    prefix = f"fcrp-{tag}-{os.getpid()}"
    report = os.path.join(workdir, f"{tag}.report.json")
    vdev = "net_pcap0," + ",".join(f"rx_pcap={c}" for c in captures) + f",tx_pcap={out}"
    cmd = [floord, "--lcores" if "@" in lcores else "-l", lcores, "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
           f"--file-prefix={prefix}", "--log-level=*:error", f"--vdev={vdev}", "--",
           "--floor", floor, "--replay", "--report-json", report, *args]
    env = dict(os.environ)
    env.update(extra_env or {})
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    finally:
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    rep = None
    if os.path.exists(report):
        with open(report) as f:
            rep = json.load(f)
    if check and p.returncode != 0:
        raise AssertionError(f"floord exited {p.returncode}: {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p.returncode, rep, p.stdout + p.stderr


def make_capture(workdir, name, players=20, gateways=2, seconds=3.0, scenario="normal", seed=1):
    """Fixtures and a capture in workdir; returns (capture, roster, keys, summary dict)."""
    fx = os.path.join(workdir, "fixtures")
    if not os.path.exists(os.path.join(fx, "roster.csv")):
        os.makedirs(fx, exist_ok=True)
        mkcapture.main(["--write-fixtures", fx, "--players", "400", "--gateways", "8"])
    roster, keys = os.path.join(fx, "roster.csv"), os.path.join(fx, "gateways.keys")
    cap = os.path.join(workdir, f"{name}.pcap")
    summ = os.path.join(workdir, f"{name}.summary.json")
    rc = mkcapture.main(["--out", cap, "--roster", roster, "--keys", keys, "--players",
                         str(players), "--gateways", str(gateways), "--seconds", str(seconds),
                         "--scenario", scenario, "--seed", str(seed), "--summary", summ])
    if rc not in (0, None):
        raise AssertionError(f"mkcapture failed: {rc}")
    with open(summ) as f:
        return cap, roster, keys, json.load(f)


def counter_mismatches(summary, report):
    """floorgen's (or mkcapture's) expected_counters against floord's JSON report: returns
    (["counter: expected N, floord M", ...], {"section.reason": n} for every drop floord
    counted that the summary does not expect)."""
    exp = summary["expected_counters"]
    bad = []
    for counter, n in sorted(exp.items()):
        section, _, reason = counter.partition(".")
        if section in ("net", "uplink", "pipeline"):
            got = report["drops"][section][reason]
        elif section == "owners":
            got = report["owners"][reason]
        elif counter == "frames_accepted":
            got = report["rx"]["gw_frames"]
        elif counter == "fix_records":
            got = report["rx"]["fixes"]
        else:
            continue
        if got != n:
            bad.append(f"{counter}: expected {n}, floord {got}")
    others = {f"{sec}.{r}": v for sec in ("net", "uplink", "pipeline")
              for r, v in report["drops"][sec].items() if v and f"{sec}.{r}" not in exp}
    return bad, others


def decode(out):
    summary, frames = decode_capture.decode_file(out)
    return summary, frames


class Checks:
    """Collects named checks; prints each; the exit code says whether all passed."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def __call__(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""))
        return cond

    def exit(self):
        print(f"{self.passed} checks passed, {self.failed} failed")
        return 1 if self.failed else 0
