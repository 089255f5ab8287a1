#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""floord's downlink output capture, decoded and checked.

  decode_capture.py FILE [--json OUT] [--frames] [--tick-ms 50] [--ttl 1]

FILE is the pcap floord writes in replay (net_pcap tx_pcap: nanosecond pcap whose record
timestamps are wall clock, so they are ignored; µs pcaps are read too). Every frame is parsed as
Ethernet/IPv4/UDP and its payload decoded with ref_codec.decode_downlink (docs/protocol.md §4).

Checked (each failure is a "problem"):
  - headers: the IPv4 header checksum and the UDP checksum are right (floord always writes
    one), DF is set, the TTL is --ttl (floord's default 1), and a multicast datagram goes to
    the 01:00:5e MAC of its group (RFC 1112);
  - the payload decodes (any drop reason of §4.5 is a problem), one session_id throughout;
  - per channel (and feed), packet_seq runs 1, 2, 3, ... with no gap, repeat or reordering;
  - every packet's send_time_ns = a tick boundary: base + tick x the tick period, with base
    the same for all packets and a multiple of the period;
  - per channel, ticks never go back and every tick from 1 to the last appears at least once
    (floord sends at least one packet per channel and tick, §4.1);
  - channel 0's events are numbered consecutively (each packet's first_event_seq is the next
    one expected);
  - every snapshot-channel packet other than a heartbeat or the end starts with a
    SNAPSHOT_PART; a snapshot's parts agree, and a snapshot is complete before the next begins;
  - an end-of-session packet is the last packet of each channel.

Reported: per channel the packets as [packet_seq, tick, send_time_ns, msg_count, event_count,
[message kinds]], the problems, the final state a subscriber would hold (positions from
channel 0 under the POSITIONS rule of §7 step 9: an entry replaces a player's position only
from a higher packet_seq; the round, clues and scores from applying channel 0's events in
order), and the last complete snapshot. The JSON goes to stdout, or to OUT with --json (then a
short text summary goes to stdout). --frames prints instead every frame's bytes as hex, one per
line, for byte-for-byte comparisons between runs.

Exit status: 0 no problem, 1 problems found, 2 usage or file error.
"""

import argparse
import ipaddress
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

import fcpcap  # noqa: E402
import ref_codec as rc  # noqa: E402

MAX_PROBLEMS = 1000  # the JSON keeps the first ones and counts the rest


class Decoder:
    def __init__(self, tick_ns, ttl):
        self.tick_ns = tick_ns
        self.ttl = ttl
        self.problems = []
        self.more_problems = 0
        self.session = None
        self.tick_base = None        # send_time_ns - tick * tick_ns, the same for all packets
        self.chan = {}               # "0", "1", "0B", ... -> per-channel state
        self.retransmit = []
        self.pos = {}                # player -> (stamp packet_seq, entry, tick)
        self.events = {}             # event_seq -> message (channel 0, feed A)
        self.event_tick = {}         # event_seq -> the tick of the packet that carried it
        self.snap_cur = None         # snapshot being collected: {"id", "parts": {part: msgs}}
        self.snap_last = None        # last complete snapshot
        self.snap_complete = 0
        self.frames = 0

    def problem(self, text):
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.more_problems += 1

    # -- one frame -------------------------------------------------------------------------

    def frame(self, i, data):
        self.frames += 1
        info, why = fcpcap.parse_udp_frame(data)
        if why:
            self.problem(f"frame {i}: not an IPv4/UDP datagram ({why})")
            return
        if info["udp_checksum_ok"] is None:
            self.problem(f"frame {i}: no UDP checksum")
        elif not info["udp_checksum_ok"]:
            self.problem(f"frame {i}: wrong UDP checksum 0x{info['udp_checksum']:04x}")
        if not info["df"]:
            self.problem(f"frame {i}: DF not set")
        if info["ttl"] != self.ttl:
            self.problem(f"frame {i}: TTL {info['ttl']}, expected {self.ttl}")
        if ipaddress.IPv4Address(info["dst_ip"]).is_multicast:
            want = fcpcap.mac_str(fcpcap.mcast_mac(info["dst_ip"]))
            if info["dst_mac"] != want:
                self.problem(f"frame {i}: destination MAC {info['dst_mac']} is not {want}, "
                             f"the mapping of {info['dst_ip']}")
        try:
            pkt = rc.decode_downlink(info["payload"])
        except rc.WireError as e:
            self.problem(f"frame {i}: downlink packet dropped: {e}")
            return
        self.packet(i, pkt, f"{info['dst_ip']}:{info['dst_port']}")

    def packet(self, i, pkt, dest):
        h = pkt["hdr"]
        if self.session is None:
            self.session = h["session_id"]
        elif h["session_id"] != self.session:
            self.problem(f"frame {i}: session_id 0x{h['session_id']:08x}, the capture's is "
                         f"0x{self.session:08x}")
        # send time on a tick boundary, the same base for every packet
        base = h["send_time_ns"] - h["tick"] * self.tick_ns
        if self.tick_base is None:
            self.tick_base = base
            if base % self.tick_ns:
                self.problem(f"frame {i}: send_time_ns {h['send_time_ns']} is not on a "
                             f"{self.tick_ns} ns tick boundary")
        elif base != self.tick_base:
            self.problem(f"frame {i}: send_time_ns {h['send_time_ns']} of tick {h['tick']} is "
                         f"{base - self.tick_base:+d} ns off the tick grid")
        eos = h["msg_count"] == rc.DL_END_OF_SESSION
        kinds = ["END_OF_SESSION"] if eos else ["HEARTBEAT"] if h["msg_count"] == 0 else []
        for m in pkt["msgs"]:
            k = kind(m)
            if k not in kinds:
                kinds.append(k)
        row = [h["packet_seq"], h["tick"], h["send_time_ns"],
               h["msg_count"], h["event_count"], kinds]
        if h["flags"] & rc.DL_F_RETRANSMIT:
            self.retransmit.append(row)  # unicast replies: in no channel's sequence
            return
        key = str(h["channel_id"]) + ("B" if h["flags"] & rc.DL_F_FEED_B else "")
        c = self.chan.setdefault(key, {"packets": [], "dest": set(), "next_seq": 1,
                                       "tick": 0, "ticks": set(), "last_data_tick": 0,
                                       "eos": False, "next_event": None})
        c["packets"].append(row)
        c["dest"].add(dest)
        name = f"channel {key}"
        if c["eos"]:
            self.problem(f"frame {i}: {name}: packet_seq {h['packet_seq']} after the end of "
                         "session")
        # packet_seq: 1, 2, 3, ...
        if h["packet_seq"] != c["next_seq"]:
            if h["packet_seq"] > c["next_seq"]:
                self.problem(f"frame {i}: {name}: packet_seq gap, {c['next_seq']} .. "
                             f"{h['packet_seq'] - 1} missing")
            else:
                self.problem(f"frame {i}: {name}: packet_seq {h['packet_seq']} repeated or "
                             f"out of order (expected {c['next_seq']})")
        c["next_seq"] = max(c["next_seq"], h["packet_seq"] + 1)
        # ticks in order
        if h["tick"] < c["tick"]:
            self.problem(f"frame {i}: {name}: tick {h['tick']} after tick {c['tick']}")
        c["tick"] = max(c["tick"], h["tick"])
        if eos:
            c["eos"] = True
        else:
            c["ticks"].add(h["tick"])
            c["last_data_tick"] = max(c["last_data_tick"], h["tick"])
        # events numbered consecutively on channel 0
        if h["channel_id"] == 0:
            if c["next_event"] is None:
                # events start at 1 with the session; a capture that lost its first packet
                # has been reported already, so take its first number as it comes
                c["next_event"] = 1 if h["packet_seq"] == 1 else h["first_event_seq"]
            if h["first_event_seq"] != c["next_event"]:
                self.problem(f"frame {i}: {name}: first_event_seq {h['first_event_seq']}, "
                             f"expected {c['next_event']}")
            c["next_event"] = max(c["next_event"], h["first_event_seq"] + h["event_count"])
            if key == "0":
                self.channel0(h, pkt["msgs"])
        elif h["channel_id"] == 1 and key == "1" and not eos and h["msg_count"] > 0:
            self.snapshot_packet(i, h, pkt["msgs"])

    # -- channel 0: positions and events ---------------------------------------------------

    def channel0(self, h, msgs):
        for m in msgs:
            if "event_seq" in m:
                self.events.setdefault(m["event_seq"], m)
                self.event_tick.setdefault(m["event_seq"], h["tick"])
            elif m.get("template") == "POSITIONS":
                for e in m["entries"]:
                    self.position(e, h["packet_seq"], h["tick"])

    def position(self, e, stamp, tick):
        if e["player"] == 0xFFFF:
            self.problem(f"tick {tick}: a POSITIONS entry for player 0xFFFF")
            return
        cur = self.pos.get(e["player"])
        if cur is None or stamp > cur[0]:  # §7 step 9: only a higher packet_seq replaces
            self.pos[e["player"]] = (stamp, e, tick)

    # -- channel 1: snapshots --------------------------------------------------------------

    def snapshot_packet(self, i, h, msgs):
        sp = msgs[0]
        if sp.get("template") != "SNAPSHOT_PART":
            self.problem(f"frame {i}: channel 1 packet {h['packet_seq']} does not start with "
                         "SNAPSHOT_PART")
            return
        ident = {k: sp[k] for k in ("snapshot_id", "part_count", "as_of_tick",
                                    "as_of_packet_seq", "as_of_event_seq")}
        cur = self.snap_cur
        if cur is None or cur["ident"]["snapshot_id"] != sp["snapshot_id"]:
            if cur is not None:
                self.problem(f"frame {i}: snapshot {cur['ident']['snapshot_id']} replaced by "
                             f"{sp['snapshot_id']} with parts {sorted(cur['parts'])} of "
                             f"{cur['ident']['part_count']}")
            prev = self.snap_last["snapshot_id"] if self.snap_last else 0
            if sp["snapshot_id"] != prev + 1:
                self.problem(f"frame {i}: snapshot_id {sp['snapshot_id']} after {prev}")
            cur = self.snap_cur = {"ident": ident, "parts": {}}
        if ident != cur["ident"]:
            self.problem(f"frame {i}: snapshot {sp['snapshot_id']} part {sp['part']}: "
                         f"{ident} differs from part 0's {cur['ident']}")
        if sp["part"] in cur["parts"] or sp["part"] >= sp["part_count"]:
            self.problem(f"frame {i}: snapshot {sp['snapshot_id']}: part {sp['part']} repeated "
                         f"or out of range (of {sp['part_count']})")
        cur["parts"][sp["part"]] = msgs[1:]
        if len(cur["parts"]) == cur["ident"]["part_count"]:
            self.snapshot_done(cur)
            self.snap_cur = None

    def snapshot_done(self, cur):
        s = dict(cur["ident"], parts=cur["ident"]["part_count"], round=None, clues={},
                 scores={}, positions={})
        for part in sorted(cur["parts"]):
            for m in cur["parts"][part]:
                t = m.get("template")
                if t == "ROUND_STATE":
                    s["round"] = {k: m[k] for k in ("round_id", "state", "round_time_ms")}
                elif t == "CLUE_STATE":
                    s["clues"][str(m["clue_id"])] = clue_fields(m)
                elif t == "SCORE":
                    s["scores"][str(m["player"])] = {k: m[k] for k in
                                                     ("team", "total", "team_total",
                                                      "round_id")}
                elif t == "POSITIONS":
                    for e in m["entries"]:
                        s["positions"][str(e["player"])] = pos_fields(e)
        self.snap_last = s
        self.snap_complete += 1

    # -- the end ---------------------------------------------------------------------------

    def finish(self, path):
        for key, c in sorted(self.chan.items()):
            want = set(range(1, c["last_data_tick"] + 1))
            missing = sorted(want - c["ticks"])
            if missing:
                self.problem(f"channel {key}: no packet in {len(missing)} tick(s), first "
                             f"{missing[:10]}")
            if not c["eos"]:
                self.problem(f"channel {key}: no end-of-session packet at the end")
            if len(c["dest"]) > 1:
                self.problem(f"channel {key}: sent to several destinations {sorted(c['dest'])}")
        if "0" not in self.chan:
            self.problem("no channel 0 packet")
        if self.snap_cur is not None:
            self.snap_cur = None  # an unfinished pass at the end of session: not a problem
        state = self.apply_events()
        out = {
            "file": path,
            "frames": self.frames,
            "session_id": self.session,
            "tick_ns": self.tick_ns,
            "tick_base_ns": self.tick_base,
            "channels": {k: {"packets": c["packets"], "count": len(c["packets"]),
                             "destination": sorted(c["dest"]),
                             "last_tick": c["tick"], "end_of_session": c["eos"]}
                         for k, c in sorted(self.chan.items())},
            "retransmit": self.retransmit,
            "final_state": state,
            "snapshots_complete": self.snap_complete,
            "last_snapshot": self.snap_last,
            "problems": self.problems,
            "problems_not_listed": self.more_problems,
        }
        return out

    def apply_events(self):
        """The subscriber's state (§4.7) from channel 0: events in event_seq order,
        positions as collected under the POSITIONS rule."""
        rnd = {"round_id": 0, "state": 0, "round_time_ms": 0, "end_reason": None}
        clues, scores, teams, claims, commands, by_kind = {}, {}, {}, [], [], {}
        for seq in sorted(self.events):
            m = self.events[seq]
            t = kind(m)
            by_kind[t] = by_kind.get(t, 0) + 1
            if t == "ROUND_STATE":
                if m["round_id"] != rnd["round_id"]:
                    scores, teams = {}, {}  # a new round starts with every score 0
                rnd.update(round_id=m["round_id"], state=m["state"],
                           round_time_ms=m["round_time_ms"])
            elif t == "END_OF_ROUND":
                rnd.update(state=3, end_reason=m["reason"])
            elif t == "CLUE_STATE":
                clues[str(m["clue_id"])] = clue_fields(m)
            elif t == "CLUE_CLAIMED":
                c = clues.setdefault(str(m["clue_id"]), {"clue_id": m["clue_id"]})
                c.update(state=1, winner=m["winner"])
                claims.append({k: m[k] for k in ("clue_id", "winner", "winner_team", "points",
                                                  "contenders_total", "round_id",
                                                  "meas_time_ns")} | {"event_seq": seq} |
                              {"contenders": [{k: e[k] for k in ("player", "flags",
                                                                  "distance_mm",
                                                                  "meas_time_ns")}
                                              for e in m.get("contenders", [])]})
            elif t == "SCORE":
                scores[str(m["player"])] = {"team": m["team"], "total": m["total"]}
                teams[str(m["team"])] = m["team_total"]
            elif t == "COMMAND_ECHO":
                commands.append({k: m[k] for k in ("cmd_seq", "command", "status", "arg")}
                                | {"tick": self.event_tick[seq]})
        return {
            "positions": {str(p): dict(pos_fields(e), packet_seq=stamp, tick=tick)
                          for p, (stamp, e, tick) in sorted(self.pos.items())},
            "events": len(self.events),
            "events_by_kind": by_kind,
            "round": rnd,
            "clues": clues,
            "scores": scores,
            "team_totals": teams,
            "claims": claims,
            "commands": commands,
        }


def kind(m):
    """A message's template name; an unknown template (skipped by the decoder) by its id."""
    return m["template"] if "template" in m else f"template_{m['template_id']}"


def clue_fields(m):
    return {k: m[k] for k in ("clue_id", "points", "x_cm", "y_cm", "radius_mm", "state",
                              "winner")}


def pos_fields(e):
    return {k: e[k] for k in ("x_cm", "y_cm", "z_dm", "status")}


def decode_file(path, tick_ms=50, ttl=1):
    """Decodes and checks FILE; returns (summary dict, [frame bytes])."""
    d = Decoder(tick_ms * 1_000_000, ttl)
    r = fcpcap.PcapReader(path)
    if r.linktype != fcpcap.LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: linktype {r.linktype}, expected 1 (Ethernet)")
    frames = []
    for i, (_ts, data) in enumerate(r):  # record timestamps are wall clock: ignored
        frames.append(data)
        d.frame(i, data)
    return d.finish(path), frames


def text_summary(s):
    lines = [f"decode_capture: {s['file']}: {s['frames']} frames, session "
             f"{'none' if s['session_id'] is None else hex(s['session_id'])}"]
    for k, c in s["channels"].items():
        lines.append(f"  channel {k}: {c['count']} packets to {', '.join(c['destination'])}, "
                     f"ticks 1..{c['last_tick']}, "
                     f"{'ends with' if c['end_of_session'] else 'NO'} end of session")
    st = s["final_state"]
    lines.append(f"  final state: {len(st['positions'])} players, {st['events']} events, "
                 f"round {st['round']['round_id']} state {st['round']['state']}")
    snap = s["last_snapshot"]
    if snap:
        lines.append(f"  last complete snapshot: id {snap['snapshot_id']}, {snap['parts']} "
                     f"part(s), as of tick {snap['as_of_tick']}, {len(snap['positions'])} "
                     "positions")
    lines.append(f"  {len(s['problems']) + s['problems_not_listed']} problem(s)")
    lines += [f"  PROBLEM {p}" for p in s["problems"][:50]]
    return "\n".join(lines)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--json", metavar="OUT", help="write the JSON summary here")
    ap.add_argument("--frames", action="store_true",
                    help="print every frame as hex, one per line, instead of the summary")
    ap.add_argument("--tick-ms", type=int, default=50, help="the tick period (floor tick_ms)")
    ap.add_argument("--ttl", type=int, default=1, help="the expected TTL (downlink ttl)")
    a = ap.parse_args(argv)
    try:
        s, frames = decode_file(a.file, a.tick_ms, a.ttl)
    except (OSError, ValueError) as e:
        print(f"decode_capture: {e}", file=sys.stderr)
        return 2
    text = json.dumps(s, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    if a.frames:
        sys.stdout.write("".join(fr.hex() + "\n" for fr in frames))
        for p in s["problems"]:
            print(f"decode_capture: PROBLEM {p}", file=sys.stderr)
    elif a.json:
        print(text_summary(s))
    else:
        print(text)
    return 1 if s["problems"] or s["problems_not_listed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
