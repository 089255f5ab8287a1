#!/usr/bin/env python3
"""The suite's driver (perf/suite.sh runs it; see perf/README.md, "Suite").

For each point (players, fix rate) it makes one floorgen capture (SipHash, 20.48 x 10.24 m,
the clue layout of tests/replay/test_replay.py CLAIM_LAYOUT), then, back to back:
  1. floord replays it paced at capture speed, RX+owner on lcore 0 and TX on lcore 1, with
     tests/alloc's guard preloaded; /proc/PID/task/*/status of the two lcore threads (the main
     thread and rte-worker-1) is read at the start and the end of the steady state;
  2. a fresh redis-server on 127.0.0.1 (random port, --save '' --appendonly no) and
     perf/peer_redis/peer_client replay the same capture the redis way.
Writes OUT/suite.csv, OUT/suite.md (the table, with ratios and the original engine's published
figures) and OUT/suite_plot.dat (for perf/suite_plot.gp). Never asserts a time."""

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time

CLUES = [(1, 10240, 5120, 150, 50), (2, 1000, 1000, 20, 10)]  # test_replay.py CLAIM_LAYOUT
ORIGINAL = {"players": 400, "p50": 2400, "p95": 5100, "p99": 5800, "p999": 8200,
            "allocs_per_s": 180000, "cs_per_s": 8}  # us, published


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def ctx_switches(pid, want):
    """Summed voluntary/nonvoluntary context switches of the threads of pid that want(tid, comm)
    selects, and the names seen."""
    vol = inv = 0
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            if not want(int(tid), comm):
                continue
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        inv += int(line.split()[1])
            names.append(comm)
        except FileNotFoundError:
            pass
    return vol, inv, sorted(names)


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_point(a, players, rate, gateways, secs):
    d = os.path.join(a.work, f"p{players}")
    sh([a.floorgen, "--write-fixtures", d, "--players", str(players), "--gateways", "16",
        "--mac", "siphash"])
    cap = os.path.join(d, "cap.pcap")
    sh([a.floorgen, "--out", cap, "--roster", f"{d}/roster.csv", "--keys", f"{d}/gateways.keys",
        "--players", str(players), "--rate", str(rate), "--seconds", str(secs), "--mac", "siphash",
        "--gateways", str(gateways), "--width-m", "20.48", "--height-m", "10.24", "--no-check"])
    with open(f"{d}/clues.txt", "w") as f:
        f.write("policy = distance\nsettle_ms = 100\n")
        for c in CLUES:
            f.write(",".join(map(str, c)) + "\n")
    with open(f"{d}/floor.ini", "w") as f:
        f.write(f"""[floor]
width_m = 20.48
height_m = 10.24
[uplink]
local_ip = 198.18.0.1
keys = {d}/gateways.keys
[downlink]
session_id = 1
[game]
layout = {d}/clues.txt
[roster]
file = {d}/roster.csv
[lcores]
rx = 0
owners = 0
tx = 1
ring_size = 65536
[port]
profile = {a.top}/drivers-cfg/net_pcap.ini
""")
    return d, cap


def run_floord(a, d, cap, secs, warm):
    prefix = f"fcsuite{os.getpid()}"
    rep, guard_out = f"{d}/floord.json", f"{d}/guard.txt"
    env = dict(os.environ, LD_PRELOAD=a.guard, FC_ALLOC_GUARD_OUT=guard_out)
    cmd = [a.floord, "-l", "0-1", "--no-huge", "-m", "2048", "--no-pci", "--no-shconf",
           f"--file-prefix={prefix}", "--log-level=*:error",
           f"--vdev=net_pcap0,rx_pcap={cap},tx_pcap=/dev/null", "--", "--floor", f"{d}/floor.ini",
           "--replay", "--pace", "--report-json", rep]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    # The data-plane threads: the main lcore is the main thread, the other is rte-worker-N.
    lcore = lambda tid, comm: tid == p.pid or comm.startswith("rte-worker")  # noqa: E731
    t_run = None
    marks = []
    try:
        while p.poll() is None and t_run is None:  # the lcores are launched: the run starts
            if len(ctx_switches(p.pid, lcore)[2]) >= 2:
                t_run = time.monotonic()
            time.sleep(0.01)
        for at in (warm, secs - 0.5):
            while p.poll() is None and time.monotonic() < t_run + at:
                time.sleep(0.005)
            if p.poll() is None:
                marks.append((time.monotonic(), ctx_switches(p.pid, lcore)))
        rc = p.wait(timeout=secs * 4 + 60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{prefix}"])
    if rc != 0:
        raise SystemExit(f"floord exited {rc} on {d}")
    with open(rep) as f:
        r = json.load(f)
    guard = {}
    with open(guard_out) as f:
        for line in f:
            k, v = line.split()[:2]
            guard[k] = int(v)
    el = r["run"]["elapsed_ns"] / 1e9
    row = {"system": "floord", "lat": r["latency_ns"], "samples": r["latency_ns"]["samples"],
           "fixes_per_s": r["owners"]["applied"] / el, "peak_rss_mib": r["run"]["peak_rss_kb"] / 1024,
           "drops": r["drops"]["total"], "applied": r["owners"]["applied"],
           "offered": r["rx"]["fixes"], "allocs_per_s": (guard.get("malloc", 0)
                                                        + guard.get("rte_malloc", 0)) / el,
           "guard": guard, "claims": r["game"]["claims"]}
    if len(marks) == 2:
        (t0, (v0, i0, names)), (t1, (v1, i1, _)) = marks
        row.update(vol_cs_per_s=(v1 - v0) / (t1 - t0), invol_cs_per_s=(i1 - i0) / (t1 - t0),
                   window_s=t1 - t0, threads="+".join(names))
    return row


def run_peer(a, d, cap, secs, warm):
    port = free_port()
    rlog = open(f"{d}/redis.log", "w")
    rs = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--dir", d, "--daemonize", "no"],
                          stdout=rlog, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.02)
        out = f"{d}/peer.json"
        cmd = [a.peer, "--pcap", cap, "--roster", f"{d}/roster.csv", "--port", str(port),
               "--redis-pid", str(rs.pid), "--out", out, "--warm-s", str(warm),
               "--end-s", str(secs - 0.5), "--timeout-s", str(3 * secs + 5)]
        for c in CLUES:
            cmd += ["--clue", ",".join(map(str, c[:4]))]
        sh(cmd)
        hwm = status_kb(rs.pid, "VmHWM")
    finally:
        rs.terminate()
        rs.wait(timeout=30)
        rlog.close()
    with open(out) as f:
        r = json.load(f)
    w = r["window_s"] or 1
    return {"system": "peer_redis", "lat": r["latency_ns"], "samples": r["latency_ns"]["samples"],
            "fixes_per_s": r["fixes_per_s"], "peak_rss_mib": hwm / 1024, "drops": 0,
            "applied": r["fixes_stored"], "offered": r["fixes_in_capture"],
            "vol_cs_per_s": (r["client_vol_cs"] + r["redis_vol_cs"]) / w,
            "invol_cs_per_s": (r["client_invol_cs"] + r["redis_invol_cs"]) / w, "window_s": w,
            "threads": "client+redis-server (all threads)", "peer": r,
            "stopped": r["stopped_at_timeout"]}


COLS = ["system", "players", "rate_hz", "offered_fixes_per_s", "fixes_per_s", "p50_us", "p90_us",
        "p95_us", "p99_us", "p999_us", "max_us", "samples", "peak_rss_mib", "vol_cs_per_s",
        "invol_cs_per_s", "allocs_per_s", "note"]


def fmt(v):
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--peer")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    a.top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    a.floord = f"{a.build}/app/floord/floord"
    a.floorgen = f"{a.build}/app/floorgen/floorgen"
    a.guard = f"{a.build}/tests/alloc/fc_alloc_guard.so"
    # (players, Hz, gateways, seconds of capture)
    points = ([(200, 20, 4, 2), (400, 20, 8, 2)] if a.smoke else
              [(400, 20, 8, 6), (4000, 20, 16, 6), (20000, 20, 16, 6), (65535, 30, 16, 6)])
    warm = 0.5 if a.smoke else 1.5
    rows = []
    for players, hz, gw, secs in points:
        d, cap = make_point(a, players, hz, gw, secs)
        base = {"players": players, "rate_hz": hz, "offered_fixes_per_s": players * hz}
        f = run_floord(a, d, cap, secs, warm)
        f.update(base)
        f["note"] = (f"{f['applied']}/{f['offered']} applied, drops {f['drops']}, claims "
                     f"{f['claims']}; cs window {f.get('window_s', 0):.1f} s on "
                     f"{f.get('threads', '?')}; guard {f['guard']}")
        rows.append(f)
        print(f"floord {players} p: p50 {f['lat']['p50'] / 1e3:.1f} us, "
              f"p99.9 {f['lat']['p999'] / 1e3:.1f} us, {f['fixes_per_s']:.0f} fixes/s", flush=True)
        if a.peer:
            p = run_peer(a, d, cap, secs, warm)
            p.update(base)
            pr = p["peer"]
            p["note"] = (f"{p['applied']}/{p['offered']} stored"
                         + (" (stopped: 3x capture time)" if p["stopped"] else "")
                         + f"; {pr['geosearches']} GEOSEARCH ({pr['geosearch_hits']} hits), "
                         f"{pr['ticks']} PUBLISH ({pr['map_bytes']} B); cs/s client "
                         f"{pr['client_vol_cs'] / p['window_s']:.0f} vol "
                         f"{pr['client_invol_cs'] / p['window_s']:.0f} invol, redis "
                         f"{pr['redis_vol_cs'] / p['window_s']:.0f} vol "
                         f"{pr['redis_invol_cs'] / p['window_s']:.0f} invol; no MAC verified")
            rows.append(p)
            print(f"peer   {players} p: p50 {p['lat']['p50'] / 1e3:.1f} us, "
                  f"p99.9 {p['lat']['p999'] / 1e3:.1f} us, {p['fixes_per_s']:.0f} fixes/s",
                  flush=True)
            ratio = {"system": "ratio_floord_over_peer", **base, "note": "floord / peer"}
            for q in ("p50", "p90", "p99", "p999", "max"):
                ratio[q] = f["lat"][q] / p["lat"][q] if p["lat"][q] else None
            for k in ("fixes_per_s", "peak_rss_mib", "vol_cs_per_s", "invol_cs_per_s"):
                ratio[k] = f[k] / p[k] if p.get(k) and f.get(k) is not None else None
            rows.append(ratio)
        else:
            rows.append({"system": "peer_redis", **base,
                         "note": "not run: redis-server or libhiredis-dev not installed"})
    rows.append({"system": "original_engine_published", "players": ORIGINAL["players"],
                 "lat": {q: ORIGINAL[q] * 1000 for q in ("p50", "p95", "p99", "p999")},
                 "allocs_per_s": ORIGINAL["allocs_per_s"], "vol_cs_per_s": ORIGINAL["cs_per_s"],
                 "note": "published figures (issue 6); not measured here"})

    def cells(r):
        lat = r.get("lat", {})
        ratio = r["system"].startswith("ratio")
        c = {k: r.get(k) for k in COLS}
        for q in ("p50", "p90", "p95", "p99", "p999", "max"):
            v = r.get(q) if ratio else (lat.get(q) / 1000 if q in lat else None)
            c[f"{q}_us"] = v
        return c

    with open(f"{a.out}/suite.csv", "w") as f:
        f.write(",".join(COLS) + "\n")
        for r in rows:
            c = cells(r)
            f.write(",".join('"' + str(c[k]).replace('"', "'") + '"' if k == "note" else
                             ("" if c[k] is None else (f"{c[k]:.6g}" if isinstance(c[k], float)
                                                       else str(c[k]))) for k in COLS) + "\n")
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    head = ["system", "players", "Hz", "fixes/s", "p50 us", "p90", "p95", "p99", "p99.9", "max",
            "peak RSS MiB", "vol cs/s", "invol cs/s", "allocs/s"]
    keys = ["system", "players", "rate_hz", "fixes_per_s", "p50_us", "p90_us", "p95_us", "p99_us",
            "p999_us", "max_us", "peak_rss_mib", "vol_cs_per_s", "invol_cs_per_s", "allocs_per_s"]
    with open(f"{a.out}/suite.md", "w") as f:
        f.write(f"{time.strftime('%Y-%m-%d', time.gmtime())}, {os.cpu_count()} CPUs, {cpu}, "
                f"kernel {platform.release()}{', SMOKE' if a.smoke else ''}\n\n")
        f.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for r in rows:
            c = cells(r)
            f.write("| " + " | ".join(fmt(c[k]) for k in keys) + " |\n")
        f.write("\nNotes:\n\n")
        for r in rows:
            if r.get("note"):
                f.write(f"- {r['system']} {r.get('players', '')}: {r['note']}\n")
    with open(f"{a.out}/suite_plot.dat", "w") as f:
        f.write("# system players p50_us p90_us p99_us p999_us max_us\n")
        for sysname in ("floord", "peer_redis"):
            f.write(f"# {sysname}\n")
            for r in rows:
                if r["system"] == sysname and "lat" in r:
                    lat = r["lat"]
                    f.write(f"{r['players']} " + " ".join(f"{lat[q] / 1000:.3f}" for q in
                                                          ("p50", "p90", "p99", "p999", "max"))
                            + "\n")
            f.write("\n\n")
        f.write("# original_engine_published (p50 p95 p99 p99.9)\n")
        f.write("400 2400 5100 5800 8200\n")
    print(open(f"{a.out}/suite.md").read())
    print(f"written: {a.out}/suite.csv, {a.out}/suite.md, {a.out}/suite_plot.dat")


if __name__ == "__main__":
    sys.exit(main())
