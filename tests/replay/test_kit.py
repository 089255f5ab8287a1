#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Self-test of the replay test kit: fcpcap, mkcapture and decode_capture.

  python3 test_kit.py

Runs the tools through their command lines in a temporary directory and checks what they
write with code of its own (ref_codec for the protocol, a tally written here for the counters),
so that a mistake in a tool does not simply agree with itself. Prints one line per check and
ends with "N passed, M failed". Exit status 0 when everything passed, 1 otherwise.
"""

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

import fcpcap  # noqa: E402
import mkcapture  # noqa: E402
import ref_codec as rc  # noqa: E402

PLAYERS, GATEWAYS, SECONDS = 10, 2, 2
DST_IP, DST_PORT = "198.18.0.1", 47474


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""))
        return ok


def run(args):
    """Runs a tool; returns (exit status, stdout, stderr)."""
    p = subprocess.run([sys.executable] + args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


# ------------------------------------------------------------------------------------------
# fcpcap
# ------------------------------------------------------------------------------------------

def test_fcpcap(c, tmp):
    frames = [(1767225600000000000, b"\x01" * 60), (1767225600000001000, b"\x02" * 61)]
    for ns in (False, True):
        path = os.path.join(tmp, f"rt_{ns}.pcap")
        fcpcap.write_pcap(path, frames, nanosecond=ns)
        r = fcpcap.PcapReader(path)
        magic = struct.unpack_from("<I", open(path, "rb").read(4))[0]
        c.check(list(r) == frames and r.nanosecond == ns and
                magic == (fcpcap.MAGIC_NS if ns else fcpcap.MAGIC_US) and r.linktype == 1,
                f"fcpcap: {'ns' if ns else 'µs'} pcap round trip (magic {magic:08x})")
    path = os.path.join(tmp, "ns_only.pcap")
    fcpcap.write_pcap(path, [(1767225600000000007, b"\0" * 60)], nanosecond=True)
    c.check(fcpcap.read_pcap(path)[0][0] == 1767225600000000007,
            "fcpcap: ns timestamps keep their nanoseconds")
    try:
        fcpcap.write_pcap(os.path.join(tmp, "bad.pcap"), [(1767225600000000007, b"")])
        c.check(False, "fcpcap: a µs pcap refuses a sub-µs timestamp")
    except ValueError:
        c.check(True, "fcpcap: a µs pcap refuses a sub-µs timestamp")
    # The RFC 1071 checksum on a textbook IPv4 header (checksum field zero): 0xb861.
    hdr = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    c.check(fcpcap.inet_checksum(hdr) == 0xB861, "fcpcap: IPv4 header checksum known answer")
    for vlan in (None, 42):
        f = fcpcap.build_udp_frame("02:00:00:00:01:07", "02:70:63:61:70:00", "198.18.1.7",
                                   DST_IP, 40007, DST_PORT, b"payload!", vlan=vlan)
        info, why = fcpcap.parse_udp_frame(f)
        c.check(why is None and info["payload"] == b"payload!" and info["vlan"] == vlan and
                info["df"] and info["udp_checksum_ok"] and info["src_ip"] == "198.18.1.7" and
                info["dst_port"] == DST_PORT and info["src_port"] == 40007,
                f"fcpcap: build/parse a UDP frame (vlan {vlan}), DF and both checksums right")
    f = fcpcap.build_udp_frame("02:00:00:00:01:07", "02:70:63:61:70:00", "198.18.1.7", DST_IP,
                               40007, DST_PORT, b"x", udp_checksum=False)
    c.check(fcpcap.parse_udp_frame(f)[0]["udp_checksum"] == 0, "fcpcap: UDP checksum 0 option")
    f2 = fcpcap.build_udp_frame("02:00:00:00:01:07", "02:70:63:61:70:00", "198.18.1.7", DST_IP,
                                40007, DST_PORT, b"x")
    bad2 = bytearray(f2)
    bad2[-1] ^= 0xFF
    c.check(fcpcap.parse_udp_frame(bytes(bad2))[0]["udp_checksum_ok"] is False,
            "fcpcap: a corrupted payload fails the UDP checksum")
    c.check(fcpcap.mac_str(fcpcap.mcast_mac("239.192.0.1")) == "01:00:5e:40:00:01" and
            fcpcap.mac_str(fcpcap.mcast_mac("239.128.1.2")) == "01:00:5e:00:01:02",
            "fcpcap: 01:00:5e mapping keeps the group's low 23 bits")


# ------------------------------------------------------------------------------------------
# mkcapture
# ------------------------------------------------------------------------------------------

def mk(tmp, name, fx, seed=1, scenario="normal", seconds=SECONDS):
    out = os.path.join(tmp, name + ".pcap")
    summ = os.path.join(tmp, name + ".json")
    rcode, so, se = run([os.path.join(HERE, "mkcapture.py"), "--out", out,
                         "--roster", fx[0], "--keys", fx[1], "--players", str(PLAYERS),
                         "--gateways", str(GATEWAYS), "--seconds", str(seconds),
                         "--seed", str(seed), "--scenario", scenario, "--summary", summ])
    if rcode != 0:
        raise RuntimeError(f"mkcapture {name} failed ({rcode}): {so}{se}")
    with open(out, "rb") as f:
        data = f.read()
    with open(summ) as f:
        return data, out, json.load(f)


def receive_all(path, keys):
    """Every frame through fcpcap and ref_codec.receive_uplink, in capture order, with the
    replay windows and the capture clock. Returns a list of dicts per frame: ts, info, outcome
    ("accepted", "net.X" or "uplink.X"), decoded (when accepted)."""
    windows, out = {}, []
    for ts, data in fcpcap.read_pcap(path):
        e = {"ts": ts, "data": data}
        info, why = fcpcap.parse_udp_frame(data)
        e["info"] = info
        if why:
            e["outcome"] = "net." + why
        elif info["dst_ip"] != DST_IP or info["dst_port"] != DST_PORT:
            e["outcome"] = "net.wrong_port" if info["dst_port"] != DST_PORT else "net.wrong_dst"
        else:
            try:
                e["decoded"] = rc.receive_uplink(info["payload"], keys, windows=windows,
                                                 now_ns=ts)
                e["outcome"] = "accepted"
            except rc.WireError as err:
                e["outcome"] = "uplink." + err.reason
        out.append(e)
    return out


def fix_list(frames):
    """(frame index, gateway, fix dict with t_ns) of every accepted fix, in capture order."""
    out = []
    for i, e in enumerate(frames):
        if e["outcome"] != "accepted":
            continue
        h = e["decoded"]["hdr"]
        for r in e["decoded"]["records"]:
            out.append((i, h["gateway_id"], dict(r, t_ns=h["base_time_ns"] + r["dt_us"] * 1000)))
    return out


def test_mkcapture(c, tmp):
    fxdir = os.path.join(tmp, "fixtures")
    rcode, so, se = run([os.path.join(HERE, "mkcapture.py"), "--write-fixtures", fxdir,
                         "--players", str(PLAYERS), "--gateways", str(GATEWAYS)])
    roster_path, keys_path = os.path.join(fxdir, "roster.csv"), os.path.join(fxdir,
                                                                            "gateways.keys")
    roster = mkcapture.load_roster(roster_path)
    gws = mkcapture.load_keys(keys_path)
    c.check(rcode == 0 and len(roster) == PLAYERS and list(gws) == [1, 2] and
            roster[3] == (0x0000A4C100000003, 3, 3, "player-3") and
            all(k[0][1] == rc.MAC_HMAC_SHA256_128 for k in gws.values()) and
            os.stat(keys_path).st_mode & 0o777 == 0o600 and
            "TEST KEYS" in open(keys_path).read(),
            "mkcapture --write-fixtures: roster (tag 0x0000A4C1_00000000 + player, team % 8) "
            "and a 0600 keys file of commented test keys", so + se)
    fx = (roster_path, keys_path)
    keys = mkcapture.receiver_keys(gws)
    tags = {t: p for t, p, _, _ in roster}

    # Determinism.
    a1, p1, s1 = mk(tmp, "n1", fx, seed=1)
    a2, _, _ = mk(tmp, "n2", fx, seed=1)
    b, _, _ = mk(tmp, "n3", fx, seed=2)
    c.check(a1 == a2, f"mkcapture: same seed twice -> identical bytes ({len(a1)} bytes)")
    c.check(a1 != b, "mkcapture: another seed -> different bytes")

    # The normal capture, frame by frame.
    c.check(struct.unpack_from("<I", a1)[0] == fcpcap.MAGIC_US,
            "mkcapture: microsecond pcap (magic a1b2c3d4)")
    frames = receive_all(p1, keys)
    ts = [e["ts"] for e in frames]
    c.check(ts == sorted(ts) and all(t % 1000 == 0 for t in ts) and
            ts[0] == s1["first_ts_ns"] and ts[-1] == s1["last_ts_ns"] and
            len(frames) == s1["frames"],
            f"mkcapture: {len(frames)} frames in time order, whole µs, summary's first/last/count")
    bad = [(i, e["outcome"]) for i, e in enumerate(frames) if e["outcome"] != "accepted"]
    c.check(not bad, "mkcapture normal: every frame passes ref_codec.receive_uplink "
            "(right keys, replay windows, 2 s clock bound on the capture clock)", str(bad[:5]))
    if bad:
        return
    problems = []
    last_seq = {}
    for i, e in enumerate(frames):
        h, info = e["decoded"]["hdr"], e["info"]
        gw = h["gateway_id"]
        if (info["src_ip"], info["src_port"], info["src_mac"], info["dst_mac"]) != \
                (f"198.18.1.{gw}", 40000 + gw, f"02:00:00:00:01:{gw:02x}", "02:70:63:61:70:00"):
            problems.append(f"frame {i}: addresses {info}")
        if not (info["df"] and info["udp_checksum_ok"]):
            problems.append(f"frame {i}: DF or UDP checksum")
        if h["seq"] >> 32 != 1 or h["seq"] <= last_seq.get(gw, 0):
            problems.append(f"frame {i}: seq {h['seq']:#x} after {last_seq.get(gw, 0):#x}")
        last_seq[gw] = h["seq"]
        n = len(e["decoded"]["records"])
        if n > 42 or h["base_time_ns"] % 1000:
            problems.append(f"frame {i}: {n} records, base {h['base_time_ns']}")
        if not 200_000 <= e["ts"] - (h["base_time_ns"] + 25_000_000) <= 900_000:
            problems.append(f"frame {i}: capture time - (base + 25 ms) not in 200..900 µs")
        for r in e["decoded"]["records"]:
            if not (0 <= r["dt_us"] <= 25_000 and r["z_mm"] == 1100 and r["err_mm"] == 20 and
                    r["quality"] == 90 and r["flags"] == 0x02 and r["tag_id"] in tags):
                problems.append(f"frame {i}: record {r}")
            zone = min(GATEWAYS - 1, r["x_mm"] * GATEWAYS // 20000)
            if gw != [1, 2][zone]:
                problems.append(f"frame {i}: x {r['x_mm']} reported by gateway {gw}")
    c.check(not problems, "mkcapture normal: addresses, DF, checksums, seq epoch 1 increasing per "
            "gateway, <= 42 fixes, 0 <= dt_us <= 25000, latency 200..900 µs, fix fields, "
            "the zone's gateway reports", "; ".join(problems[:5]))

    fixes = fix_list(frames)
    per_tag = {}
    for _, _, r in fixes:
        per_tag.setdefault(r["tag_id"], []).append(r)
    problems = []
    for tag, rs in per_tag.items():
        if [r["fix_seq"] for r in rs] != list(range(1, len(rs) + 1)):
            problems.append(f"tag {tag:#x}: fix_seq not 1..n in order")
        for r0, r1 in zip(rs, rs[1:]):
            dt = (r1["t_ns"] - r0["t_ns"]) / 1e9
            v = math.hypot(r1["x_mm"] - r0["x_mm"], r1["y_mm"] - r0["y_mm"]) / 1000 / dt
            if abs(dt - 0.05) > 1e-6 or v > 1.5 + 0.03:
                problems.append(f"tag {tag:#x}: step {dt} s at {v:.2f} m/s")
        if not all(100 <= r["x_mm"] <= 19900 and 100 <= r["y_mm"] <= 9900 for r in rs):
            problems.append(f"tag {tag:#x}: outside the floor")
    c.check(len(per_tag) == PLAYERS and len(fixes) == PLAYERS * SECONDS * 20 == s1["fixes"] and
            not problems,
            f"mkcapture normal: {len(fixes)} fixes, 20 Hz per tag, fix_seq 1..n, <= 1.5 m/s, "
            "inside the floor", "; ".join(problems[:5]))
    final_ok = True
    for tag, rs in per_tag.items():
        want = s1["final_positions"][str(tags[tag])]
        r = rs[-1]
        final_ok &= (want["x_mm"], want["y_mm"], want["fix_seq"], want["t_ns"]) == \
            (r["x_mm"], r["y_mm"], r["fix_seq"], r["t_ns"]) and \
            want["x_cm"] == (r["x_mm"] + 5) // 10
    c.check(final_ok, "mkcapture normal: the summary's final positions are each player's last "
            "fix (and its downlink cm)")

    # Crowded: half the players converge on the centre and stay within 10 cm.
    _, pc, sc = mk(tmp, "crowded", fx, scenario="crowded", seconds=5)
    fr = receive_all(pc, keys)
    problems = [f"frame {i}: {e['outcome']}" for i, e in enumerate(fr)
                if e["outcome"] != "accepted"]
    arrived = {}
    for _, _, r in fix_list(fr):
        p = tags[r["tag_id"]]
        d = math.hypot(r["x_mm"] - 10000, r["y_mm"] - 5000)
        if p < PLAYERS // 2:
            if d <= 100:
                arrived.setdefault(p, r["t_ns"])
            elif p in arrived:
                problems.append(f"player {p} left the centre ({d:.0f} mm)")
    c.check(not problems and sorted(arrived) == list(range(PLAYERS // 2)) and
            {str(p): t for p, t in arrived.items()} == sc["crowded"]["arrival_ns"],
            f"mkcapture crowded: players 0..{PLAYERS // 2 - 1} reach the centre and stay within "
            "10 cm; arrival times as summarised", "; ".join(problems[:5]))

    # Hostile: each bad frame fails with exactly the summary's reason, the rest pass.
    _, ph, sh = mk(tmp, "hostile", fx, scenario="hostile")
    fr = receive_all(ph, keys)
    hostile = {h["frame_index"]: h for h in sh["hostile"]}
    problems = []
    for i, e in enumerate(fr):
        h = hostile.get(i)
        want = h["counter"] if h and h["counter"].startswith(("net.", "uplink.")) else "accepted"
        if e["outcome"] != want:
            problems.append(f"frame {i} ({h['cls'] if h else 'valid'}): {e['outcome']}, "
                            f"summary says {want}")
    n_drop = sum(1 for h in sh["hostile"] if h["counter"].startswith(("net.", "uplink.")))
    c.check(not problems and len(fr) == sh["frames"],
            f"mkcapture hostile: {n_drop} bad frames fail with exactly the summary's reason "
            f"(fcpcap for net.*, ref_codec.receive_uplink for uplink.*), the other "
            f"{len(fr) - n_drop} pass", "; ".join(problems[:5]))
    spec = ["runt", "bad_magic", "bad_version", "bad_msg_type", "bad_mac_alg", "bad_record_len",
            "bad_record_count", "bad_length", "unknown_gateway", "unknown_key",
            "key_alg_mismatch", "replay_old", "replay_dup", "bad_mac", "clock_skew"]
    got = sorted(h["counter"] for h in sh["hostile"])
    net = ["net.arp", "net.ipv6", "net.not_udp", "net.fragment", "net.wrong_port"]
    c.check(all(f"uplink.{r}" in got for r in spec) and all(n in got for n in net) and
            all(sh["classes"][h["cls"]] == {"count": 1, "counter": h["counter"]}
                for h in sh["hostile"]),
            "mkcapture hostile: one frame of every §3.8 drop reason and of ARP, IPv6, ICMP, "
            "fragment, other port; each class counted once in the summary")
    # replay_dup is an exact copy of an earlier frame; bad_mac differs from a valid frame.
    i = next(h["frame_index"] for h in sh["hostile"] if h["cls"] == "replay_dup")
    c.check(any(fr[j]["data"] == fr[i]["data"] for j in range(i)),
            "mkcapture hostile: replay_dup is byte for byte an earlier frame")
    # The three record-level cases, from the accepted fixes in capture order.
    newest, seen, tally = {}, {}, {"unknown_tag": [], "duplicate": [], "older": []}
    for fi, gw, r in fix_list(fr):
        key = (r["tag_id"], r["fix_seq"])
        if r["tag_id"] not in tags:
            tally["unknown_tag"].append(fi)
            continue
        cur = newest.get(r["tag_id"])
        if key in seen:
            first = seen[key]
            if (first[1]["x_mm"], first[1]["y_mm"], first[1]["z_mm"], first[1]["t_ns"]) == \
                    (r["x_mm"], r["y_mm"], r["z_mm"], r["t_ns"]) and first[0] != gw:
                tally["duplicate"].append(fi)
        elif cur is not None and r["t_ns"] < cur["t_ns"]:
            tally["older"].append(fi)
        seen.setdefault(key, (gw, r))
        if cur is None or r["t_ns"] > cur["t_ns"]:
            newest[r["tag_id"]] = r
    idx = {h["cls"]: h["frame_index"] for h in sh["hostile"]}
    c.check(tally["unknown_tag"] == [idx["unknown_tag"]] and
            tally["duplicate"] == [idx["duplicate_fix"]] and
            tally["older"] == [idx["older_fix"]] and
            len(fr[idx["older_fix"]]["decoded"]["records"]) == 1 and
            len(fr[idx["unknown_tag"]]["decoded"]["records"]) > 1,
            "mkcapture hostile: one unknown tag inside a valid frame, one fix repeated by a "
            "second gateway, one frame whose only fix is older, at the summary's frames",
            str(tally))
    counts = {}
    for e in fr:
        if e["outcome"] != "accepted":
            counts[e["outcome"]] = counts.get(e["outcome"], 0) + 1
    counts.update({"pipeline.unknown_tag": 1, "owners.duplicates": 1, "owners.older": 1})
    exp = {k: v for k, v in sh["expected_counters"].items() if "." in k and k != "owners.applied"}
    c.check(counts == exp, "mkcapture hostile: expected_counters match an independent tally",
            f"{counts} != {exp}")
    fin = all((sh["final_positions"][str(tags[t])]["x_mm"],
               sh["final_positions"][str(tags[t])]["fix_seq"]) == (r["x_mm"], r["fix_seq"])
              for t, r in newest.items())
    c.check(fin and len(newest) == PLAYERS,
            "mkcapture hostile: final positions are the newest accepted fix per player")


# ------------------------------------------------------------------------------------------
# decode_capture
# ------------------------------------------------------------------------------------------

SESSION = 0x5EED0001
BASE = 1767225600000000000
TICK = 50_000_000
GROUP = {0: "239.192.0.1", 1: "239.192.0.2"}


def dl(chan, seq, tick, first_ev, msgs, events=0, msg_count=None):
    hdr = dict(flags=0, session_id=SESSION, packet_seq=seq, send_time_ns=BASE + tick * TICK,
               first_event_seq=first_ev, tick=tick, event_count=events, channel_id=chan)
    if msg_count is not None:
        hdr["msg_count"] = msg_count
    return chan, rc.encode_downlink({"hdr": hdr, "msgs": msgs})


def posmsg(*entries):
    return dict(template="POSITIONS", entries=[dict(player=p, x_cm=x, y_cm=y, z_dm=11, status=1)
                                               for p, x, y in entries])


def snap(sid, part, parts, as_tick, as_pkt, as_ev):
    return dict(template="SNAPSHOT_PART", snapshot_id=sid, part=part, part_count=parts,
                as_of_tick=as_tick, as_of_packet_seq=as_pkt, as_of_event_seq=as_ev)


def downlink_session():
    """A short session as floord would send it: 6 ticks, events, two snapshots, the end."""
    hb = []
    echo = dict(template="COMMAND_ECHO", cmd_seq=1, command=1, status=0, arg=1)
    running = dict(template="ROUND_STATE", round_id=1, state=1, round_time_ms=0, cmd_seq=1)
    idle = dict(template="ROUND_STATE", round_id=0, state=0, round_time_ms=0, cmd_seq=0)
    clue = dict(template="CLUE_STATE", clue_id=17, points=50, x_cm=1000, y_cm=500,
                radius_mm=20, state=0, winner=0xFFFF)
    claimed = dict(template="CLUE_CLAIMED", clue_id=17, points=50, winner=3, winner_team=3,
                   contenders_total=1, round_id=1, meas_time_ns=BASE + 140_000_000,
                   contenders=[dict(player=3, flags=1, distance_mm=5,
                                    meas_time_ns=BASE + 140_000_000)])
    score = dict(template="SCORE", player=3, team=3, total=50, delta=50, clue_id=17,
                 team_total=50, round_id=1)
    return [
        dl(0, 1, 1, 1, [posmsg((0, 100, 100), (1, 200, 200), (2, 300, 300))]),
        dl(1, 1, 1, 1, [snap(1, 0, 2, 1, 1, 1), idle, posmsg((0, 100, 100))]),
        dl(1, 2, 1, 1, [snap(1, 1, 2, 1, 1, 1), posmsg((1, 200, 200), (2, 300, 300))]),
        dl(0, 2, 2, 1, [echo, running, posmsg((1, 250, 200))], events=2),
        dl(1, 3, 2, 3, hb),
        dl(0, 3, 3, 3, [dict(clue, template="CLUE_STATE"), posmsg((0, 110, 100))], events=1),
        dl(0, 4, 3, 4, [claimed, score], events=2),
        dl(1, 4, 3, 6, hb),
        dl(0, 5, 4, 6, [posmsg((1, 500, 200))]),
        dl(1, 5, 4, 6, [snap(2, 0, 1, 4, 5, 6), running, dict(clue, state=1, winner=3),
                        dict(score, delta=0, clue_id=0),
                        posmsg((0, 110, 100), (1, 500, 200), (2, 300, 300))]),
        dl(0, 6, 5, 6, [posmsg((1, 600, 200), (2, 310, 300))]),
        dl(1, 6, 5, 6, hb),
        dl(0, 7, 6, 6, hb),
        dl(1, 7, 6, 6, hb),
        dl(0, 8, 7, 6, [], msg_count=rc.DL_END_OF_SESSION),
        dl(1, 8, 7, 6, [], msg_count=rc.DL_END_OF_SESSION),
    ]


def write_downlink(path, packets):
    """Wraps the payloads as floord's TX does (DF, TTL 1, UDP checksum, 01:00:5e MAC) and
    writes a nanosecond pcap with arbitrary wall-clock record times, as net_pcap does."""
    out = []
    for k, (chan, payload) in enumerate(packets):
        g = GROUP[chan]
        f = fcpcap.build_udp_frame("02:70:63:61:70:00", fcpcap.mcast_mac(g), DST_IP, g, 47481,
                                   47480, payload, ttl=1)
        out.append((1767300000123456789 + k * 1001, f))
    fcpcap.write_pcap(path, out, nanosecond=True)
    return [f for _, f in out]


def test_decode_capture(c, tmp):
    tool = os.path.join(HERE, "decode_capture.py")
    pk = downlink_session()
    good = os.path.join(tmp, "dl_good.pcap")
    raw = write_downlink(good, pk)
    js = os.path.join(tmp, "dl_good.json")
    rcode, so, se = run([tool, good, "--json", js])
    s = json.load(open(js))
    c.check(rcode == 0 and not s["problems"],
            "decode_capture: a clean session (ns pcap) exits 0 with no problem", so + se)
    st = s["final_state"]
    want_pos = {"0": (110, 100), "1": (600, 200), "2": (310, 300)}
    c.check({p: (v["x_cm"], v["y_cm"]) for p, v in st["positions"].items()} == want_pos and
            st["positions"]["1"]["packet_seq"] == 6,
            "decode_capture: final positions = each player's newest channel-0 entry")
    c.check(st["events"] == 5 and st["round"]["round_id"] == 1 and st["round"]["state"] == 1 and
            st["clues"]["17"]["state"] == 1 and st["clues"]["17"]["winner"] == 3 and
            st["scores"]["3"]["total"] == 50 and len(st["claims"]) == 1 and
            len(st["commands"]) == 1,
            "decode_capture: events applied in order (round running, clue 17 claimed by 3, "
            "score 50)")
    snp = s["last_snapshot"]
    c.check(snp is not None and snp["snapshot_id"] == 2 and snp["parts"] == 1 and
            snp["as_of_tick"] == 4 and len(snp["positions"]) == 3 and
            s["snapshots_complete"] == 2,
            "decode_capture: last complete snapshot (id 2, 1 part, as of tick 4, 3 positions)")
    ch = s["channels"]
    c.check(ch["0"]["end_of_session"] and ch["1"]["end_of_session"] and
            ch["0"]["packets"][3] == [4, 3, BASE + 3 * TICK, 2, 2, ["CLUE_CLAIMED", "SCORE"]] and
            ch["1"]["packets"][2][5] == ["HEARTBEAT"] and
            ch["0"]["packets"][-1][5] == ["END_OF_SESSION"],
            "decode_capture: per-channel packet rows [seq, tick, send_time, msgs, events, kinds]"
            " and end of session on both channels")
    rcode, so, _ = run([tool, good, "--frames"])
    c.check(rcode == 0 and so.split("\n")[:-1] == [f.hex() for f in raw],
            "decode_capture --frames: one hex line per frame, byte for byte")

    def variant(name, frames, expect):
        path = os.path.join(tmp, f"dl_{name}.pcap")
        fcpcap.write_pcap(path, [(1767300000000000000 + k, f) for k, f in enumerate(frames)],
                          nanosecond=True)
        rc2, so2, se2 = run([tool, path])
        res = json.loads(so2) if so2.startswith("{") else {"problems": []}
        hit = [p for p in res["problems"] if expect in p]
        c.check(rc2 == 1 and hit, f"decode_capture catches {name}: exit 1, '{hit[:1]}'",
                so2[:300] + se2)
        return res

    # A lost channel-0 packet (packet_seq 4, which carried events 4 and 5).
    variant("a packet_seq gap", raw[:6] + raw[7:], "packet_seq gap, 4 .. 4 missing")
    # Channel-0 packets 5 and 6 swapped: reported, and the POSITIONS rule keeps 6's entry.
    sw = raw[:8] + [raw[10], raw[9], raw[8]] + raw[11:]
    r = variant("reordered packets", sw, "repeated or out of order")
    c.check(r.get("final_state", {}).get("positions", {}).get("1", {}).get("x_cm") == 600,
            "decode_capture: a late packet never moves a player back (POSITIONS rule)")
    variant("a repeated packet", raw[:4] + [raw[3]] + raw[4:], "packet_seq 2 repeated")
    variant("a missing end of session", raw[:-2], "no end-of-session")
    variant("a tick without a channel-1 packet", raw[:4] + raw[5:], "no packet in 1 tick")
    # Header faults: UDP checksum, TTL, multicast MAC, send time off the tick grid.
    f = bytearray(raw[0])
    f[-1] ^= 1
    variant("a bad UDP checksum", [bytes(f)] + raw[1:], "wrong UDP checksum")
    g = GROUP[0]
    f = fcpcap.build_udp_frame("02:70:63:61:70:00", fcpcap.mcast_mac(g), DST_IP, g, 47481,
                               47480, pk[0][1], ttl=64)
    variant("a wrong TTL", [f] + raw[1:], "TTL 64")
    f = fcpcap.build_udp_frame("02:70:63:61:70:00", "01:00:5e:00:00:01", DST_IP, g, 47481,
                               47480, pk[0][1], ttl=1)
    variant("a wrong multicast MAC", [f] + raw[1:], "is not 01:00:5e:40:00:01")
    p = bytearray(pk[0][1])
    struct.pack_into("<Q", p, 16, BASE + TICK + 1000)
    f = fcpcap.build_udp_frame("02:70:63:61:70:00", fcpcap.mcast_mac(g), DST_IP, g, 47481,
                               47480, bytes(p), ttl=1)
    variant("a send time off the tick grid", [f] + raw[1:], "tick boundary")
    p = bytearray(pk[3][1])
    p[40] = 12  # the first message's length: not a multiple of 8
    f = fcpcap.build_udp_frame("02:70:63:61:70:00", fcpcap.mcast_mac(g), DST_IP, g, 47481,
                               47480, bytes(p), ttl=1)
    variant("an undecodable packet", raw[:3] + [f] + raw[4:], "bad_message")


def main():
    c = Checks()
    tmp = tempfile.mkdtemp(prefix="fc_replay_kit_")
    try:
        for name, fn in (("fcpcap", test_fcpcap), ("mkcapture", test_mkcapture),
                         ("decode_capture", test_decode_capture)):
            try:
                fn(c, tmp)
            except Exception as e:  # a crash in a tool or here is a failure, not a traceback
                c.check(False, f"{name}: raised {type(e).__name__}: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
