#!/usr/bin/env python3
"""The suite's driver (perf/suite.sh runs it; method in perf/README.md, "Suite").

Stages, each writing its files into OUT (perf/suite.sh --only picks some):
  latency       for each point (players, fix rate), one floorgen capture (SipHash, 20.48 x 10.24
                m, the clue grid below), then R rounds; in each round every point runs back to
                back: floord paced at capture speed (RX+owner on lcore 0, TX on lcore 1,
                tests/alloc's guard preloaded; /proc/PID/task/*/status of the two lcore threads
                read at the start and the end of the steady state), then a fresh redis-server
                and perf/peer_redis/peer_client on the same capture (both under the allocation
                counter perf/peer_redis/alloc_count.c). Writes runs.csv (every run),
                suite.csv (median and min..max over the R runs, per point and system, ratios,
                the original engine's published figures) and the plots' data.
  throughput    the highest sustained fixes/s per layout (rtc: everything on lcore 0; two: RX +
                owner on 0, TX on 1): the 65 535-player capture replayed as fast as it reads,
                then paced at rising speeds until a run drops, loses a fix or falls behind.
                Writes throughput.csv.
  instructions  instructions per fix by stage: floord under callgrind, collecting only inside
                the lcore loops, on a 400-player capture, for SipHash and HMAC.
                Writes instructions.csv.
  codec         perf/bench_codec (time and callgrind instructions per frame): codec.csv,
                codec_instructions.csv.
  journal       perf/bench_journal on a tmpfs and on a disk: journal.csv.
  game          perf/bench_game.sh: claim latency (400 players over 200 respawning clues, with
                and without a journal) and the 64-player hot spot against uniform load, paced,
                R runs each: game.csv, game.md.
Then suite.md: every stage's summary in one file. Never asserts a time; --check DIR only checks
that the files of a run are there and parse."""

import argparse
import csv
import glob
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

# A grid of 32 clues over the 20.48 x 10.24 m floor, 200 mm discs, respawning 1 s after each
# claim, so claims keep coming at every player count (claim latency needs samples).
CLUES = [(1 + i, 1280 + 2560 * (i % 8), 1280 + 2560 * (i // 8), 200, 10, 1) for i in range(32)]
ORIGINAL = {"players": 400, "p50": 2400, "p95": 5100, "p99": 5800, "p999": 8200,
            "allocs_per_s": 180000, "cs_per_s": 8}  # us, published (DESIGN.md)
QS = ["p50", "p90", "p95", "p99", "p999", "max"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


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
        except (FileNotFoundError, ProcessLookupError):
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


def floor_ini(a, d, path, rx, owners, tx, layout=True):
    with open(path, "w") as f:
        f.write(f"""[floor]
width_m = 20.48
height_m = 10.24
[uplink]
local_ip = 198.18.0.1
keys = {d}/gateways.keys
[downlink]
session_id = 1
""" + (f"[game]\nlayout = {d}/clues.txt\n" if layout else "") + f"""[roster]
file = {d}/roster.csv
[lcores]
rx = {rx}
owners = {owners}
tx = {tx}
ring_size = 65536
[port]
profile = {a.top}/drivers-cfg/net_pcap.ini
""")


def make_point(a, players, rate, gateways, secs, mac="siphash", tag=""):
    d = os.path.join(a.work, f"p{players}-{mac}")
    if not os.path.exists(f"{d}/roster.csv"):
        sh([a.floorgen, "--write-fixtures", d, "--players", str(players), "--gateways", "16",
            "--mac", mac])
        with open(f"{d}/clues.txt", "w") as f:
            f.write("policy = distance\nsettle_ms = 100\n")
            for c in CLUES:
                f.write(",".join(map(str, c)) + "\n")
        floor_ini(a, d, f"{d}/floor.ini", 0, 0, 1)
    cap = os.path.join(d, f"cap-{rate}hz-{secs}s{tag}.pcap")
    if not os.path.exists(cap):
        sh([a.floorgen, "--out", cap, "--roster", f"{d}/roster.csv", "--keys",
            f"{d}/gateways.keys", "--players", str(players), "--rate", str(rate), "--seconds",
            str(secs), "--mac", mac, "--gateways", str(gateways), "--width-m", "20.48",
            "--height-m", "10.24", "--no-check"])
    return d, cap


def floord_cmd(a, cap, ini, report, lcores="0-1", extra=()):
    prefix = f"fcsuite{os.getpid()}"
    return prefix, [a.floord, "-l", lcores, "--no-huge", "-m", "2048", "--no-pci", "--no-shconf",
                    f"--file-prefix={prefix}", "--log-level=*:error",
                    f"--vdev=net_pcap0,rx_pcap={cap},tx_pcap=/dev/null", "--", "--floor", ini,
                    "--replay", "--report-json", report, *extra]


def lat_of(d):
    """A latency_ns-shaped dict in us, with None for a quantile the report lacks."""
    return {q: (d[q] / 1000 if q in d else None) for q in QS} | {"samples": d.get("samples")}


def run_floord(a, d, cap, secs, warm):
    rep, guard_out = f"{d}/floord.json", f"{d}/guard.txt"
    for p in (rep, guard_out):
        if os.path.exists(p):
            os.unlink(p)
    env = dict(os.environ, LD_PRELOAD=a.guard, FC_ALLOC_GUARD_OUT=guard_out)
    prefix, cmd = floord_cmd(a, cap, f"{d}/floor.ini", rep, extra=["--pace"])
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
    row = {"lat": lat_of(r["latency_ns"]),
           "claim": lat_of(r["claim_latency_ns"]) if "claim_latency_ns" in r else None,
           "fixes_per_s": r["owners"]["applied"] / el, "peak_rss_mib": r["run"]["peak_rss_kb"] / 1024,
           "mempool_mib": r["mempool"]["bytes"] / 1048576, "mempool_mbufs": r["mempool"]["size"],
           "mempool_in_use_at_exit": r["mempool"]["in_use_at_exit"],
           "drops": r["drops"]["total"], "applied": r["owners"]["applied"],
           "offered": r["rx"]["fixes"],
           "allocs_per_s": (guard.get("malloc", 0) + guard.get("rte_malloc", 0)) / el,
           "claims": r["game"]["claims"], "guard": guard}
    if len(marks) == 2:
        (t0, (v0, i0, names)), (t1, (v1, i1, _)) = marks
        row.update(vol_cs_per_s=(v1 - v0) / (t1 - t0), invol_cs_per_s=(i1 - i0) / (t1 - t0),
                   window_s=t1 - t0, threads="+".join(names))
    return row


def run_peer(a, d, cap, secs, warm):
    port = free_port()
    acdir = os.path.join(a.work, "alloc")
    shutil.rmtree(acdir, ignore_errors=True)
    os.makedirs(acdir)
    env = dict(os.environ, LD_PRELOAD=a.alloc_shim, FC_ALLOC_COUNT_DIR=acdir) if a.alloc_shim \
        else dict(os.environ)
    rlog = open(f"{d}/redis.log", "w")
    rs = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--dir", d, "--daemonize", "no"],
                          stdout=rlog, stderr=subprocess.STDOUT, env=env)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.02)
        out = f"{d}/peer.json"
        cmd = [a.peer, "--pcap", cap, "--roster", f"{d}/roster.csv", "--keys",
               f"{d}/gateways.keys", "--port", str(port), "--redis-pid", str(rs.pid), "--out", out,
               "--warm-s", str(warm), "--end-s", str(secs - 0.5),
               "--timeout-s", str(a.peer_timeout * secs + 2)]
        if a.alloc_shim:
            cmd += ["--alloc-dir", acdir]
        for c in CLUES:
            cmd += ["--clue", ",".join(map(str, (c[0], c[1], c[2], c[3], c[5])))]
        sh(cmd, env=env)
        hwm = status_kb(rs.pid, "VmHWM")
    finally:
        rs.terminate()
        rs.wait(timeout=30)
        rlog.close()
    with open(out) as f:
        r = json.load(f)
    w = r["window_s"] or 1
    return {"lat": lat_of(r["latency_ns"]), "claim": lat_of(r["claim_latency_ns"]),
            "fixes_per_s": float(r["fixes_per_s"]), "peak_rss_mib": hwm / 1024,
            "drops": r["frames_bad"],
            "applied": r["fixes_stored"], "offered": r["fixes_in_capture"],
            "vol_cs_per_s": (r["client_vol_cs"] + r["redis_vol_cs"]) / w,
            "invol_cs_per_s": (r["client_invol_cs"] + r["redis_invol_cs"]) / w, "window_s": w,
            "allocs_per_s": ((r["client_allocs"] + r["redis_allocs"]) / w
                             if r["allocs_counted"] else None),
            "client_allocs_per_s": r["client_allocs"] / w if r["allocs_counted"] else None,
            "redis_allocs_per_s": r["redis_allocs"] / w if r["allocs_counted"] else None,
            "client_vol_cs_per_s": r["client_vol_cs"] / w,
            "redis_vol_cs_per_s": r["redis_vol_cs"] / w,
            "threads": "client+redis-server (all threads)", "peer": r, "claims": r["claims"],
            "stopped": r["stopped_at_timeout"]}


# ---- aggregation over the R runs ------------------------------------------------------------

RUN_KEYS = ["fixes_per_s", "peak_rss_mib", "vol_cs_per_s", "invol_cs_per_s", "allocs_per_s"]


def flat(run):
    """One run's figures as a flat dict of numbers (None where there is none)."""
    f = {k: run.get(k) for k in RUN_KEYS}
    for q in QS:
        f[f"{q}_us"] = run["lat"][q]
        f[f"claim_{q}_us"] = run["claim"][q] if run.get("claim") else None
    f["samples"] = run["lat"]["samples"]
    f["claim_samples"] = run["claim"]["samples"] if run.get("claim") else None
    for k in ("mempool_mib", "mempool_in_use_at_exit", "client_allocs_per_s", "redis_allocs_per_s", "client_vol_cs_per_s",
              "redis_vol_cs_per_s", "claims", "drops", "applied", "offered", "stopped"):
        f[k] = run.get(k)
    return f


def agg(values):
    v = [x for x in values if x is not None]
    if not v:
        return None, None, None
    return statistics.median(v), min(v), max(v)


def fmt(v):
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1e6:
            return f"{v / 1e6:.3g} M"
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}".replace(",", " ")
    return str(v)


def spread(m, lo, hi):
    """'median (min..max)' for the markdown table."""
    if m is None:
        return "n/a"
    if lo == hi:
        return fmt(m)
    return f"{fmt(m)} ({fmt(lo)}..{fmt(hi)})"


def rng(lo, hi):
    """'min..max' for the markdown table."""
    if lo is None:
        return "n/a"
    return fmt(lo) if lo == hi else f"{fmt(lo)}..{fmt(hi)}"


def stage_latency(a, md):
    # (players, Hz, gateways): the players sweep at 20 Hz (65 535 at 30 as issue 3 states it),
    # and the fix-rate sweep at 400 and 65 535 players.
    if a.smoke:
        points = [(200, 20, 4), (400, 20, 8)]
    else:
        points = [(400, 10, 8), (400, 20, 8), (400, 50, 8), (400, 100, 8), (4000, 20, 16),
                  (20000, 20, 16), (65535, 10, 16), (65535, 30, 16)]
    secs = a.secs
    warm = min(1.5, secs / 4)
    caps = {}
    for players, hz, gw in points:
        caps[(players, hz)] = make_point(a, players, hz, gw, secs)
    log(f"latency: {len(points)} points x {a.repeat} rounds, {secs} s captures")
    runs = []  # (system, players, hz, round, run)
    for rnd in range(a.repeat):
        for players, hz, gw in points:
            d, cap = caps[(players, hz)]
            f = run_floord(a, d, cap, secs, warm)
            runs.append(("floord", players, hz, rnd, f))
            msg = (f"round {rnd + 1}/{a.repeat} {players} p {hz} Hz: floord p50 "
                   f"{f['lat']['p50']:.1f} us p99.9 {f['lat']['p999']:.1f} us")
            if a.peer:
                p = run_peer(a, d, cap, secs, warm)
                runs.append(("peer_redis", players, hz, rnd, p))
                msg += (f"; peer p50 {p['lat']['p50']:.0f} us, {p['fixes_per_s']:.0f} fixes/s"
                        + (" (stopped)" if p["stopped"] else ""))
            log(msg)
    # Every run, raw.
    cols = ["system", "players", "rate_hz", "round"] + list(flat(runs[0][4]).keys())
    with open(f"{a.out}/runs.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for s, pl, hz, rnd, r in runs:
            fl = flat(r)
            w.writerow([s, pl, hz, rnd + 1] + ["" if fl[k] is None else
                                               (f"{fl[k]:.6g}" if isinstance(fl[k], float)
                                                else fl[k]) for k in cols[4:]])
    # Medians and spread per (system, point).
    rows = []
    for players, hz, gw in points:
        for system in ("floord", "peer_redis"):
            rs = [r for s, pl, h, _, r in runs if (s, pl, h) == (system, players, hz)]
            if not rs:
                continue
            fl = [flat(r) for r in rs]
            row = {"system": system, "players": players, "rate_hz": hz,
                   "offered_fixes_per_s": players * hz, "runs": len(rs)}
            for k in fl[0]:
                if k in ("stopped",):
                    row[k] = sum(1 for x in fl if x[k])
                    continue
                row[k], row[k + "_min"], row[k + "_max"] = agg([x[k] for x in fl])
            row["claim_reported"] = any(r.get("claim") for r in rs)
            rows.append(row)
    for players, hz, gw in points:
        f = next((r for r in rows if (r["system"], r["players"], r["rate_hz"])
                  == ("floord", players, hz)), None)
        p = next((r for r in rows if (r["system"], r["players"], r["rate_hz"])
                  == ("peer_redis", players, hz)), None)
        if f and p:
            ratio = {"system": "ratio_floord_over_peer", "players": players, "rate_hz": hz,
                     "runs": min(f["runs"], p["runs"])}
            for k in [f"{q}_us" for q in QS] + [f"claim_{q}_us" for q in QS] + RUN_KEYS:
                ratio[k] = f[k] / p[k] if f.get(k) is not None and p.get(k) else None
            rows.append(ratio)
    orig = {"system": "original_engine_published", "players": ORIGINAL["players"],
            "allocs_per_s": ORIGINAL["allocs_per_s"], "vol_cs_per_s": ORIGINAL["cs_per_s"]}
    for q in ("p50", "p95", "p99", "p999"):
        orig[f"{q}_us"] = ORIGINAL[q]
    rows.append(orig)
    # Ratios to the original engine, at its 400 players (its fix rate is not published: 20 Hz,
    # the demo's, is compared).
    for system in ("floord", "peer_redis"):
        r = next((r for r in rows if (r["system"], r.get("players"), r.get("rate_hz"))
                  == (system, ORIGINAL["players"], 20)), None)
        if r is None:
            continue
        ratio = {"system": f"ratio_{system}_over_original", "players": ORIGINAL["players"],
                 "rate_hz": 20, "runs": r["runs"]}
        for k in [f"{q}_us" for q in ("p50", "p95", "p99", "p999")] + ["allocs_per_s",
                                                                      "vol_cs_per_s"]:
            ratio[k] = r[k] / orig[k] if r.get(k) is not None else None
        rows.append(ratio)
    out_cols = ["system", "players", "rate_hz", "offered_fixes_per_s", "runs"]
    for k in ["fixes_per_s"] + [f"{q}_us" for q in QS] + ["samples"] + \
            [f"claim_{q}_us" for q in QS] + ["claim_samples", "claims", "peak_rss_mib",
                                             "mempool_mib", "vol_cs_per_s", "invol_cs_per_s",
                                             "allocs_per_s", "client_allocs_per_s",
                                             "redis_allocs_per_s", "drops"]:
        out_cols += [k, k + "_min", k + "_max"]
    out_cols += ["stopped"]
    with open(f"{a.out}/suite.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(out_cols)
        for r in rows:
            w.writerow(["" if r.get(k) is None else (f"{r[k]:.6g}" if isinstance(r[k], float)
                                                      else r[k]) for k in out_cols])
    # The plots' data: one block per system and sweep (gnuplot index).
    with open(f"{a.out}/suite_plot.dat", "w") as f:
        f.write("# x median(p50 p95 p99 p999) then min max of each (us); see suite_plot.gp\n")
        for sweep, sel in (("players", lambda r: r["rate_hz"] == 20 or r["players"] == 65535
                            and r["rate_hz"] == 30),
                           ("rate400", lambda r: r["players"] == 400),
                           ("rate65535", lambda r: r["players"] == 65535)):
            for system in ("floord", "peer_redis"):
                f.write(f"# {system} {sweep}\n")
                blk = sorted((r for r in rows if r["system"] == system and sel(r)),
                             key=lambda r: r["players"] if sweep == "players" else r["rate_hz"])
                for r in blk:
                    x = r["players"] if sweep == "players" else r["rate_hz"]
                    vals = []
                    for q in ("p50", "p95", "p99", "p999"):
                        vals += [r[f"{q}_us"], r[f"{q}_us_min"], r[f"{q}_us_max"]]
                    f.write(f"{x} " + " ".join(f"{v:.3f}" for v in vals) + "\n")
                if not blk:  # an empty block would shift gnuplot's index numbers
                    f.write(" ".join(["NaN"] * 13) + "\n")
                f.write("\n\n")
        f.write("# original_engine_published at 400 players (p50 p95 p99 p99.9, us)\n")
        f.write("400 2400 5100 5800 8200\n\n\n")
        for system in ("floord", "peer_redis"):  # claim latency against players: index 7, 8
            f.write(f"# {system} claim latency, players\n")
            blk = sorted((r for r in rows if r["system"] == system and r["rate_hz"] == 20
                          or r["system"] == system and r["players"] == 65535
                          and r["rate_hz"] == 30), key=lambda r: r["players"])
            n = 0
            for r in blk:
                vals = []
                for q in ("p50", "p95", "p99", "p999"):
                    vals += [r[f"claim_{q}_us"], r[f"claim_{q}_us_min"], r[f"claim_{q}_us_max"]]
                if None in vals:
                    continue
                f.write(f"{r['players']} " + " ".join(f"{v:.3f}" for v in vals) + "\n")
                n += 1
            if not n:
                f.write(" ".join(["NaN"] * 13) + "\n")
            f.write("\n\n")
    # The tables: medians, then the spread, then claims, then per point notes.
    md.append(f"## Latency, memory, context switches, allocations ({a.repeat} runs a point)\n")
    if not a.peer:
        md.append("**The peer was not run**: redis-server, libhiredis-dev or libsodium-dev is "
                  "missing (deploy/install-deps.sh installs them).\n")
    md.append("Median over the runs; latency in µs: RX burst -> applied for floord, scheduled "
              "arrival -> GEOADD reply for the peer; ratio rows are floord / peer (below 1 is "
              "better for floord, except fixes/s). vol/invol cs/s: voluntary/involuntary context "
              "switches per second of floord's two lcore threads, of the peer's client and "
              "redis-server (all threads). allocs/s: floord's own malloc/rte_malloc calls in its "
              "lcore loops (tests/alloc's guard); the peer's malloc family calls in the client "
              "and redis-server (perf/peer_redis/alloc_count.c).\n")
    head = ["system", "players", "Hz", "fixes/s", "p50", "p90", "p95", "p99", "p99.9", "max",
            "peak RSS MiB", "vol cs/s", "invol cs/s", "allocs/s"]
    keys = ["fixes_per_s"] + [f"{q}_us" for q in QS] + ["peak_rss_mib", "vol_cs_per_s",
                                                        "invol_cs_per_s", "allocs_per_s"]

    def table(head, rows_, cells):
        md.append("| " + " | ".join(head) + " |")
        md.append("|---|---:|---:|" + "---:|" * (len(head) - 3))
        for r in rows_:
            md.append("| " + " | ".join([r["system"].replace("_", " "), str(r.get("players", "")),
                                         str(r.get("rate_hz", ""))] + cells(r)) + " |")
        md.append("")

    def med(r, k):
        v = r.get(k)
        if v is None:
            return ""
        return f"{v:.2g}" if r["system"].startswith("ratio") else fmt(float(v))
    order = []
    for players, hz, gw in points:
        order += [r for r in rows if r.get("players") == players and r.get("rate_hz") == hz
                  and not r["system"].endswith("_over_original")]
    order += [r for r in rows if r["system"].startswith("original")
              or r["system"].endswith("_over_original")]
    table(head, order, lambda r: [med(r, k) for k in keys])
    md.append(f"Spread: min..max over the {a.repeat} runs.\n")
    table(["system", "players", "Hz", "fixes/s", "p50", "p95", "p99", "p99.9", "max", "vol cs/s",
           "allocs/s"],
          [r for r in order if r["system"] in ("floord", "peer_redis")],
          lambda r: [rng(r.get(k + "_min"), r.get(k + "_max")) for k in ("fixes_per_s", "p50_us", "p95_us", "p99_us",
                                            "p999_us", "max_us", "vol_cs_per_s",
                                            "allocs_per_s")])
    md.append("### Claim latency (µs, median of the runs)\n")
    md.append("floord: the report's `claim_latency_ns`: from the end of the claim's settle "
              "window on floord's clock (the qualifying fix's measurement time + settle_ms, "
              "mapped to the TSC) to its packet handed to the NIC (docs/game.md 5.6), shown "
              "when this floord has it. The peer: the claimant's last stored fix (its scheduled arrival) -> the claim's "
              "PUBLISH reply; it decides at the next tick, without a settle window.\n")

    def claim_cells(r):
        if r["system"] == "floord" and not r.get("claim_reported"):
            return [fmt(r.get("claims")), "n/a (not in this floord)"] + [""] * 6
        if r["system"].startswith("ratio"):
            return [""] + [med(r, f"claim_{q}_us") for q in QS] + [""]
        return [fmt(r.get("claims")), *(med(r, f"claim_{q}_us") for q in QS),
                fmt(r.get("claim_samples"))]
    table(["system", "players", "Hz", "claims", "p50", "p90", "p95", "p99", "p99.9", "max",
           "samples"],
          [r for r in order if r["system"] in ("floord", "peer_redis") or
           r["system"].endswith("_over_peer") and any(x.get("claim_reported") for x in rows
                                                     if x["system"] == "floord")],
          claim_cells)
    md.append("Per point (medians): what was applied or stored, floord's mempool, the peer's "
              "allocations and voluntary switches split between client and redis-server, frames "
              "that failed the peer's MAC check, runs stopped at the time limit.\n")
    for r in order:
        if r["system"] == "floord":
            md.append(f"- floord {r['players']} p {r['rate_hz']} Hz: {fmt(r['applied'])}"
                      f"/{fmt(r['offered'])} applied"
                      + (" (the rest: older than a fix already applied)"
                         if r["applied"] != r["offered"] else "") + f", drops {fmt(r['drops'])}, mempool {fmt(r['mempool_mib'])} MiB "
                      f"({fmt(r['mempool_in_use_at_exit'])} mbufs in use at exit), claims "
                      f"{fmt(r['claims'])}")
        elif r["system"] == "peer_redis":
            md.append(f"- peer {r['players']} p {r['rate_hz']} Hz: {fmt(r['applied'])}"
                      f"/{fmt(r['offered'])} stored, {fmt(r['drops'])} frames failed the MAC, "
                      f"allocs/s client {fmt(r['client_allocs_per_s'])} + redis "
                      f"{fmt(r['redis_allocs_per_s'])}, vol cs/s client "
                      f"{fmt(r['client_vol_cs_per_s'])} + redis {fmt(r['redis_vol_cs_per_s'])}"
                      + (f"; stopped at {a.peer_timeout:g}x the capture's length in "
                         f"{r['stopped']}/{r['runs']} runs" if r["stopped"] else ""))
    md.append("")


# ---- throughput -----------------------------------------------------------------------------

def sweep(a, cap, ini, lcores, secs, speeds):
    """The highest pace (x capture speed) at which a run applies every fix, drops nothing and
    keeps up; up from 1, or down to 0.25 when 1 fails. (speed or None, [speeds tried])."""
    def ok(s):
        rep = f"{os.path.dirname(ini)}/tp.json"
        prefix, cmd = floord_cmd(a, cap, ini, rep, lcores=lcores, extra=[f"--pace={s}"])
        sh(cmd)
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{prefix}"])
        r = json.load(open(rep))
        return (r["drops"]["total"] == 0 and r["owners"]["records"] == r["rx"]["fixes"]
                and r["run"]["elapsed_ns"] / 1e9 <= 1.05 * secs / s + 0.3)
    best, tried = None, []
    for s in speeds:
        tried.append(s)
        if not ok(s):
            break
        best = s
    if best is None:
        for s in (0.5, 0.25):
            tried.append(s)
            if ok(s):
                best = s
                break
    return best, tried


def stage_throughput(a, md):
    players, hz, gw = (400, 20, 8) if a.smoke else (65535, 30, 16)
    secs = 2 if a.smoke else 3
    d, cap = make_point(a, players, hz, gw, secs, tag="-tp")
    speeds = [1, 2] if a.smoke else [1, 2, 3, 4, 5, 6, 8, 10, 12, 16]
    reps = 1 if a.smoke else min(a.repeat, 3)
    offered = players * hz
    workloads = [("tracking", False), ("game", True)]
    layouts = [("rtc", (0, 0, 0), "0"), ("two", (0, 0, 1), "0-1")]
    log(f"throughput: {players} p x {hz} Hz, {secs} s, tracking and game, rtc and two, "
        f"{reps} rounds")
    res = {}
    for rnd in range(reps):
        for wl, game in workloads:
            for lay, (rx, own, tx), lcores in layouts:
                ini = f"{d}/floor-{wl}-{lay}.ini"
                floor_ini(a, d, ini, rx, own, tx, layout=game)
                rep = f"{d}/tp.json"
                prefix, cmd = floord_cmd(a, cap, ini, rep, lcores=lcores)
                sh(cmd)
                subprocess.run(["rm", "-rf", f"/var/run/dpdk/{prefix}"])
                r = json.load(open(rep))
                fast = r["owners"]["records"] / (r["run"]["elapsed_ns"] / 1e9)
                best, tried = sweep(a, cap, ini, lcores, secs, speeds)
                res.setdefault((wl, lay), []).append((fast, float(offered * (best or 0)), best,
                                                      tried))
                log(f"round {rnd + 1}/{reps} {wl} {lay}: as fast as it reads "
                    f"{fast / 1e6:.2f} M/s, sustained {offered * (best or 0) / 1e6:.2f} M/s "
                    f"(speed {best})")
    with open(f"{a.out}/throughput.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "layout", "players", "rate_hz", "runs", "unpaced_fixes_per_s",
                    "unpaced_min", "unpaced_max", "sustained_fixes_per_s", "sustained_min",
                    "sustained_max", "speeds_passed"])
        md.append(f"## Highest sustained fixes/s per layout ({reps} runs)\n")
        md.append(f"{players} players x {hz} Hz ({offered:,} fixes/s at capture speed), {secs} s "
                  "capture, SipHash; tracking: no clue layout; game: the clue grid of the latency "
                  f"points. Paced at {speeds} x capture speed until a run drops, loses a fix or "
                  "takes over 5 % (+0.3 s) longer than the paced time (down to 0.5 and 0.25 if 1 "
                  "fails). Sustained = the highest offered rate that passed (median, min..max); "
                  "unpaced = replayed as fast as it reads, in lockstep (no drop by "
                  "construction).\n")
        md.append("| workload | layout | as fast as it reads, fixes/s | sustained fixes/s | "
                  "speeds passed, per run |\n|---|---|---:|---:|---|")
        for (wl, lay), v in res.items():
            u, s_ = agg([x[0] for x in v]), agg([x[1] for x in v])
            w.writerow([wl, lay, players, hz, len(v), *(f"{x:.0f}" for x in u),
                        *(f"{x:.0f}" for x in s_), " ".join(str(x[2]) for x in v)])
            top = ", ".join("none" if x[2] is None else f"{x[2]:g}x" for x in v)
            capped = any(x[2] == speeds[-1] for x in v)
            md.append(f"| {wl} | {lay} | {spread(*u)} | {spread(*s_)} | {top}"
                      f"{' (the top of the sweep: a lower bound)' if capped else ''} |")
    md.append("\nrtc: RX, owner and TX on lcore 0; two: RX + owner on lcore 0, TX on lcore 1.\n")


# ---- instructions per fix by stage ----------------------------------------------------------

def stage_instructions(a, md):
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        md.append("## Instructions per fix\n\nnot run: valgrind not installed\n")
        log("instructions: valgrind not installed, skipped")
        return
    macs = ["siphash"] if a.smoke else ["siphash", "hmac"]
    players, secs = (200, 1) if a.smoke else (400, 2)
    rows = []
    for mac in macs:
        d, cap = make_point(a, players, 20, 8, secs, mac=mac, tag="-cg")
        ini = f"{d}/floor-cg.ini"
        floor_ini(a, d, ini, 0, 0, 0)
        cg, rep = f"{d}/callgrind.out", f"{d}/cg.json"
        log(f"instructions: callgrind, {players} p x 20 Hz x {secs} s, {mac}")
        prefix = f"fccg{os.getpid()}"
        sh(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}",
            "--toggle-collect=lcore_loop", a.floord, "-l", "0", "--no-huge", "-m", "512",
            "--no-pci", "--no-shconf", f"--file-prefix={prefix}", "--log-level=*:error",
            f"--vdev=net_pcap0,rx_pcap={cap},tx_pcap=/dev/null", "--", "--floor", ini,
            "--replay", "--report-json", rep], stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{prefix}"])
        fixes = json.load(open(rep))["owners"]["records"]
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", cg], capture_output=True,
                             text=True, check=True).stdout

        def cost(pattern):
            best = 0
            for line in ann.splitlines():
                m = re.match(r"\s*([\d,]+)\s+\(.*?\)\s+(.*)", line)
                if m and re.search(pattern, m.group(2)):
                    best = max(best, int(m.group(1).replace(",", "")))
            return best
        for stage, pat in (("total", r"PROGRAM TOTALS"), ("rx", r"rx_fp\.c:fc_rx_poll"),
                           ("rx.accept", r"uplink\.c:fc_up_accept"),
                           ("rx.rte_hash", r"rte_hash_lookup_bulk_data"),
                           ("owner", r"owner_fp\.c:fc_owner_poll"), ("tx", r":fc_tx_poll")):
            c = cost(pat)
            rows.append((mac, stage, c, fixes, c / fixes if fixes else 0))
    with open(f"{a.out}/instructions.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mac", "stage", "instructions", "fixes", "instructions_per_fix"])
        for r in rows:
            w.writerow([*r[:4], f"{r[4]:.0f}"])
    md.append(f"## Instructions per fix by stage (callgrind)\n\n{players} players x 20 Hz x "
              f"{secs} s from 8 gateways, run to completion on one lcore, the clue grid; "
              "collected only inside `lcore_loop`; inclusive costs (rx contains accept and the "
              "tag lookup; TX costs per tick, so per fix it falls as the rate rises). "
              "Instruction counts do not move with the machine's load.\n")
    md.append("| mac | total | rx | rx.accept | rx.rte_hash | owner | tx |\n"
              "|---|---:|---:|---:|---:|---:|---:|")
    for mac in macs:
        v = {s: p for m, s, _, _, p in rows if m == mac}
        md.append(f"| {mac} | " + " | ".join(f"{v[s]:.0f}" for s in
                                             ("total", "rx", "rx.accept", "rx.rte_hash",
                                              "owner", "tx")) + " |")
    md.append("")


# ---- codec and journal micro-benchmarks -----------------------------------------------------

def stage_codec(a, md):
    bench = f"{a.build}/perf/bench_codec"
    log("codec: bench_codec")
    sh([bench, "--out", f"{a.out}/codec.csv"] + (["--smoke"] if a.smoke else []))
    rows = list(csv.DictReader(open(f"{a.out}/codec.csv")))
    md.append("## Codec (bench_codec: the uplink receive path, ns per frame)\n")
    md.append("| mac | fixes | stage | ns/frame p50 | p90 | p99 | ns/fix p50 |\n"
              "|---|---:|---|---:|---:|---:|---:|")
    for r in rows:
        md.append(f"| {r['mac']} | {r['fixes_per_frame']} | {r['stage']} | "
                  f"{r['ns_per_frame_p50']} | {r['ns_per_frame_p90']} | {r['ns_per_frame_p99']} "
                  f"| {r['ns_per_fix_p50']} |")
    md.append("")
    if not shutil.which("valgrind"):
        return
    cgdir = os.path.join(a.work, "codec_cg")
    shutil.rmtree(cgdir, ignore_errors=True)
    os.makedirs(cgdir)
    log("codec: callgrind")
    sh(["valgrind", "--tool=callgrind", "--collect-atstart=no",
        f"--callgrind-out-file={cgdir}/callgrind.out.%p", bench, "--callgrind"],
       stderr=subprocess.DEVNULL)
    parts = sorted(glob.glob(f"{cgdir}/callgrind.out.*.*"), key=lambda p: int(p.rsplit(".", 1)[1]))
    with open(f"{a.out}/codec_instructions.csv", "w") as f:
        f.write("mac,fixes_per_frame,stage,instr_per_frame,instr_per_fix\n")
        for p in parts:
            label = total = None
            for line in open(p):
                if line.startswith("desc: Trigger: Client Request: "):
                    label = line.split(": ", 2)[2].strip().split(": ", 1)[-1]
                elif line.startswith("totals: "):
                    total = int(line.split()[1])
            if label and total is not None:
                mac, fixes, stage, frames = label.split(",")
                pf = total / int(frames)
                f.write(f"{mac},{fixes},{stage},{pf:.0f},{pf / int(fixes):.1f}\n")


def stage_journal(a, md):
    bench = f"{a.build}/perf/bench_journal"
    out = f"{a.out}/journal.csv"
    dirs = [("tmpfs", "/dev/shm"), ("disk", "/var/tmp")]
    lines = []
    for label, d in dirs:
        if not os.access(d, os.W_OK):
            continue
        log(f"journal: bench_journal on {d}")
        tmp = f"{a.work}/journal-{label}.csv"
        sh([bench, "--dir", d, "--label", label, "--out", tmp]
           + (["--smoke"] if a.smoke else ["--samples", "2000"]))
        got = open(tmp).read().splitlines()
        lines += got if not lines else got[1:]
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    md.append("## Journal (bench_journal: award append -> durable, µs)\n")
    md.append("| dir | load | samples | p50 | p90 | p99 | p99.9 | max | records/sync |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in csv.DictReader(open(out)):
        md.append(f"| {r['label']} {r['dir']} | {r['load']} | {r['samples']} | {r['p50_us']} | "
                  f"{r['p90_us']} | {r['p99_us']} | {r['p999_us']} | {r['max_us']} | "
                  f"{r['records_per_sync']} |")
    md.append("")


def stage_game(a, md):
    """perf/bench_game.sh: claim latency with and without a journal, and the 64-player hot
    spot against uniform load, paced, R runs each (smoke: one quick run)."""
    log("game: perf/bench_game.sh")
    env = dict(os.environ, FC_PERF_BUILD_DIR=a.build, REPEAT=str(a.repeat))
    sh(["bash", f"{a.top}/perf/bench_game.sh", "--out", a.out] + (["--quick"] if a.smoke else []),
       env=env)
    md.append("## The game (perf/bench_game.sh: claim latency, hot spot against uniform)\n")
    text = open(f"{a.out}/game.md").read().split("\n", 2)
    md.append(text[2] if len(text) > 2 else "")


# ---- the smoke check: files there and parsing, never a timing -------------------------------

def check(out, stages):
    want = {"latency": ["suite.csv", "runs.csv", "suite_plot.dat", "suite_latency.png",
                        "suite_rate.png", "suite_claim.png"],
            "throughput": ["throughput.csv"],
            "instructions": ["instructions.csv"] if shutil.which("valgrind") else [],
            "codec": ["codec.csv"] + (["codec_instructions.csv"] if shutil.which("valgrind")
                                      else []),
            "journal": ["journal.csv"],
            "game": ["game.csv", "game.md"]}
    bad = []
    for st in stages:
        for name in want[st]:
            p = os.path.join(out, name)
            if name.endswith(".png") and not shutil.which("gnuplot"):
                continue
            if not os.path.isfile(p) or os.path.getsize(p) == 0:
                bad.append(f"{name}: missing or empty")
                continue
            if name.endswith(".csv"):
                rows = list(csv.DictReader(open(p)))
                if not rows:
                    bad.append(f"{name}: no rows")
                for r in rows:
                    for k, v in r.items():
                        if k.endswith(("_us", "_per_s", "_per_fix")) and v not in ("", None):
                            try:
                                float(v)
                            except ValueError:
                                bad.append(f"{name}: {k}={v!r} is not a number")
            elif name.endswith(".png"):
                if not shutil.which("gnuplot"):
                    continue
                if open(p, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
                    bad.append(f"{name}: not a PNG")
    md = os.path.join(out, "suite.md")
    if not os.path.isfile(md) or "|" not in open(md).read():
        bad.append("suite.md: missing or without a table")
    for b in bad:
        print("check:", b)
    print(f"check: {'FAILED' if bad else 'ok'}: {out} ({', '.join(stages)})")
    return 1 if bad else 0


STAGES = ["latency", "throughput", "instructions", "codec", "journal", "game"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build")
    ap.add_argument("--work")
    ap.add_argument("--out", required=True)
    ap.add_argument("--peer")
    ap.add_argument("--alloc-shim")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--repeat", type=int)
    ap.add_argument("--secs", type=float)
    ap.add_argument("--peer-timeout", type=float, default=2.0,
                    help="stop the peer at this many times the capture's length")
    ap.add_argument("--only", default=",".join(STAGES))
    ap.add_argument("--check", action="store_true", help="only check OUT's files")
    a = ap.parse_args()
    stages = [s for s in a.only.split(",") if s]
    for s in stages:
        if s not in STAGES:
            raise SystemExit(f"unknown stage {s}; stages: {','.join(STAGES)}")
    if a.check:
        return check(a.out, stages)
    a.top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    a.floord = f"{a.build}/app/floord/floord"
    a.floorgen = f"{a.build}/app/floorgen/floorgen"
    a.guard = f"{a.build}/tests/alloc/fc_alloc_guard.so"
    a.repeat = a.repeat or (1 if a.smoke else 5)
    a.secs = a.secs or (2 if a.smoke else 5)
    a.load0 = " ".join(open("/proc/loadavg").read().split()[:3])  # noise: what else ran
    t0 = time.monotonic()
    md = []
    for s in stages:
        globals()[f"stage_{s}"](a, md)
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        redis = subprocess.run(["redis-server", "--version"], capture_output=True,
                               text=True).stdout.split()[2]
    except (OSError, IndexError):
        redis = "not installed"
    head = [f"# floorcast benchmark suite{' (SMOKE: the numbers mean nothing)' if a.smoke else ''}",
            "",
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs, "
            f"{cpu}; kernel {platform.release()}; load average before the run "
            f"{a.load0}, after {' '.join(open('/proc/loadavg').read().split()[:3])}; "
            f"redis-server {redis.removeprefix('v=')}; stages "
            f"{', '.join(stages)}; {a.repeat} runs a latency point, {a.secs:g} s captures; "
            f"took {(time.monotonic() - t0) / 60:.1f} min.", ""]
    with open(f"{a.out}/suite.md", "w") as f:
        f.write("\n".join(head + md) + "\n")
    print(open(f"{a.out}/suite.md").read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
