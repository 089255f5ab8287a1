#!/usr/bin/env python3
"""The replay suite: captures built by mkcapture, replayed through floord (net_pcap in and out),
the output decoded by an independent decoder (decode_capture, on ref_codec).

  test_replay.py FLOORD game          a game: continuity, ticks, positions, counters, mempool
  test_replay.py FLOORD layouts       DESIGN invariant 5: every layout, byte-identical output
  test_replay.py FLOORD hostile       invariant 6: bad input is counted by reason and changes
                                      nothing: the output equals the clean game's
  test_replay.py FLOORD refusals      bad configuration and layouts fail before any packet
  test_replay.py FLOORD hotspot       64 players step onto one clue in one tick: one award, 63
                                      contenders listed, nothing dropped
  test_replay.py FLOORD teleport      a tag jumping into a clue's disc is implausible, whatever
                                      it did before: it does not win the clue
  test_replay.py FLOORD respawn       a respawning clue is awarded, reopened and awarded again
  test_replay.py FLOORD claims        the game: players converge on a clue on the border of two
                                      owners' stripes; one award to the player an independent
                                      reference finds first, the same bytes in every layout
  test_replay.py FLOORD control FLOORCTL  floorctl's commands on a paced replay: each echoed in
                                      order, refused where the round does not allow it; bad
                                      layouts refused by file, line and reason with round 1's
                                      award unchanged; a layout loaded during round 1 played in
                                      round 2; roster add/remove counted exactly from their
                                      ticks; the audit of the award from the journal; a
                                      restart replays the layout and roster commands
  test_replay.py FLOORD control-2rx FLOORCTL  the same on 2 RX x 2 owners
  test_replay.py FLOORD skew          a gateway's clock off by tens of ms: floord's per-gateway
                                      offset estimate still crowns the player who was first
  test_replay.py FLOORD retransmit    subscribers' retransmit requests in the capture: events
                                      resent byte for byte, unicast; each refusal by its reason
  test_replay.py FLOORD recovery      invariant 7: floord SIGKILLed after an award, restarted on
                                      the same journal: the award and the score come back, the
                                      clue is not awarded twice
"""

import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "wire"))
from harness import Checks  # noqa: E402


def game(floord, work, ok):
    cap, roster, keys, summ = harness.make_capture(work, "game", players=40, gateways=4,
                                                   seconds=4.0)
    floor = os.path.join(work, "floor.ini")
    harness.write_floor(floor, roster, keys, "rx+owner/tx")
    out = os.path.join(work, "game.out.pcap")
    _, rep, _ = harness.run_floord(floord, floor, [cap], out, work, "game")
    s, _ = harness.decode(out)
    exp = summ["expected_counters"]

    ok(not s["problems"], "the output decodes with no problem", s["problems"][:5])
    ch0 = s["channels"]["0"]["packets"]
    ch1 = s["channels"]["1"]["packets"]
    ok([p[0] for p in ch0] == list(range(1, len(ch0) + 1)), "channel 0 packet_seq runs 1, 2, 3...")
    ok([p[0] for p in ch1] == list(range(1, len(ch1) + 1)), "channel 1 packet_seq runs 1, 2, 3...")
    ticks = sorted({p[1] for p in ch0})
    ok(ticks == list(range(1, ticks[-1] + 1)), "every tick has a channel-0 packet")
    times = {p[1]: p[2] for p in ch0}
    ok(all(times[t + 1] - times[t] == 50_000_000 for t in ticks[:-1]),
       "one tick every 50 ms of capture time")
    span = summ["last_ts_ns"] - summ["first_ts_ns"]
    ok(abs(rep["tx"]["ticks"] - span / 50e6) <= 2, "ticks cover the capture",
       f"{rep['tx']['ticks']} ticks for {span / 1e9:.2f} s")
    ok(ch0[-1][3] == 0xFFFF and ch1[-1][3] == 0xFFFF, "both channels end with the end of session")
    ok(s["snapshots_complete"] >= 3, "the snapshot loop ran once a second",
       s["snapshots_complete"])

    # Final positions: what a subscriber holds is within the dead band (50 mm) plus rounding of
    # the truth, for every player.
    want = summ["final_positions"]
    got = s["final_state"]["positions"]
    worst = 0
    for p, w in want.items():
        g = got.get(str(p))
        if g is None:
            worst = 1e9
            break
        worst = max(worst, abs(g["x_cm"] * 10 - w["x_mm"]), abs(g["y_cm"] * 10 - w["y_mm"]))
    ok(len(got) == len(want) and worst <= 55, "every player's final position within the dead band",
       f"{len(got)}/{len(want)} players, worst {worst} mm")
    # The last snapshot agrees with the incremental channel as of its tick.
    snap = s["last_snapshot"]
    ok(snap and len(snap["positions"]) == len(want), "the last snapshot lists every player")

    # Counters: floord counted exactly what mkcapture sent.
    ok(rep["rx"]["gw_frames"] == exp["frames_accepted"] and rep["rx"]["fixes"] == exp["fix_records"],
       "every gateway frame and fix accepted", (rep["rx"], exp))
    ok(rep["drops"]["total"] == 0, "no drops in a clean game", rep["drops"])
    ok(rep["owners"]["applied"] == exp["owners.applied"],
       "applied fixes as sent", (rep["owners"], exp))
    ok(rep["mempool"]["in_use_at_exit"] == 0, "every mbuf back in the mempool after the run")


def layouts(floord, work, ok):
    cap, roster, keys, _ = harness.make_capture(work, "lay", players=30, gateways=4,
                                                seconds=3.0, scenario="hostile")
    split = harness.split_by_gateway(cap, 2, os.path.join(work, "lay.q"))
    ref = None
    for name, (_, _, _, nq) in harness.LAYOUTS.items():
        floor = os.path.join(work, f"floor-{name.replace('/', '_')}.ini")
        harness.write_floor(floor, roster, keys, name)
        out = os.path.join(work, f"lay-{name.replace('/', '_')}.out.pcap")
        harness.run_floord(floord, floor, [cap] if nq == 1 else split, out, work,
                           name.replace("/", "_"))
        s, frames = harness.decode(out)
        ok(not s["problems"], f"{name}: output decodes with no problem", s["problems"][:3])
        if ref is None:
            ref = (name, frames)
            ok(len(frames) > 100, f"{name}: {len(frames)} frames")
            continue
        same = frames == ref[1]
        detail = ""
        if not same:
            n = next((i for i, (a, b) in enumerate(zip(frames, ref[1])) if a != b),
                     min(len(frames), len(ref[1])))
            detail = f"{len(frames)} vs {len(ref[1])} frames, first difference at frame {n}"
        ok(same, f"{name}: byte-identical to {ref[0]}", detail)


def hostile(floord, work, ok):
    bad, roster, keys, summ = harness.make_capture(work, "bad", players=30, gateways=4,
                                                   seconds=3.0, scenario="hostile", seed=7)
    # The same capture without the frames floord must drop: what state may depend on.
    dropped = {h["frame_index"] for h in summ["hostile"]
               if h["counter"].split(".")[0] in ("net", "uplink", "pipeline")}
    clean = os.path.join(work, "clean.pcap")
    harness.filter_capture(bad, clean, lambda i: i not in dropped)
    floor = os.path.join(work, "floor.ini")
    harness.write_floor(floor, roster, keys, "1rx-2owners")
    outs = {}
    for name, cap in (("clean", clean), ("bad", bad)):
        out = os.path.join(work, f"{name}.out.pcap")
        _, rep, _ = harness.run_floord(floord, floor, [cap], out, work, name)
        outs[name] = (rep, harness.decode(out))
    rep = outs["bad"][0]
    ok(len(dropped) >= 20, f"{len(dropped)} hostile frames in the capture")
    for counter, n in sorted(summ["expected_counters"].items()):
        section, _, reason = counter.partition(".")
        if section in ("net", "uplink", "pipeline"):
            got = rep["drops"][section][reason]
        elif section == "owners":
            got = rep["owners"][reason]
        else:
            continue
        ok(got == n, f"counted {counter} = {n}", f"floord counted {got}")
    listed = {k for k in summ["expected_counters"] if k.split(".")[0] in ("net", "uplink", "pipeline")}
    others = {f"{sec}.{r}": v for sec in ("net", "uplink", "pipeline")
              for r, v in rep["drops"][sec].items() if v and f"{sec}.{r}" not in listed}
    ok(not others, "no drop counted that was not sent", others)
    # Invariant 6: none of it changed state: the output is the capture-without-them's, byte for byte.
    a, b = outs["clean"][1], outs["bad"][1]
    ok(a[0]["final_state"]["positions"] == b[0]["final_state"]["positions"],
       "final positions identical to the run without the bad frames")
    ok(a[1] == b[1], "output capture byte-identical to the run without the bad frames",
       f"{len(a[1])} vs {len(b[1])} frames")


def refusals(floord, work, ok):
    cap, roster, keys, _ = harness.make_capture(work, "r", players=5, gateways=1, seconds=0.5)
    out = os.path.join(work, "r.out.pcap")

    floor = os.path.join(work, "bad-cell.ini")
    harness.write_floor(floor, roster, keys, "rtc")
    with open(floor) as f:
        text = f.read().replace("tick_ms = 50", "tick_ms = 50\ncell_mm = 300")
    with open(floor, "w") as f:
        f.write(text)
    rc, _, log = harness.run_floord(floord, floor, [cap], out, work, "badcell", check=False)
    ok(rc == 3 and "cell_mm" in log and "300" in log and "power of two" in log,
       "a bad floor value is refused naming the key, the value and what was expected", log[-300:])
    ok(not os.path.exists(out), "refused before the port was opened (no output capture)")

    floor = os.path.join(work, "lcore5.ini")
    harness.write_floor(floor, roster, keys, "rtc")
    with open(floor) as f:
        text = f.read().replace("tx = 0", "tx = 5")
    with open(floor, "w") as f:
        f.write(text)
    rc, _, log = harness.run_floord(floord, floor, [cap], out, work, "lcore5", check=False)
    ok(rc != 0 and "lcore 5" in log and "not enable" in log,
       "a layout naming an lcore the EAL did not enable is refused", log[-300:])

    floor = os.path.join(work, "two.ini")
    harness.write_floor(floor, roster, keys, "rx+owner/tx")
    rc, _, log = harness.run_floord(floord, floor, [cap], out, work, "overcommit", check=False,
                                    lcores="0@0,1@0")
    ok(rc != 0 and "more busy lcores than CPUs" in log,
       "two busy lcores on one CPU are refused", log[-300:])

    rc, _, log = harness.run_floord(floord, floor, [cap], out, work, "numa", check=False,
                                    args=("--numa-report",))
    ok(rc == 0 and "NUMA placement report" in log and "ring         fc_rx0_own0" in log
       and "0 cross-node hops" in log and "port 0" in log,
       "--numa-report lists port, lcores, rings and hops, then exits", log[-400:])


CLAIM_LAYOUT = """# tests/replay: a clue at the floor's centre, on the border of two owners' stripes
policy = distance
settle_ms = 100
1,10240,5120,150,50
2,1000,1000,20,10
"""


def reference_claim(capture, roster, keys, clue=(10240, 5120, 150), settle_ns=100_000_000):
    """Who was first, from the capture alone: every accepted fix (ref_codec's receiver), the
    players' first fix inside the disc, the earliest (time, distance, player) wins; contenders
    are those whose first qualifying fix is within the settle window of the earliest."""
    import math

    tag_player = {t: p for t, p, _, _ in harness.mkcapture.load_roster(roster)}
    first = {}
    for _, _, _, f in uplink_frames(capture, keys):
        if f is None or f["hdr"]["msg_type"] != 1:
            continue
        for r in f["records"]:
            p = tag_player.get(r["tag_id"])
            t = f["hdr"]["base_time_ns"] + r["dt_us"] * 1000
            d = math.hypot(r["x_mm"] - clue[0], r["y_mm"] - clue[1])
            if p is None or d > clue[2]:
                continue
            key = (t, round(d), p)
            if p not in first or key < first[p]:
                first[p] = key
    order = sorted(first.values())
    winner = order[0]
    contenders = [k for k in order if k[0] <= winner[0] + settle_ns]
    return winner[2], len(contenders)


def mkcapture_keys(path):
    return harness.mkcapture.receiver_keys(harness.mkcapture.load_keys(path))


def uplink_frames(capture, keys):
    """(ts, data, info, frame) for every frame of capture, in order: frame as ref_codec's
    receiver decodes it (one replay window per gateway across the capture), None if it refuses
    it."""
    import fcpcap
    import ref_codec as rc

    gws, windows = mkcapture_keys(keys), {}
    for ts, data in fcpcap.PcapReader(capture):
        info, _ = fcpcap.parse_udp_frame(data)
        try:
            fr = rc.receive_uplink(info["payload"], gws, windows)
        except (rc.WireError, TypeError):
            fr = None
        yield ts, data, info, fr


def claims(floord, work, ok):
    fx = os.path.join(work, "fixtures")
    os.makedirs(fx, exist_ok=True)
    harness.mkcapture.main(["--write-fixtures", fx, "--players", "96", "--gateways", "2"])
    roster, keys = os.path.join(fx, "roster.csv"), os.path.join(fx, "gateways.keys")
    cap = os.path.join(work, "claims.pcap")
    harness.mkcapture.main(["--out", cap, "--roster", roster, "--keys", keys, "--players", "96",
                            "--gateways", "2", "--seconds", "6", "--scenario", "crowded",
                            "--width-m", "20.48", "--height-m", "10.24", "--seed", "5"])
    layout = os.path.join(work, "layout.txt")
    with open(layout, "w") as f:
        f.write(CLAIM_LAYOUT)
    split = harness.split_by_gateway(cap, 2, os.path.join(work, "claims.q"))
    want_winner, want_contenders = reference_claim(cap, roster, keys)
    ref = None
    for name in ("rtc", "1rx-2owners", "2rx-2owners"):
        floor = os.path.join(work, f"claims-{name}.ini")
        nq = harness.write_floor(floor, roster, keys, name, width_m=20.48, height_m=10.24)
        with open(floor) as f:
            text = f.read().replace("[roster]", f"[game]\nlayout = {layout}\n[roster]")
        with open(floor, "w") as f:
            f.write(text)
        out = os.path.join(work, f"claims-{name}.out.pcap")
        _, rep, _ = harness.run_floord(floord, floor, [cap] if nq == 1 else split, out, work,
                                       "claims-" + name)
        s, frames = harness.decode(out)
        st = s["final_state"]
        ok(not s["problems"], f"{name}: output decodes with no problem", s["problems"][:3])
        cl = st["claims"]
        ok(len(cl) == 1 and cl[0]["clue_id"] == 1, f"{name}: exactly one award, for clue 1", cl)
        if cl:
            ok(cl[0]["winner"] == want_winner, f"{name}: the winner is the reference's first",
               (cl[0]["winner"], want_winner))
            ok(cl[0]["contenders_total"] == want_contenders,
               f"{name}: every contender in the settle window counted",
               (cl[0]["contenders_total"], want_contenders))
            ok(st["scores"].get(str(want_winner), {}).get("total") == 50,
               f"{name}: the winner scored the clue's 50 points", st["scores"])
        ok(st["events_by_kind"] == {"ROUND_STATE": 2, "CLUE_CLAIMED": 1, "SCORE": 1,
                                    "END_OF_ROUND": 1},
           f"{name}: round start, claim, score, end of round, end of session", st["events_by_kind"])
        if name != "rtc":
            ok(rep["game"]["clue_routed"] > 0,
               f"{name}: fixes across the stripe border reached the clue's home owner",
               rep["game"])
        last = s["channels"]["0"]["last_tick"]
        snap = s["last_snapshot"] or {}
        ok(st["round"]["round_time_ms"] == last * 50 and snap.get("round", {}).get(
            "round_time_ms") == snap.get("as_of_tick", -1) * 50,
           f"{name}: round_time_ms is the round's running time, at its end ({last} ticks) and "
           "in snapshots", (st["round"], snap.get("round"), snap.get("as_of_tick")))
        ok(rep["claim_latency_ns"]["samples"] == 0 and rep["game"]["claims_asap"] == 0,
           f"{name}: unpaced, the claim goes out with its tick and no latency is timed (the "
           "capture's clock is not the wall's)", rep["game"])
        if ref is None:
            ref = (name, frames, cl, st["events_by_kind"])
        else:
            ok(frames == ref[1], f"{name}: byte-identical to {ref[0]}")
    # Paced, floord decides and announces as soon as it can (fc_tick.h, asap): the same claim,
    # out before its tick's end, timed from the settle window's end to the NIC.
    floor = os.path.join(work, "claims-paced.ini")
    harness.write_floor(floor, roster, keys, "rx+owner/tx", width_m=20.48, height_m=10.24)
    with open(floor) as f:
        text = f.read().replace("[roster]", f"[game]\nlayout = {layout}\n[roster]")
    with open(floor, "w") as f:
        f.write(text)
    out = os.path.join(work, "claims-paced.out.pcap")
    _, rep, _ = harness.run_floord(floord, floor, [cap], out, work, "claims-paced",
                                   args=("--pace=3",))
    s, _ = harness.decode(out)
    st = s["final_state"]
    ok(not s["problems"], "paced: output decodes with no problem", s["problems"][:3])
    ok(st["claims"] == ref[2] and st["events_by_kind"] == ref[3],
       "paced: the same award (winner, contenders, time) and events as unpaced",
       (st["claims"], ref[2]))
    ok(rep["game"]["claims_asap"] == 1,
       "paced: the claim went out as soon as it was decided, not at its tick's end", rep["game"])
    lat = rep.get("claim_latency_ns", {})
    ok(lat.get("samples") == 1 and 0 < lat.get("max", 0) < 10**9,
       "paced: the claim's latency from its settle window's end to the NIC was measured", lat)


RESPAWN_LAYOUT = """# tests/replay respawn: the crowded centre's clue reopens 1 s after each award
policy = distance
settle_ms = 100
1,10240,5120,150,50,1
"""


def respawn(floord, work, ok):
    """A respawning clue under a crowd: awarded, reopened (CLUE_STATE) 1 s after each award's
    deadline, awarded again, in every layout the same bytes."""
    cap, roster, keys, _ = claims_setup(work)
    layout = os.path.join(work, "respawn.txt")
    with open(layout, "w") as f:
        f.write(RESPAWN_LAYOUT)
    split = harness.split_by_gateway(cap, 2, os.path.join(work, "respawn.q"))
    ref = None
    for name in ("rtc", "2rx-2owners"):
        floor = os.path.join(work, f"respawn-{name}.ini")
        nq = game_floor(floor, roster, keys, layout, name)
        out = os.path.join(work, f"respawn-{name}.out.pcap")
        _, rep, _ = harness.run_floord(floord, floor, [cap] if nq == 1 else split, out, work,
                                       "respawn-" + name)
        s, frames = harness.decode(out)
        st = s["final_state"]
        cl = st["claims"]
        ok(not s["problems"], f"{name}: output decodes with no problem", s["problems"][:3])
        ok(len(cl) >= 3 and all(c["clue_id"] == 1 for c in cl),
           f"{name}: clue 1 awarded again and again ({len(cl)} awards in 6 s)", cl)
        gaps = [b["meas_time_ns"] - a["meas_time_ns"] for a, b in zip(cl, cl[1:])]
        ok(all(g >= 1_100_000_000 for g in gaps),
           f"{name}: each award's fix measured after the previous deadline + 1 s", gaps)
        reopened = st["events_by_kind"].get("CLUE_STATE", 0)
        ok(reopened in (len(cl) - 1, len(cl)) and rep["game"]["reopened"] == reopened,
           f"{name}: a CLUE_STATE (open) event between awards", (reopened, len(cl), rep["game"]))
        ok(all(b["event_seq"] > a["event_seq"] for a, b in zip(cl, cl[1:])) and
           sum(c["points"] for c in cl) == sum(v["total"] for v in st["scores"].values()),
           f"{name}: scores add up to every award's points", st["scores"])
        if ref is None:
            ref = (name, frames)
        else:
            ok(frames == ref[1], f"{name}: byte-identical to {ref[0]}")


HOTSPOT_LAYOUT = """# tests/replay hotspot: one clue on the border of two owners' stripes
policy = distance
settle_ms = 100
1,10240,5120,100,50
"""


def write_fix_capture(path, keys, fixes, seconds, start_ns=1767225600_000_000_000):
    """fixes: {0: [(t_us, record)], 1: [...]}, what the first two gateways of keys heard. Each
    sends a batch every 25 ms (the second 12.5 ms later) of the fixes measured since its last,
    captured 300 us after; writes the capture; returns the fixes sent."""
    import fcpcap
    import ref_codec as rc

    keys_by_gw = harness.mkcapture.load_keys(keys)
    gws = sorted(keys_by_gw)[:2]
    frames, n_fixes = [], 0
    for g, gw in enumerate(gws):
        kid, alg, key = keys_by_gw[gw][0]
        recs = sorted(fixes[g], key=lambda f: f[0])
        seq, send, i = 0, (g + 1) * 12_500, 0  # base = send - 25 ms: before every fix
        while i < len(recs) or send <= seconds * 1e6:
            batch = []
            while i < len(recs) and recs[i][0] <= send and len(batch) < 42:
                batch.append(recs[i])
                i += 1
            base = send - 25_000
            if batch:
                seq += 1
                hdr = dict(msg_type=rc.UP_FIX_BATCH, gateway_id=gw, seq=1 << 32 | seq,
                           base_time_ns=start_ns + base * 1000, key_id=kid, mac_alg=alg,
                           flags=0)
                body = rc.encode_uplink({"hdr": hdr, "key": key,
                                         "records": [dict(r, dt_us=t - base) for t, r in batch]})
                frames.append((start_ns + (send + 300 + g) * 1000, fcpcap.build_udp_frame(
                    harness.mkcapture.gw_mac(gw), harness.mkcapture.DST_MAC,
                    harness.mkcapture.gw_ip(gw), "198.18.0.1", harness.mkcapture.gw_port(gw),
                    47474, body)))
                n_fixes += len(batch)
            if not batch or i >= len(recs) or recs[i][0] > send:
                send += 25_000
    frames.sort(key=lambda f: f[0])
    fcpcap.write_pcap(path, frames)
    return n_fixes


def hotspot_capture(path, roster, keys, players=96, crowd=64, seconds=3.0):
    """96 players at 20 Hz through 2 gateways; players 0..63 stand 150..170 mm from the clue
    and all step into its 100 mm disc within the same tick (1.010..1.042 s), then stay; the
    others stand far away. Returns (fixes sent, the reference's (winner, contenders in rank
    order)): the earliest (time, distance, player) wins."""
    import math

    tag = {p: t for t, p, _, _ in harness.mkcapture.load_roster(roster)}
    cx, cy = 10240, 5120

    def fix_times(p):
        step = 1_010_000 + p * 500 if p < crowd else 1_000_000 + p * 300
        t = step - 50_000 * (step // 50_000)
        while t < seconds * 1e6:
            yield t, t >= step
            t += 50_000

    fixes = {g: [] for g in range(2)}
    firsts = []
    for p in range(players):
        a = 2 * math.pi * p / crowd
        for k, (t, inside) in enumerate(fix_times(p)):
            if p >= crowd:
                x, y = 2000 + 100 * p, 2000
            else:
                r = (40 + p % 50) if inside else (150 + p % 5 * 5)
                x, y = cx + round(r * math.cos(a)), cy + round(r * math.sin(a))
            if inside and p < crowd and not any(f[2] == p for f in firsts):
                firsts.append((t, round(math.hypot(x - cx, y - cy)), p))
            fixes[p % 2].append((t, dict(tag_id=tag[p], x_mm=x, y_mm=y, z_mm=1100, err_mm=20,
                                         quality=90, flags=0x02, fix_seq=k + 1)))
    n_fixes = write_fix_capture(path, keys, fixes, seconds)
    firsts.sort()
    return n_fixes, firsts


def hotspot(floord, work, ok):
    """DESIGN's hot spot through the pipeline: 64 players step onto one clue in the same tick.
    Exactly one award, 63 contenders listed besides the winner, the reference's ranking,
    nothing dropped, the same bytes in every layout."""
    fx = os.path.join(work, "fixtures")
    os.makedirs(fx, exist_ok=True)
    harness.mkcapture.main(["--write-fixtures", fx, "--players", "96", "--gateways", "2"])
    roster, keys = os.path.join(fx, "roster.csv"), os.path.join(fx, "gateways.keys")
    cap = os.path.join(work, "hotspot.pcap")
    n_fixes, firsts = hotspot_capture(cap, roster, keys)
    want = [p for _, _, p in firsts]
    layout = os.path.join(work, "hotspot.layout")
    with open(layout, "w") as f:
        f.write(HOTSPOT_LAYOUT)
    split = harness.split_by_gateway(cap, 2, os.path.join(work, "hotspot.q"))
    ref = None
    for name in ("rtc", "1rx-2owners", "2rx-2owners"):
        floor = os.path.join(work, f"hotspot-{name}.ini")
        nq = game_floor(floor, roster, keys, layout, name)
        out = os.path.join(work, f"hotspot-{name}.out.pcap")
        _, rep, _ = harness.run_floord(floord, floor, [cap] if nq == 1 else split, out, work,
                                       "hotspot-" + name)
        s, frames = harness.decode(out)
        cl = s["final_state"]["claims"]
        ok(not s["problems"], f"{name}: output decodes with no problem", s["problems"][:3])
        ok(len(cl) == 1 and cl[0]["clue_id"] == 1 and cl[0]["contenders_total"] == 64,
           f"{name}: exactly one award, 64 players counted", cl[:1])
        listed = [c["player"] for c in cl[0]["contenders"]] if cl else []
        ok(listed == want and len(listed) == 64,
           f"{name}: the winner and 63 contenders listed, in the reference's rank order",
           (listed[:8], want[:8]))
        ok(rep["drops"]["total"] == 0 and rep["rx"]["fixes"] == n_fixes
           and rep["owners"]["applied"] == n_fixes and rep["game"]["claims_held"] == 0,
           f"{name}: nothing dropped: {n_fixes} fixes sent, all applied",
           (rep["drops"]["total"], rep["rx"], rep["owners"]))
        if name != "rtc":
            ok(rep["game"]["clue_routed"] > 0,
               f"{name}: fixes on the other owner's side of the disc reached the clue's owner",
               rep["game"])
        if ref is None:
            ref = (name, frames)
        else:
            ok(frames == ref[1], f"{name}: byte-identical to {ref[0]}")


TELEPORT_LAYOUT = """# tests/replay teleport: one clue, far from where player 0 walks
policy = distance
settle_ms = 100
max_speed_mps = 8
1,15000,5120,100,50
"""


def teleport(floord, work, ok):
    """A tag that jumps into a clue's disc (a spoof, or a tag thrown across the floor) never
    claims it before a walk could have brought it there: player 0 walks around a place far
    from every clue, then at 2.0 s its fixes are at the clue (15, 5.12) m; player 1 walks in
    from 1 m away and reaches it at 2.3 s. Player 1 wins; player 0's first fixes at the clue
    are implausible. Two places, in three layouts (one owner, and two owners whose stripes
    meet at x = 10.24 m):
    - (18, 2) m, 4.3 m away, on the clue owner's stripe: implausible for 0.53 s at 8 m/s.
      Before references were kept fresh on every fix, player 0's first fix at the clue was
      its first near a clue, so plausible: it won.
    - (3, 2) m, 12.3 m away, on the other owner's stripe: implausible for 1.5 s. Before the
      owners shared their references, the clue's owner had never seen player 0, so its first
      fix there was plausible and won with two owners (docs/game.md 4)."""
    fx = os.path.join(work, "fixtures")
    os.makedirs(fx, exist_ok=True)
    harness.mkcapture.main(["--write-fixtures", fx, "--players", "4", "--gateways", "2"])
    roster, keys = os.path.join(fx, "roster.csv"), os.path.join(fx, "gateways.keys")
    tag = {p: t for t, p, _, _ in harness.mkcapture.load_roster(roster)}
    cx, cy, seconds = 15000, 5120, 4.0
    layout = os.path.join(work, "teleport.layout")
    with open(layout, "w") as f:
        f.write(TELEPORT_LAYOUT)
    for place, (wx, wy) in (("same-stripe", (18000, 2000)), ("across-owners", (3000, 2000))):
        fixes = {0: [], 1: []}
        for k in range(int(seconds * 20)):
            t = k * 50_000 + 1_000
            if t < 2_000_000:  # player 0: walking slowly around (wx, wy)
                x0, y0 = wx + (k % 10) * 20, wy
            else:  # then, at once, on the clue
                x0, y0 = cx + 10, cy
            f = min(t, 2_300_000) / 2_300_000  # player 1: from 1 m left of the clue
            x1, y1 = cx - 1000 + round(960 * f), cy
            for g, (p, x, y) in enumerate(((0, x0, y0), (1, x1, y1))):
                fixes[g].append((t + g * 300, dict(tag_id=tag[p], x_mm=x, y_mm=y, z_mm=1100,
                                                   err_mm=20, quality=90, flags=0x02,
                                                   fix_seq=k + 1)))
        cap = os.path.join(work, f"teleport-{place}.pcap")
        n_fixes = write_fix_capture(cap, keys, fixes, seconds)
        split = harness.split_by_gateway(cap, 2, os.path.join(work, f"teleport-{place}.q"))
        outs = {}
        for name in ("rtc", "1rx-2owners", "2rx-2owners"):
            floor = os.path.join(work, f"teleport-{place}-{name}.ini")
            nq = game_floor(floor, roster, keys, layout, name)
            out = os.path.join(work, f"teleport-{place}-{name}.out.pcap")
            _, rep, _ = harness.run_floord(floord, floor, [cap] if nq == 1 else split, out, work,
                                           f"teleport-{place}-{name}")
            s, _ = harness.decode(out)
            cl = s["final_state"]["claims"]
            outs[name] = cl
            ok(len(cl) == 1 and cl[0]["winner"] == 1,
               f"{place} {name}: the player who walked in wins, not the one who jumped in", cl)
            # 20 fixes a second: at least half a second of them
            ok(rep["game"]["implausible"] >= 10,
               f"{place} {name}: the jumping tag's fixes were flagged implausible", rep["game"])
            ok(rep["owners"]["applied"] + rep["owners"]["older"] + rep["owners"]["duplicates"]
               == n_fixes and rep["drops"]["total"] == 0,
               f"{place} {name}: the flagged fixes still moved the player on the map "
               "(positions are not the game's business)", rep["owners"])
        ok(outs["rtc"] == outs["1rx-2owners"] == outs["2rx-2owners"],
           f"{place}: the same claim, contenders and times in every layout", outs)


def claims_setup(work, players=96, seconds=6, seed=5):
    fx = os.path.join(work, "fixtures")
    os.makedirs(fx, exist_ok=True)
    harness.mkcapture.main(["--write-fixtures", fx, "--players", str(players), "--gateways", "2"])
    roster, keys = os.path.join(fx, "roster.csv"), os.path.join(fx, "gateways.keys")
    cap = os.path.join(work, "claims.pcap")
    harness.mkcapture.main(["--out", cap, "--roster", roster, "--keys", keys, "--players",
                            str(players), "--gateways", "2", "--seconds", str(seconds),
                            "--scenario", "crowded", "--width-m", "20.48", "--height-m", "10.24",
                            "--seed", str(seed)])
    layout = os.path.join(work, "layout.txt")
    with open(layout, "w") as f:
        f.write(CLAIM_LAYOUT)
    return cap, roster, keys, layout


def game_floor(path, roster, keys, layout, name, journal=None):
    nq = harness.write_floor(path, roster, keys, name, width_m=20.48, height_m=10.24)
    extra = f"[game]\nlayout = {layout}\n" + (f"journal = {journal}\n" if journal else "")
    with open(path) as f:
        text = f.read().replace("[roster]", extra + "[roster]")
    with open(path, "w") as f:
        f.write(text)
    return nq


def crash_and_restart(floord, work, ok, layout_text, kill_after_s, tag):
    """The game of claims_setup() on layout_text: an uninterrupted reference run, then a paced
    run SIGKILLed kill_after_s in and restarted on the same journal. Returns (reference decode,
    reference report, killed run's decode, restart's decode, restart's report, restart's log)."""
    import shutil
    import signal
    import subprocess
    import time

    cap, roster, keys, _ = claims_setup(work)
    layout = os.path.join(work, f"{tag}.layout")
    with open(layout, "w") as f:
        f.write(layout_text)
    ref_floor = os.path.join(work, f"{tag}-ref.ini")
    game_floor(ref_floor, roster, keys, layout, "1rx-2owners",
               os.path.join(work, f"{tag}-ref.journal"))
    _, rep, _ = harness.run_floord(floord, ref_floor, [cap], os.path.join(work, f"{tag}-ref.pcap"),
                                   work, f"{tag}-ref")
    ref, _ = harness.decode(os.path.join(work, f"{tag}-ref.pcap"))

    journal = os.path.join(work, f"{tag}-crash.journal")
    floor = os.path.join(work, f"{tag}-crash.ini")
    game_floor(floor, roster, keys, layout, "1rx-2owners", journal)
    prefix = f"fcrp-crash-{os.getpid()}"
    out1 = os.path.join(work, f"{tag}-crash1.pcap")
    cmd = [floord, "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
           f"--file-prefix={prefix}", "--log-level=*:error",
           f"--vdev=net_pcap0,rx_pcap={cap},tx_pcap={out1}", "--",
           "--floor", floor, "--replay", "--pace"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after_s)
    p.send_signal(signal.SIGKILL)
    p.wait()
    shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    ok(p.returncode == -signal.SIGKILL, f"{tag}: floord SIGKILLed mid-round")
    first, _ = harness.decode(out1)
    _, rep2, log = harness.run_floord(floord, floor, [cap], os.path.join(work, f"{tag}-crash2.pcap"),
                                      work, f"{tag}-restart")
    again, _ = harness.decode(os.path.join(work, f"{tag}-crash2.pcap"))
    return ref, rep, first, again, rep2, log


def recovery(floord, work, ok):
    # The award comes at about 0.8 s of capture time: killed 3 s in, it is on the journal.
    ref, rep, first, again, rep2, log = crash_and_restart(floord, work, ok, CLAIM_LAYOUT, 3.0,
                                                          "once")
    ok(rep["game"]["claims"] == 1 and rep["game"]["already_awarded"] == 0,
       "reference run: one award, journaled", rep["game"])
    announced = first["final_state"]["claims"]
    ok(len(announced) == 1, "the killed run had announced the award before it died", announced)
    ok("1 awards recovered" in log, "the restart recovered the award from the journal", log[-300:])
    ok(rep2["game"]["restored_clues"] == 1 and rep2["game"]["claims"] == 0
       and rep2["game"]["already_awarded"] == 0,
       "the restart restored the clue as decided and never decided it again", rep2["game"])
    ok(again["final_state"]["claims"] == [], "the restart announced no second award",
       again["final_state"]["claims"])
    snap_ref, snap = ref["last_snapshot"], again["last_snapshot"]
    ok(snap["scores"] == snap_ref["scores"] and snap["clues"] == snap_ref["clues"],
       "the restart's scoreboard and clues equal the uninterrupted run's",
       (snap.get("scores"), snap_ref.get("scores")))
    ok(snap["round"]["round_id"] == snap_ref["round"]["round_id"],
       "the restart continued the same round", (snap["round"], snap_ref["round"]))

    # A respawning clue, killed after its second award: the restart goes on from the third,
    # at the times the uninterrupted run had them, each announced once.
    ref, rep, first, again, rep2, log = crash_and_restart(floord, work, ok, RESPAWN_LAYOUT, 2.8,
                                                          "respawn")

    def key(c):
        return (c["clue_id"], c["winner"], c["meas_time_ns"], c["contenders_total"])

    want = [key(c) for c in ref["final_state"]["claims"]]
    before = [key(c) for c in first["final_state"]["claims"]]
    after = [key(c) for c in again["final_state"]["claims"]]
    ok(len(want) >= 4 and 1 <= len(before) < len(want),
       "respawn: the killed run had announced some of the awards, not all",
       (len(before), len(want)))
    ok(before + after == want,
       "respawn: the awards before the crash and after the restart are the uninterrupted run's, "
       "each once, in order", (before, after, want))
    ok(rep2["game"]["restored_clues"] == 1 and rep2["game"]["already_awarded"] == 0,
       "respawn: the restart restored the clue at its last award and reopened it on time",
       rep2["game"])
    snap_ref, snap = ref["last_snapshot"], again["last_snapshot"]
    ok(snap["scores"] == snap_ref["scores"] and snap["clues"] == snap_ref["clues"],
       "respawn: the restart's scoreboard and clues equal the uninterrupted run's",
       (snap.get("scores"), snap_ref.get("scores")))


# floorctl load layout: the next round's clues. 7 stands where the crowd of the capture stays.
NEXT_LAYOUT = """# tests/replay: round 2's layout
policy = distance
settle_ms = 100
7,10240,5120,150,30
8,1000,9000,20,5
"""
THIRD_LAYOUT = "policy = distance\nsettle_ms = 100\n9,10240,5120,150,70\n"
BAD_LAYOUT = "policy = distance\nsettle_ms = 100\n7,10240,5120,150\n"
OFF_FLOOR_LAYOUT = "policy = distance\n7,10240,5120,150,30\n8,30000,5120,150,30\n"
ADDED, REMOVED = 60, 70  # players who do not converge on the clue (mkcapture: 48 .. 95)


def tag_fixes(capture, keys, tags):
    """Per tag of tags, the absolute tick (capture time // 50 ms) of every fix floord accepts,
    by ref_codec's receiver; and the first frame's tick."""
    out, first = {t: [] for t in tags}, None
    for ts, _, _, f in uplink_frames(capture, keys):
        tick = ts // 50_000_000
        first = tick if first is None else first
        if f is None or f["hdr"]["msg_type"] != 1:
            continue
        for r in f["records"]:
            if r["tag_id"] in out:
                out[r["tag_id"]].append(tick)
    return out, first


def control(floord, work, ok, floorctl, lay="rx+owner/tx"):
    import json as _json
    import subprocess
    import time

    cap, roster, keys, layout = claims_setup(work)
    entries = harness.mkcapture.load_roster(roster)
    tag_of = {p: t for t, p, _, _ in entries}
    # floord starts with a roster that lacks a tag the capture uses: roster add brings it in
    short_roster = os.path.join(work, "roster-short.csv")
    with open(roster) as f, open(short_roster, "w") as g:
        g.writelines(line for line in f if not line.startswith(f"0x{tag_of[ADDED]:016X},")
                     and not line.lower().startswith(f"0x{tag_of[ADDED]:016x},"))
    files = {}
    for name, text in (("next.txt", NEXT_LAYOUT), ("bad.txt", BAD_LAYOUT),
                       ("offfloor.txt", OFF_FLOOR_LAYOUT), ("third.txt", THIRD_LAYOUT)):
        files[name] = os.path.join(work, name)
        with open(files[name], "w") as f:
            f.write(text)
    journal = os.path.join(work, "ctl.journal")
    sock = os.path.join(work, "floord.sock")
    floor = os.path.join(work, "ctl.ini")
    nq = game_floor(floor, short_roster, keys, layout, lay, journal)
    caps = [cap] if nq == 1 else harness.split_by_gateway(cap, nq, os.path.join(work, "ctl.q"))
    with open(floor) as f:
        text = f.read().replace("[roster]", f"auto_start = no\n[control]\nsocket = {sock}\n[roster]")
    with open(floor, "w") as f:
        f.write(text)
    prefix = f"fcrp-ctl-{os.getpid()}"
    out = os.path.join(work, "ctl.pcap")
    report = os.path.join(work, "ctl.report.json")
    cmd = [floord, "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
           f"--file-prefix={prefix}", "--log-level=*:error",
           "--vdev=net_pcap0," + "".join(f"rx_pcap={c}," for c in caps) + f"tx_pcap={out}",
           "--", "--floor", floor, "--replay",
           "--pace", "--report-json", report]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def ctl(*args):
        r = subprocess.run([floorctl, "--floor", floor, "--json", *args], capture_output=True,
                           text=True, timeout=10)
        try:
            return r.returncode, _json.loads(r.stdout) if r.stdout.strip() else {}
        except ValueError:
            return r.returncode, {"raw": r.stdout + r.stderr}

    def unknown_tags():
        r = subprocess.run([floorctl, "--floor", floor, "metrics"], capture_output=True,
                           text=True)
        for line in r.stdout.splitlines():
            if line.startswith("floorcast_drops_total{") and 'reason="unknown_tag"' in line:
                return float(line.split()[-1])
        return None

    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        ok(os.path.exists(sock), "floord opened its control socket")
        rc, st = ctl("status")
        ok(rc == 0 and st["round"]["state"] == "idle", "status: no round before round start", st)
        rc, r = ctl("round", "pause")
        ok(rc == 0 and r["cmd_seq"] == 1, "round pause is taken (and will be refused)", r)
        rc, r = ctl("round", "start")
        ok(rc == 0 and r["cmd_seq"] == 2, "round start is taken", r)
        rc, r = ctl("round", "jump")
        ok(rc == 1 and not r.get("ok"), "an unknown request is refused", r)
        time.sleep(0.3)
        rc, st = ctl("status")
        ok(rc == 0 and st["round"] == {"id": 1, "state": "running"}, "status: round 1 running", st)
        # A bad layout while round 1 runs: refused with file, line and reason, not sequenced.
        rc, r = ctl("load", "layout", files["bad.txt"])
        ok(rc == 1 and r.get("error", "").startswith(files["bad.txt"] + ":3: expected"),
           "load layout of a bad file: refused with FILE:LINE: reason", r)
        rc, r = ctl("load", "layout", files["offfloor.txt"])
        ok(rc == 1 and r.get("error", "").startswith(files["offfloor.txt"] + ":3: clue 8")
           and "outside the floor" in r.get("error", ""),
           "load layout of a clue off the floor: refused with its line", r)
        rc, r = ctl("roster", "add", f"0x{tag_of[REMOVED]:x}", "999", "1")
        ok(rc == 1 and "already player 70's" in r.get("error", ""),
           "roster add of a tag already worn: refused", r)
        rc, r = ctl("roster", "add", f"0x{tag_of[ADDED]:x}", "96", "1")
        ok(rc == 1 and "capacity" in r.get("error", ""),
           "roster add of a player beyond the roster's capacity: refused", r)
        rc, r = ctl("roster", "remove", "0x1234")
        ok(rc == 1 and "not in the roster" in r.get("error", ""),
           "roster remove of an unknown tag: refused", r)
        before = unknown_tags()
        ok(before is not None and before > 0,
           "before roster add, the missing tag's fixes count as unknown_tag", before)
        rc, r = ctl("roster", "add", f"0x{tag_of[ADDED]:x}", str(ADDED), str(ADDED % 8), "Late")
        ok(rc == 0 and r["cmd_seq"] == 3 and r["player"] == ADDED, "roster add is taken", r)
        rc, r = ctl("load", "layout", os.path.relpath(files["next.txt"]))
        ok(rc == 0 and r["cmd_seq"] == 4 and r["layout_id"] == 2 and r["clues"] == 2,
           "load layout of a good file (a relative path) is taken: layout 2", r)
        r = subprocess.run([floorctl, "--floor", floor, "status"], capture_output=True, text=True)
        ok(r.returncode == 0 and r.stdout.startswith("floord report") and "layout" in r.stdout,
           "floorctl status, readable: floord's report", r.stdout[:200])
        r = subprocess.run([floorctl, "--floor", floor, "metrics"], capture_output=True, text=True)
        try:
            try:
                from prometheus_client.parser import text_string_to_metric_families
            except ImportError:
                sys.path.append("/usr/lib/python3/dist-packages")
                from prometheus_client.parser import text_string_to_metric_families
            fams = {f.name: f for f in text_string_to_metric_families(r.stdout)}
        except Exception as e:  # a parse error is the failure this checks for
            fams = {"error": str(e)}
        drops = fams.get("floorcast_drops")
        ok(r.returncode == 0 and "floorcast_fixes_applied" in fams and drops is not None
           and any(s.labels.get("reason") == "bad_mac" for s in drops.samples),
           "floorctl metrics: Prometheus text a Prometheus parser reads, drops by reason",
           sorted(fams)[:8])
        time.sleep(0.5)
        mid = unknown_tags()
        time.sleep(0.5)
        ok(mid is not None and unknown_tags() == mid,
           "after roster add, unknown_tag stops growing: the tag's fixes are used", mid)
        time.sleep(1.0)  # the crowd reaches clue 1 at about 0.8 s of capture time
        rc, r = ctl("roster", "remove", f"0x{tag_of[REMOVED]:x}")
        ok(rc == 0 and r["cmd_seq"] == 5 and r["player"] == REMOVED, "roster remove is taken", r)
        rc, r = ctl("round", "end")
        ok(rc == 0 and r["cmd_seq"] == 6, "round end is taken", r)
        time.sleep(0.3)
        rc, r = ctl("round", "start")
        ok(rc == 0 and r["cmd_seq"] == 7, "round 2 start is taken", r)
        time.sleep(0.3)
        rc, st = ctl("status")
        ok(rc == 0 and st["round"] == {"id": 2, "state": "running"} and st["layout_id"] == 2
           and st["clues"] == 2 and st["roster"] == 95,
           "status: round 2 runs on layout 2 (2 clues); 95 roster entries (95 + 1 - 1)", st)
        rc, r = ctl("load", "layout", files["third.txt"])
        ok(rc == 0 and r["cmd_seq"] == 8 and r["layout_id"] == 3,
           "load layout during round 2: taken for the round after it (layout 3)", r)
        outp, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        import shutil

        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    ok(p.returncode == 0, "floord ran to the end of the capture", outp[-300:])
    s, _ = harness.decode(out)
    st = s["final_state"]
    cmds = [(c["cmd_seq"], c["command"], c["status"], c["arg"]) for c in st["commands"]]
    ok(cmds == [(1, 2, 22, 0), (2, 1, 0, 1), (3, 6, 0, ADDED), (4, 5, 0, 2), (5, 7, 0, REMOVED),
                (6, 4, 0, 1), (7, 1, 0, 2), (8, 5, 0, 3)],
       "every command echoed in order: pause refused (EINVAL); start, roster add (player), load "
       "layout (layout 2), roster remove (player), end, start of round 2, load layout (layout 3) "
       "applied", cmds)
    ticks = [c["tick"] for c in st["commands"]]
    ok(ticks == sorted(ticks), "the echoes in the order of the ticks they were applied in", ticks)

    # Round 1 played the start layout; the failed loads and the accepted one changed nothing.
    want_winner, want_contenders = reference_claim(cap, roster, keys)
    r1 = [c for c in st["claims"] if c["round_id"] == 1]
    ok(len(r1) == 1 and r1[0]["clue_id"] == 1 and r1[0]["winner"] == want_winner
       and r1[0]["contenders_total"] == want_contenders,
       "round 1: one award, clue 1, to the reference's first with every contender, as without "
       "the refused loads", (r1, want_winner, want_contenders))
    # Round 2 plays the loaded layout: clue 7, where the crowd stands, is claimed; clue 1 is gone.
    r2 = [c for c in st["claims"] if c["round_id"] == 2]
    start2 = next((c["tick"] for c in st["commands"] if c["cmd_seq"] == 7), None)
    first_ns = min(pk[2] for pk in s["channels"]["0"]["packets"]) - 50_000_000
    ok(len(r2) == 1 and r2[0]["clue_id"] == 7 and r2[0]["points"] == 30 and r2[0]["winner"] < 48
       and r2[0]["meas_time_ns"] >= first_ns + (start2 - 1) * 50_000_000,
       "round 2: one award, the loaded layout's clue 7, to a player of the crowd, measured in "
       "round 2", (r2, start2))
    ok(st["round"]["round_id"] == 2 and st["round"]["state"] == 3,
       "round 2 ran on until the end of the session", st["round"])
    last = s.get("last_snapshot") or {}
    ok(sorted(int(c) for c in last.get("clues", {})) == [7, 8],
       "the snapshot loop lists the loaded layout's clues", last.get("clues"))
    # A subscriber that only follows channel 0's events sees the same: each round start
    # restates its clues (OPEN) and hides the previous layout's that left (HIDDEN).
    clues = {int(k): (c.get("state"), c.get("winner")) for k, c in st["clues"].items()}
    w7 = r2[0]["winner"] if r2 else None
    ok(clues == {1: (2, 0xFFFF), 2: (2, 0xFFFF), 7: (1, w7), 8: (0, 0xFFFF)},
       "events alone: round 2's clues 7 (claimed) and 8 (open); round 1's clues 1 and 2 hidden, "
       "not left claimed", clues)
    ok(st["events_by_kind"].get("CLUE_STATE") == 2 + 4,
       "CLUE_STATE events: round 1's start restates its 2 clues, round 2's its 2 and hides 2",
       st["events_by_kind"])
    ok(st["clues"].get("7", {}).get("x_cm") == 1024 and st["clues"].get("8", {}).get("points") == 5,
       "the round start's CLUE_STATEs carry the loaded layout's positions and points", st["clues"])

    # Roster: the added tag's fixes count as unknown_tag up to the tick its add was applied in,
    # the removed tag's after the tick its remove was applied in; nothing else is unknown.
    with open(report) as f:
        rep = _json.load(f)
    fx, first = tag_fixes(cap, keys, [tag_of[ADDED], tag_of[REMOVED]])
    t_add = first + next(c["tick"] for c in st["commands"] if c["cmd_seq"] == 3) - 1
    t_rem = first + next(c["tick"] for c in st["commands"] if c["cmd_seq"] == 5) - 1
    want = (sum(1 for t in fx[tag_of[ADDED]] if t <= t_add)
            + sum(1 for t in fx[tag_of[REMOVED]] if t > t_rem))
    ok(rep["game"]["layout_id"] == 2 and rep["game"]["clues"] == 2
       and rep["game"]["stale_claims"] == 0,
       "exit report: layout 2 in play, no claim of an old layout left over", rep["game"])
    got = rep["drops"]["pipeline"]["unknown_tag"]
    ok(got == want and sum(1 for t in fx[tag_of[ADDED]] if t <= t_add) > 0
       and sum(1 for t in fx[tag_of[REMOVED]] if t > t_rem) > 0,
       "unknown_tag: the added tag's fixes up to its add's tick, the removed tag's after its "
       "remove's tick, exactly", (got, want))
    pos = st["positions"]
    ok(str(ADDED) in pos, "the added player's position is on the downlink", sorted(pos)[-5:])
    # stale_ms (2 s, 40 ticks) after its last fix a player is STALE: if the session lasted that
    # long after the remove (a slow build may take the commands late)
    rem_wire = next(c["tick"] for c in st["commands"] if c["cmd_seq"] == 5)
    if s["channels"]["0"]["last_tick"] > rem_wire + 41:
        ok(pos.get(str(REMOVED), {}).get("status", 0) & 2,
           "the removed player's position went STALE", pos.get(str(REMOVED)))
    winner = r1[0]["winner"] if r1 else None
    r = subprocess.run([floorctl, "--floor", floor, "audit", "1"], capture_output=True, text=True)
    try:
        audit = _json.loads(r.stdout)
    except ValueError:
        audit = []
    ok(r.returncode == 0 and len(audit) == 1 and audit[0]["winner"] == winner
       and audit[0]["fixes"][0]["player"] == winner and audit[0]["fixes"][0]["flags"] & 1,
       "floorctl audit 1: the winner and the fixes that decided it, from the journal",
       r.stdout[:300])
    r = subprocess.run([floorctl, "--floor", floor, "audit", "2"], capture_output=True, text=True)
    ok(r.returncode == 1 and "not been awarded" in r.stderr, "floorctl audit of an unclaimed clue")

    # A restart on the journal replays the roster changes and the loads: round 3 starts by
    # itself (auto_start) and takes layout 3, loaded during round 2; tag 60 is known, 70 is not.
    with open(floor) as f:
        text = f.read().replace("auto_start = no", "auto_start = yes")
    with open(floor, "w") as f:
        f.write(text)
    out2 = os.path.join(work, "ctl-restart.pcap")
    rc, rep2, log = harness.run_floord(floord, floor, caps, out2, work, "ctl-restart",
                                       check=False)
    ok(rc == 0, "the restart runs", log[-300:])
    if rc == 0:
        s2, _ = harness.decode(out2)
        st2 = s2["final_state"]
        ok([(c["round_id"], c["clue_id"]) for c in st2["claims"]] == [(3, 9)],
           "restart: round 3 plays layout 3, loaded for it before the restart (clue 9 only)",
           st2["claims"])
        ok(rep2["drops"]["pipeline"]["unknown_tag"] == len(fx[tag_of[REMOVED]]),
           "restart: the added tag is known, every fix of the removed tag is unknown_tag",
           (rep2["drops"]["pipeline"]["unknown_tag"], len(fx[tag_of[REMOVED]])))
    # The loaded file changed for the worse since: the restart refuses to guess.
    with open(files["third.txt"], "w") as f:
        f.write(BAD_LAYOUT)
    rc, _, log = harness.run_floord(floord, floor, caps, out2, work, "ctl-restart-bad",
                                    check=False)
    ok(rc == 3 and "journal: command 8 'load layout " + files["third.txt"] in log
       and files["third.txt"] + ":3: expected" in log,
       "restart with the loaded layout's file now bad: refused, naming the command and the line",
       log[-400:])
    if lay == "rx+owner/tx":
        control_positions_only(floord, work, ok, floorctl)


def control_positions_only(floord, work, ok, floorctl):
    """Without a [game] layout: the roster commands work, the game's are refused."""
    import json as _json
    import shutil
    import time

    cap, roster, keys, _ = harness.make_capture(work, "po", players=20, gateways=2, seconds=2.0)
    tag0 = harness.mkcapture.load_roster(roster)[0][0]
    floor, sock = os.path.join(work, "po.ini"), os.path.join(work, "po.sock")
    harness.write_floor(floor, roster, keys, "rx+owner/tx")
    with open(floor) as f:
        text = f.read().replace("[roster]", f"[control]\nsocket = {sock}\n[roster]")
    with open(floor, "w") as f:
        f.write(text)
    prefix, out = f"fcrp-po-{os.getpid()}", os.path.join(work, "po.out.pcap")
    report = os.path.join(work, "po.json")
    p = subprocess.Popen([floord, "-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
                          "--no-shconf", f"--file-prefix={prefix}", "--log-level=*:error",
                          f"--vdev=net_pcap0,rx_pcap={cap},tx_pcap={out}", "--", "--floor",
                          floor, "--replay", "--pace", "--report-json", report],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def ctl(*args):
        r = subprocess.run([floorctl, "--floor", floor, "--json", *args], capture_output=True,
                           text=True, timeout=10)
        return r.returncode, _json.loads(r.stdout) if r.stdout.strip() else {}

    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        rc, r1 = ctl("load", "layout", os.path.join(work, "next.txt"))
        rc2, r2 = ctl("round", "start")
        ok(rc == 1 and rc2 == 1 and "no game" in r1.get("error", "")
           and "no game" in r2.get("error", ""),
           "positions only: load layout and round commands are refused (no game)", (r1, r2))
        rc, r = ctl("roster", "remove", f"0x{tag0:x}")
        ok(rc == 0 and r.get("cmd_seq") == 1, "positions only: roster remove is taken", r)
        outp, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    s, _ = harness.decode(out)
    with open(report) as f:
        rep = _json.load(f)
    cmds = [(c["cmd_seq"], c["command"], c["status"], c["arg"])
            for c in s["final_state"]["commands"]]
    ok(p.returncode == 0 and cmds == [(1, 7, 0, 0)]
       and rep["drops"]["pipeline"]["unknown_tag"] > 0,
       "positions only: the remove is echoed and the tag's later fixes are unknown_tag",
       (cmds, rep["drops"]["pipeline"], outp[-300:]))


def skew_capture(src, dst, keys, gateway, skew_ns):
    """The capture with one gateway's clock skew_ns off: its base times moved, frames re-signed."""
    import fcpcap
    import ref_codec as rc

    raw = harness.mkcapture.load_keys(keys)
    with open(dst, "wb") as f:
        w = fcpcap.PcapWriter(f, nanosecond=False)
        for ts, data, info, fr in uplink_frames(src, keys):
            if fr is None:
                w.write(ts, data)
                continue
            hdr = dict(fr["hdr"])
            if hdr["gateway_id"] == gateway:
                key_id, alg, key = next(k for k in raw[gateway] if k[0] == hdr["key_id"])
                hdr["base_time_ns"] += skew_ns
                for k in ("magic", "version", "record_count"):
                    hdr.pop(k, None)
                payload = rc.encode_uplink({"hdr": hdr, "records": fr["records"], "key": key})
                data = fcpcap.build_udp_frame(
                    info["src_mac"], info["dst_mac"], info["src_ip"], info["dst_ip"],
                    info["src_port"], info["dst_port"], payload)
            w.write(ts, data)


def skew(floord, work, ok):
    cap, roster, keys, layout = claims_setup(work, players=128, seed=9)
    truth = reference_claim(cap, roster, keys)
    gw = max(harness.mkcapture.load_keys(keys))
    chosen = None
    for ns in (40_000_000, -40_000_000, 20_000_000, -20_000_000, 70_000_000, -70_000_000):
        path = os.path.join(work, f"skew{ns}.pcap")
        skew_capture(cap, path, keys, gw, ns)
        if reference_claim(path, roster, keys)[0] != truth[0]:
            chosen = (ns, path)
            break
    ok(chosen is not None, "a skew of one gateway that changes who looks first on raw times",
       truth)
    if chosen is None:
        return
    floor = os.path.join(work, "skew.ini")
    game_floor(floor, roster, keys, layout, "1rx-2owners")
    _, rep, _ = harness.run_floord(floord, floor, [chosen[1]], os.path.join(work, "skew.out"),
                                   work, "skew")
    s, _ = harness.decode(os.path.join(work, "skew.out"))
    cl = s["final_state"]["claims"]
    ok(len(cl) == 1 and cl[0]["winner"] == truth[0],
       f"gateway {gw} {chosen[0] / 1e6:+.0f} ms off: floord still crowns the true first "
       f"(player {truth[0]})", cl)


def retransmit(floord, work, ok):
    import fcpcap
    import ref_codec as rc

    cap, roster, keys, layout = claims_setup(work, seconds=4)
    # Requests from a console at 198.18.2.1:50000, 3 s in (after the award), to port 47481.
    asks = [("events 1-3", 1, 1, 3), ("too many", 1, 2, 300), ("not yet", 1, 1, 50),
            ("wrong session", 99, 1, 2), ("count 0", 1, 1, 0)]
    src_mac, dst_mac = bytes.fromhex("020000000201"), bytes.fromhex("027063617000")
    frames = list(fcpcap.PcapReader(cap))
    t0 = frames[0][0] + 3_000_000_000
    for k, (_, session, first, count) in enumerate(asks):
        payload = rc.encode_rt_request({"fields": {"session_id": session, "first_event_seq": first,
                                                   "count": count}})
        frames.append((t0 + k * 1000, fcpcap.build_udp_frame(
            fcpcap.mac_str(src_mac), fcpcap.mac_str(dst_mac), "198.18.2.1", "198.18.0.1",
            50000 + k, 47481, payload)))
    frames.sort(key=lambda f: f[0])
    withreq = os.path.join(work, "rt.pcap")
    with open(withreq, "wb") as f:
        w = fcpcap.PcapWriter(f, nanosecond=False)
        for ts, data in frames:
            w.write(ts, data)
    floor = os.path.join(work, "rt.ini")
    game_floor(floor, roster, keys, layout, "rx+owner/tx")
    out = os.path.join(work, "rt.out.pcap")
    _, rep, _ = harness.run_floord(floord, floor, [withreq], out, work, "rt")
    ok(rep["retransmit"]["requests_rx"] == 4 and rep["retransmit"]["dropped_rx"] == 1,
       "four requests handed to TX, the count-0 one dropped silently", rep["retransmit"])
    originals, replies = {}, {}
    for _, data in fcpcap.PcapReader(out):
        info, _ = fcpcap.parse_udp_frame(data)
        pkt = rc.decode_downlink(info["payload"])
        h = pkt["hdr"]
        if h["flags"] & rc.DL_F_RETRANSMIT:
            replies[info["dst_port"]] = (info, pkt)
            continue
        for i, m in enumerate(pkt["msgs"][: h["event_count"]]):
            originals[h["first_event_seq"] + i] = m
    info, pkt = replies.get(50000, (None, None))
    ok(pkt is not None and info["dst_ip"] == "198.18.2.1" and info["src_port"] == 47481
       and info["dst_mac"] == fcpcap.mac_str(src_mac) and pkt["hdr"]["packet_seq"] == 0,
       "events 1-3: a unicast reply from the retransmit port to the requester", info)
    if pkt is not None:
        got = {pkt["hdr"]["first_event_seq"] + i: m for i, m in enumerate(pkt["msgs"])}
        ok(pkt["hdr"]["event_count"] == 3 and all(got[s] == originals[s] for s in (1, 2, 3)),
           "events 1-3 resent exactly as first sent", [m.get("template") for m in pkt["msgs"]])
    for port, (name, _, _, _), reason in ((50001, asks[1], 2), (50002, asks[2], 5),
                                           (50003, asks[3], 4)):
        info, pkt = replies.get(port, (None, None))
        m = pkt["msgs"][0] if pkt else {}
        ok(pkt is not None and pkt["hdr"]["event_count"] == 0 and m.get("reason") == reason,
           f"{name}: refused with reason {reason}", m)
    ok(50004 not in replies, "count 0: no reply")


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    floord, what = argv[1], argv[2]
    ok = Checks()
    with tempfile.TemporaryDirectory(prefix=f"fc-replay-{what}-") as work:
        {"game": game, "layouts": layouts, "hostile": hostile, "refusals": refusals,
         "claims": claims, "respawn": respawn, "hotspot": hotspot, "teleport": teleport,
         "recovery": recovery, "skew": skew, "retransmit": retransmit,
         "control": lambda f, w, o: control(f, w, o, argv[3]),
         # the same on 2 RX x 2 owners: every RX's tag cache and the stripe-border routing of
         # the loaded layout's clue switch at the command's tick
         "control-2rx": lambda f, w, o: control(f, w, o, argv[3], "2rx-2owners"),
         }[what](floord, work, ok)
    return ok.exit()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
