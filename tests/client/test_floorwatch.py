#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""floorwatch and the subscriber library end to end, on what floord really sends.

  test_floorwatch.py FLOORD FLOORWATCH pcap      floorwatch --pcap on floord's output capture
                                                 ends with the final state decode_capture.py
                                                 (an independent decoder) finds in it
  test_floorwatch.py FLOORD FLOORWATCH loss      the same capture without the packet of the
                                                 first claim and the next snapshot: recovered
                                                 from the snapshot loop, the same final state
  test_floorwatch.py FLOORD FLOORWATCH live      live (unicast) from fake_floord.py, which drops
                                                 that packet and answers retransmit requests:
                                                 every event recovered, nothing else asked
  test_floorwatch.py FLOORD FLOORWATCH refused   the same, the requests refused TOO_OLD: the
                                                 snapshot loop instead
  test_floorwatch.py FLOORD FLOORWATCH multicast as live, on a multicast group floorwatch
                                                 joins (skipped, exit 77, where the host has no
                                                 multicast route or loopback)
  test_floorwatch.py FLOORD FLOORWATCH example --build-root DIR --cc CC --pkg-config PKG
                                                 docs/client.md's example, built through
                                                 floorcast-client.pc, run against fake_floord.py

The game: tests/replay's generator, 96 players (half crowding the floor's centre) for 6 s, a
layout of six clues (one at the centre, four 0.8 m discs where walkers pass, one nobody reaches),
replayed through floord (net_pcap); tests/replay/harness.py runs it.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "replay"))

import fake_floord  # noqa: E402
import harness  # noqa: E402
from harness import Checks  # noqa: E402

LAYOUT = """# tests/client: a clue at the centre (the crowd's), four where walkers pass, one unreachable
policy = distance
settle_ms = 100
1,10240,5120,150,50
2,3000,3000,800,20
3,16000,7000,800,30
4,5000,8000,800,10
5,15000,2000,800,40
6,1000,1000,20,10
"""

T_CLUE_CLAIMED = 2
T_SNAPSHOT_PART = 5


def game(floord, work):
    """floord's output capture of the game, and decode_capture's summary of it."""
    fx = os.path.join(work, "fixtures")
    os.makedirs(fx, exist_ok=True)
    harness.mkcapture.main(["--write-fixtures", fx, "--players", "96", "--gateways", "2"])
    roster, keys = os.path.join(fx, "roster.csv"), os.path.join(fx, "gateways.keys")
    cap = os.path.join(work, "game.pcap")
    harness.mkcapture.main(["--out", cap, "--roster", roster, "--keys", keys, "--players", "96",
                            "--gateways", "2", "--seconds", "6", "--scenario", "crowded",
                            "--width-m", "20.48", "--height-m", "10.24", "--seed", "5"])
    layout = os.path.join(work, "layout.txt")
    with open(layout, "w") as f:
        f.write(LAYOUT)
    floor = os.path.join(work, "floor.ini")
    harness.write_floor(floor, roster, keys, "rtc", width_m=20.48, height_m=10.24)
    with open(floor) as f:
        text = f.read().replace("[roster]", f"[game]\nlayout = {layout}\n[roster]")
    with open(floor, "w") as f:
        f.write(text)
    out = os.path.join(work, "floord.pcap")
    harness.run_floord(floord, floor, [cap], out, work, "floorwatch")
    summary, _ = harness.decode(out)
    return out, summary


def run_floorwatch(floorwatch, args, timeout=60):
    p = subprocess.run([floorwatch, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def load_json(path):
    with open(path) as f:
        return json.load(f)


def claim_key(c):
    return {k: c[k] for k in ("event_seq", "clue_id", "winner", "winner_team", "points",
                              "contenders_total", "round_id", "meas_time_ns", "contenders")}


def compare(ok, name, w, s, claims=None):
    """floorwatch's JSON w against decode_capture's summary s. claims: the claims expected in
    the history (default: all of them). After a snapshot recovery a player whose last position
    came in that snapshot carries its as_of_packet_seq and as_of_tick, not the packet's."""
    fs, snap = s["final_state"], s["last_snapshot"]
    ok(w["ended"] and w["complete"], f"{name}: the session ended complete",
       (w["ended"], w["complete"]))
    ok(w["session_id"] == s["session_id"], f"{name}: the capture's session")
    ok(w["next_event_seq"] - 1 == fs["events"], f"{name}: every event of the session applied",
       (w["next_event_seq"], fs["events"]))
    ok({k: w["round"][k] for k in fs["round"]} == fs["round"], f"{name}: the round",
       (w["round"], fs["round"]))
    ok(w["scores"] == fs["scores"], f"{name}: every player's score", (w["scores"], fs["scores"]))
    ok(w["team_totals"] == fs["team_totals"], f"{name}: every team's score",
       (w["team_totals"], fs["team_totals"]))
    keys = ("x_cm", "y_cm", "z_dm", "status")
    if w["counters"]["snapshots_applied"] == 1:
        keys += ("packet_seq", "tick")
    pos = {p: {k: v[k] for k in keys} for p, v in w["positions"].items()}
    want = {p: {k: v[k] for k in keys} for p, v in fs["positions"].items()}
    ok(pos == want, f"{name}: {len(want)} positions, newest by packet_seq",
       [(p, pos.get(p), want[p]) for p in want if pos.get(p) != want[p]][:5])
    ok(set(w["clues"]) == set(snap["clues"]), f"{name}: the layout's {len(snap['clues'])} clues",
       (sorted(w["clues"]), sorted(snap["clues"])))
    bad = []
    for cid, c in w["clues"].items():
        want = dict(snap["clues"].get(cid, {}))
        want.update(fs["clues"].get(cid, {}))  # claimed since the last snapshot
        if any(c[k] != want.get(k) for k in ("clue_id", "points", "x_cm", "y_cm", "radius_mm",
                                              "state", "winner")):
            bad.append((c, want))
    ok(not bad, f"{name}: each clue's place, radius, state and winner", bad[:3])
    want_claims = [claim_key(c) for c in (fs["claims"] if claims is None else claims)]
    ok([claim_key(c) for c in w["claims"]] == want_claims,
       f"{name}: the claims history ({len(want_claims)} claims)",
       ([claim_key(c) for c in w["claims"]], want_claims))
    ok(all(c["contenders"] and c["contenders"][0]["player"] == c["winner"] and
           c["contenders"][0]["flags"] & 1 for c in w["claims"]),
       f"{name}: every claim lists its contenders, the winner first")
    ok(sum(w["counters"]["malformed"].values()) == 0, f"{name}: nothing malformed",
       w["counters"]["malformed"])


def first_claim_packet(ff):
    """Index of the first channel-0 packet carrying a CLUE_CLAIMED, and its events."""
    for i in ff.indexes(lambda h, m: h["channel_id"] == 0 and
                        any(t == T_CLUE_CLAIMED for t, _ in m[:h["event_count"]])):
        h = fake_floord.header(ff.packets[i])
        return i, range(h["first_event_seq"], h["first_event_seq"] + h["event_count"])
    raise AssertionError("the game has no claim")


def snapshot_packets_after(ff, i):
    """(index, as_of_event_seq) of the SNAPSHOT_PART packets after packet i."""
    out = []
    for j in ff.indexes(lambda h, m: h["channel_id"] == 1 and m and m[0][0] == T_SNAPSHOT_PART):
        if j > i:
            as_of = int.from_bytes(fake_floord.messages(ff.packets[j])[0][1][32:40], "little")
            out.append((j, as_of))
    return out


# ------------------------------------------------------------------------------------------

def t_pcap(a, work, ok):
    out, s = game(a.floord, work)
    ok(not s["problems"], "floord's output decodes with no problem", s["problems"][:3])
    ok(len(s["final_state"]["claims"]) >= 3, "the game has claims to show",
       s["final_state"]["claims"])
    j, svg = os.path.join(work, "w.json"), os.path.join(work, "w.svg")
    rc, text = run_floorwatch(a.floorwatch, ["--pcap", out, "--json", j, "--svg", svg,
                                             "--floor", "20.48x10.24", "--tui"])
    ok(rc == 0, "floorwatch --pcap exits 0", text[-2000:])
    w = load_json(j)
    compare(ok, "pcap", w, s)
    c = w["counters"]
    ok(c["snapshots_applied"] == 1 and c["recoveries"]["late_join"] == 1 and c["gaps"] == 0
       and c["rt_asked"] == 0, "one late join, no gap, nothing asked", c)
    ok(w["capture"]["frames"] == s["frames"] and w["capture"]["not_udp"] == 0,
       "every frame of the capture read", w["capture"])
    ok("round 1 ENDED" in text and "scoreboard" in text and "recent claims" in text,
       "the terminal view shows the round, the scoreboard and the claims", text[:400])
    root = ET.parse(svg).getroot()
    circles = [e for e in root.iter() if e.tag.endswith("circle")]
    players = [e for e in circles if e.get("class") == "player"]
    clues = [e for e in circles if (e.get("class") or "").startswith("clue")]
    claimed = [e for e in clues if "CLAIMED" in e.get("class")]
    ok(len(players) == len(w["positions"]), "the map: a dot per player",
       (len(players), len(w["positions"])))
    ok(len(clues) == len(w["clues"]) and len(claimed) == len(w["claims"]),
       "the map: a circle per clue, the claimed ones marked", (len(clues), len(claimed)))
    r1 = [e for e in clues if e.get("data-clue") == "1"]
    ok(r1 and abs(float(r1[0].get("r")) - 0.15 * 40) < 0.01,
       "the map: a clue's circle has its radius (150 mm at 40 px/m)")
    ok(any(e.tag.endswith("text") and (e.text or "").strip() == "1 m" for e in root.iter()),
       "the map has a scale")


def t_loss(a, work, ok):
    out, s = game(a.floord, work)
    ff = fake_floord.FakeFloord(out, ("127.0.0.1", 9))
    ci, lost = first_claim_packet(ff)
    snaps = snapshot_packets_after(ff, ci)
    ok(len(snaps) >= 2, "two snapshots follow the first claim", snaps)
    drop = {ci, snaps[0][0]}
    as_of = snaps[1][1]
    cut = os.path.join(work, "cut.pcap")
    with open(cut, "wb") as f:  # floord's capture has nanosecond timestamps
        wr = fake_floord.fcpcap.PcapWriter(f, nanosecond=True)
        for i, (ts, data) in enumerate(fake_floord.fcpcap.PcapReader(out)):
            if i not in drop:
                wr.write(ts, data)
    j = os.path.join(work, "w.json")
    rc, text = run_floorwatch(a.floorwatch, ["--pcap", cut, "--json", j])
    ok(rc == 0, "floorwatch --pcap exits 0", text[-2000:])
    w = load_json(j)
    # the history lacks the claims decided between the loss and the snapshot that resynced
    want = [c for c in s["final_state"]["claims"]
            if c["event_seq"] < lost[0] or c["event_seq"] >= as_of]
    compare(ok, "loss", w, s, claims=want)
    c = w["counters"]
    ok(c["recoveries"]["no_retransmit"] == 1 and c["snapshots_applied"] == 2,
       "the gap went to the snapshot loop, and the second snapshot after it resynced", c)
    ok(c["pkt_gaps"] == [1, 1] and c["rt_asked"] == 0, "one packet lost per channel", c)


def wait_bound(addr, port, timeout=10.0):
    """Until something has bound addr:port (floorwatch, with SO_REUSEADDR)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((addr, port))
        except OSError:
            return True
        finally:
            s.close()
        time.sleep(0.02)
    return False


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def multicast_works(group):
    """Whether a datagram sent to group comes back to a member on this host."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rx.bind((group, 0))
        rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                      socket.inet_aton(group) + socket.inet_aton("0.0.0.0"))
        rx.settimeout(1.0)
        tx.sendto(b"probe", (group, rx.getsockname()[1]))
        return rx.recv(16) == b"probe"
    except OSError:
        return False
    finally:
        rx.close()
        tx.close()


def live_run(a, work, ok, name, refuse=None, cmd=None, group="127.0.0.1"):
    """floord's output played by fake_floord to group without its first claim's packet;
    cmd(port, rt_port) is the subscriber. Returns (summary, fake, lost events, rc, output)."""
    out, s = game(a.floord, work)
    port = free_port()
    ff = fake_floord.FakeFloord(out, (group, port), refuse=refuse)
    ci, lost = first_claim_packet(ff)
    ff.drop = {ci}
    ff.start()
    p = subprocess.Popen(cmd(port, ff.rt_port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    try:
        ok(wait_bound(group, port), f"{name}: the subscriber is listening")
        ff.play()
        text, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
        ff.stop()
    return s, ff, lost, p.returncode, text


def t_live(a, work, ok, refuse=None, group="127.0.0.1"):
    name = "refused" if refuse else "live" if group == "127.0.0.1" else "multicast"
    j = os.path.join(work, "w.json")
    s, ff, lost, rc, text = live_run(
        a, work, ok, name, refuse,
        lambda port, rt: [a.floorwatch, "--group", group, "--port", str(port),
                          "--server", "127.0.0.1", "--rt-port", str(rt), "--seconds", "30",
                          "--json", j], group=group)
    ok(rc == 0, f"{name}: floorwatch exits 0", text[-2000:])
    w = load_json(j)
    c = w["counters"]
    ok(ff.requests and ff.requests[0][0] == lost[0], f"{name}: the lost events were asked for",
       (ff.requests, list(lost)))
    if refuse is None:
        compare(ok, name, w, s)
        ok(all(first >= lost[0] and first + n <= lost[-1] + 1 for first, n in ff.requests),
           f"{name}: only the lost events were asked for", ff.requests)
        ok(c["rt_answered"] >= 1 and c["snapshots_applied"] == 1 and
           c["recoveries"]["late_join"] == 1 and sum(c["recoveries"].values()) == 1,
           f"{name}: recovered by retransmit, no snapshot recovery", c)
    else:
        fs = s["final_state"]
        have = [claim_key(x) for x in w["claims"]]
        compare(ok, name, w, s, claims=[x for x in fs["claims"] if x in have])
        ok(not any(x["event_seq"] in lost for x in have),
           f"{name}: the lost claim is not in the history", have)
        ok(c["rt_refused"]["too_old"] == ff.refusals >= 1 and c["recoveries"]["refused"] == 1
           and c["snapshots_applied"] == 2, f"{name}: TOO_OLD sent it to the snapshot loop", c)


def t_example(a, work, ok):
    with open(os.path.join(ROOT, "docs", "client.md")) as f:
        doc = f.read()
    m = re.search(r"<!-- example: (\S+) -->\n```c\n(.*?)```", doc, re.S)
    ok(m is not None, "docs/client.md has the example program")
    if m is None:
        return
    src = os.path.join(work, m.group(1))
    with open(src, "w") as f:
        f.write(m.group(2))
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(a.build_root, "meson-uninstalled"))
    flags = subprocess.run([a.pkg_config, "--cflags", "--libs", "floorcast-client"],
                           capture_output=True, text=True, env=env)
    ok(flags.returncode == 0, "pkg-config knows floorcast-client", flags.stderr)
    exe = os.path.join(work, "scoreboard")
    cc = subprocess.run([*a.cc.split(), "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", exe,
                         src, *flags.stdout.split()], capture_output=True, text=True)
    ok(cc.returncode == 0, "the example compiles with -Wall -Wextra -Werror",
       cc.stdout + cc.stderr)
    if cc.returncode != 0:
        return
    s, ff, lost, rc, text = live_run(
        a, work, ok, "example", None,
        lambda port, rt: [exe, "127.0.0.1", str(port), "127.0.0.1", str(rt)])
    ok(rc == 0, "the example ends with the session, complete", text[-2000:])
    fs = s["final_state"]
    scores = {m.group(1): {"team": int(m.group(2)), "total": int(m.group(3))}
              for m in re.finditer(r"^player (\d+) \(team (\d+)\): (-?\d+)$", text, re.M)}
    ok(scores == fs["scores"], "it prints every player's score", (scores, fs["scores"]))
    claims = [(int(m.group(1)), int(m.group(2)), int(m.group(3))) for m in
              re.finditer(r"^clue (\d+) claimed by player (\d+) for (\d+) points", text, re.M)]
    want = [(c["clue_id"], c["winner"], c["points"]) for c in fs["claims"]]
    ok(claims == want, "it announces every claim, in order, the lost one included",
       (claims, want))
    ok(ff.requests, "it asked the fake floord for the lost events", ff.requests)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("floord")
    ap.add_argument("floorwatch")
    ap.add_argument("what", choices=["pcap", "loss", "live", "refused", "multicast", "example"])
    ap.add_argument("--build-root")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--pkg-config", default="pkg-config")
    a = ap.parse_args(argv[1:])
    ok = Checks()
    with tempfile.TemporaryDirectory(prefix=f"fc-floorwatch-{a.what}-") as work:
        if a.what == "pcap":
            t_pcap(a, work, ok)
        elif a.what == "loss":
            t_loss(a, work, ok)
        elif a.what == "live":
            t_live(a, work, ok)
        elif a.what == "refused":
            t_live(a, work, ok, refuse=1)
        elif a.what == "multicast":
            # an organisation-local group of its own per run: parallel runs do not meet
            group = f"239.255.{os.getpid() % 250 + 1}.{int(time.time()) % 250 + 1}"
            if not multicast_works(group):
                print(f"SKIP: no multicast to {group} on this host")
                return 77
            t_live(a, work, ok, group=group)
        else:
            t_example(a, work, ok)
    return ok.exit()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
