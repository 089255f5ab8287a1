#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpora of the fuzz suite, made at build time from the wire vectors and committed files.

The vectors (tests/wire/vectors/NAME.hex: hex bytes, space-separated, 16 a line) are valid
frames and packets, the best starting points for the mutator; they may change with the codec,
so the seeds are regenerated from them at every build rather than kept as binary copies. The
operators' files (clue layouts, rosters, keys files, floor files and drivers-cfg profiles) are
seeded from the examples and fixtures committed in the tree, and from edge cases written here.

  make_corpus.py --vectors DIR --source-root DIR --regressions DIR --out DIR --stamp FILE
                 --depfile FILE

writes, under --out:
  seeds/uplink/NAME, seeds/downlink/NAME  one binary file a vector (up_* to uplink; dl_* and
                                          rt_* to downlink; any other prefix to both)
  seeds/client/NAME                       sequences of downlink packets in fuzz_client.c's input
                                          format, built from the dl_* vectors' messages: each
                                          vector alone, and small sessions (in order, reordered
                                          and duplicated, lost packets with retransmit replies,
                                          refusals and timeouts, snapshots in parts, a new
                                          session, an end of session with events missing)
  seeds/layout/NAME                       FILE_SEEDS' layouts (deploy/examples) and LAYOUT_EDGES
  seeds/roster/NAME                       the rosters (deploy/examples, tests/replay/golden) and
                                          ROSTER_EDGES
  seeds/keys/NAME                         the keys files (idem) and KEYS_EDGES
  seeds/floor/NAME                        the floor files, their paths to the companions
                                          fuzz_floor.c writes (keys.txt, roster.csv, layout.txt,
                                          profile.ini); the drivers-cfg profiles; FLOOR_EDGES
  seeds/*/regression-NAME                 the inputs kept in --regressions/<harness>/ (earlier
                                          crashes); seeds/ is rewritten from scratch every time
  corpus/<harness>/                       created if absent, never emptied: libFuzzer writes the
                                          inputs it finds into the first corpus directory, so
                                          they accumulate here from run to run
  artifacts/                              where the tests point -artifact_prefix (crash-*)

--depfile names every input read, and the directories (a vector added or removed changes
their mtime), so ninja reruns this when any of them changes. Exit status 1 on a bad vector.
"""

import argparse
import os
import re
import shutil
import struct
import sys

CODEC_TARGETS = ("uplink", "downlink")
FILE_TARGETS = ("layout", "roster", "keys", "floor")
TARGETS = CODEC_TARGETS + ("client",) + FILE_TARGETS
ROUTES = {"up_": ("uplink",), "dl_": ("downlink",), "rt_": ("downlink",)}
HEX_BYTE = re.compile(r"^[0-9a-fA-F]{2}$")


def read_hex(path):
    """The bytes of a .hex vector; any token that is not two hex digits is an error."""
    out = bytearray()
    with open(path, encoding="ascii") as f:
        for lineno, line in enumerate(f, 1):
            for tok in line.split():
                if not HEX_BYTE.match(tok):
                    sys.exit(f"{path}:{lineno}: '{tok}' is not a hex byte")
                out.append(int(tok, 16))
    if not out:
        sys.exit(f"{path}: empty vector")
    return bytes(out)


def routes(name):
    for prefix, targets in ROUTES.items():
        if name.startswith(prefix):
            return targets
    return CODEC_TARGETS


# ---- fuzz_client's seeds: packet sequences (docs/protocol.md sections 4 to 7) ----------------

DL_HDR = struct.Struct("<HBBIQQQIHBB")  # section 4.2, 40 bytes
SNAPSHOT_PART = struct.Struct("<HBBIHHIIIQQ")  # template 5, 40 bytes
RETRANS_REFUSED = struct.Struct("<HBBHHQQQ")  # template 9, 32 bytes
DL_MAGIC = 0x4446
HEARTBEAT, END_OF_SESSION = 0, 0xFFFF
F_RETRANSMIT, F_FEED_B = 0x01, 0x02
BASE_NS = 1767225600000000000
TICK_NS = 50000000
SESSION_A, SESSION_B = 0x5EED0001, 0x5EED0002

# fuzz_client.c's record step: a time advance (index), then flags
T0, T1US, T1MS, T10MS, T50MS, T100MS, T250MS, T1S = range(8)
POLL, SEND_ERR, BURST, DEADLINE, NO_DGRAM = 0x08, 0x10, 0x20, 0x40, 0x80


def messages(pkt):
    """The messages of a downlink packet, each as its bytes (header included)."""
    h = DL_HDR.unpack_from(pkt)
    n = 0 if h[8] == END_OF_SESSION else h[8]
    off, out = DL_HDR.size, []
    for _ in range(n):
        (length,) = struct.unpack_from("<H", pkt, off)
        out.append(pkt[off : off + length])
        off += length
    return out


def by_template(vectors):
    """The first message of each template found in the dl_* vectors."""
    found = {}
    for name in sorted(vectors):
        if name.startswith("dl_"):
            for m in messages(vectors[name]):
                found.setdefault(m[2], m)
    return found


def patch(msg, fmt, off, value):
    b = bytearray(msg)
    struct.pack_into(fmt, b, off, value)
    return bytes(b)


def packet(ch, seq, first_ev, msgs=(), events=0, flags=0, session=SESSION_A, tick=None,
           special=None):
    """A downlink packet: msgs (the first `events` of them events), or a heartbeat or an end of
    session when special says so."""
    tick = seq if tick is None else tick
    count = special if special is not None else len(msgs)
    hdr = DL_HDR.pack(DL_MAGIC, 1, flags, session, seq, BASE_NS + tick * TICK_NS, first_ev,
                      tick, count, events, ch)
    return hdr + b"".join(msgs)


class Floor:
    """A small session's channel-0 packets and snapshots, from the vectors' messages."""

    def __init__(self, t, session=SESSION_A):
        self.t = t
        self.session = session
        # events 1 .. 9: the round, two clues, a claim and its score, an echo, another claim
        # and score, the end of the round
        ev = [
            self.round_state(1, 1),
            self.clue(1, 0, 0xFFFF),
            self.clue(2, 0, 0xFFFF),
            self.claim(1, 3),
            self.score(3, 1, 50),
            t[8],
            self.claim(2, 9),
            self.score(9, 2, 120),
            t[7],
        ]
        pos = t[1]
        # channel 0: (first_event_seq, events, state messages) per packet_seq 1 .. 8
        layout = [(1, [], [pos]), (1, ev[0:3], []), (4, ev[3:5], [pos]), (6, ev[5:6], []),
                  (7, None, HEARTBEAT), (7, ev[6:8], [pos]), (9, ev[8:9], []),
                  (10, None, END_OF_SESSION)]
        self.events = ev
        self.ch0 = {}
        for seq, (first, evs, state) in enumerate(layout, 1):
            if evs is None:
                self.ch0[seq] = packet(0, seq, first, session=session, special=state)
            else:
                self.ch0[seq] = packet(0, seq, first, evs + state, len(evs), session=session)

    def round_state(self, round_id, state):
        return patch(patch(self.t[4], "<I", 4, round_id), "<B", 8, state)

    def clue(self, clue_id, state, winner):
        m = patch(self.t[6], "<I", 4, clue_id)
        return patch(patch(m, "<B", 18, state), "<H", 20, winner)

    def claim(self, clue_id, winner):
        return patch(patch(self.t[2], "<I", 4, clue_id), "<H", 12, winner)

    def big_claim(self, clue_id, contenders):
        """A CLUE_CLAIMED listing `contenders` players (the vector's first contender, again)."""
        m = self.claim(clue_id, 1)
        entry = m[32:48]
        m = patch(m[:32], "<H", 0, 32 + 16 * contenders)
        m = patch(patch(m, "<H", 16, contenders), "<H", 18, contenders)
        return m + entry * contenders

    def score(self, player, team, total):
        m = patch(patch(self.t[3], "<H", 4, player), "<H", 6, team)
        return patch(m, "<i", 8, total)

    def reply(self, first, count):
        """A retransmit reply with events first .. first + count - 1."""
        return packet(0, 0, first, self.events[first - 1 : first - 1 + count], count,
                      flags=F_RETRANSMIT, session=self.session, tick=20)

    def refusal(self, first, count, reason, next_ev=10):
        m = RETRANS_REFUSED.pack(32, 9, 1, reason, count, first, 1, next_ev)
        return packet(0, 0, next_ev, [m], 0, flags=F_RETRANSMIT, session=self.session, tick=20)

    def snapshot(self, snap_id, as_of_ev, as_of_pkt, parts=2, seq0=1, skew=0):
        """The snapshot loop's packets (channel 1, packet_seq from seq0) as of as_of_ev: the
        state messages spread over `parts` parts. skew changes as_of_tick (parts that
        disagree)."""
        applied = self.events[: as_of_ev - 1]
        clues = {}
        for m in applied:
            if m[2] == 6:
                clues[struct.unpack_from("<I", m, 4)[0]] = m
        state = [self.round_state(1, 1)] + list(clues.values())
        state += [self.score(3, 1, 50), self.t[1]]
        out = []
        for part in range(parts):
            sp = SNAPSHOT_PART.pack(40, 5, 1, snap_id, part, parts, as_of_pkt + skew, 0, 0,
                                    as_of_pkt, as_of_ev)
            mine = state[part::parts]
            out.append(packet(1, seq0 + part, as_of_ev, [sp] + mine, 0, session=self.session,
                              tick=as_of_pkt))
        return out


def record(pkt, step=T1MS):
    return struct.pack("<HB", len(pkt), step) + pkt


def poll_only(step):
    return struct.pack("<HB", 0, step | NO_DGRAM)


def client_header(players=16, teams=4, clues=8, claims=4, no_rt=False, no_notify=False,
                  buffer_steps=0):
    flags = (1 if no_rt else 0) | (2 if no_notify else 0) | (buffer_steps << 2)
    return bytes([players - 1, teams - 1, clues - 1, claims - 1, flags])


def client_seeds(vectors):
    """name -> bytes: fuzz_client inputs."""
    t = by_template(vectors)
    need = {1, 2, 3, 4, 5, 6, 7, 8, 9}
    if not need <= set(t):
        sys.exit(f"dl_* vectors lack templates {sorted(need - set(t))}: cannot build the "
                 "client seeds")
    f = Floor(t)
    p = f.ch0
    hdr = client_header()
    seeds = {}

    for name in sorted(vectors):
        if name.startswith("dl_"):
            seeds["one_" + name[3:]] = hdr + record(vectors[name])
    everything = [vectors[n] for n in sorted(vectors) if n.startswith("dl_")]
    seeds["all_vectors"] = hdr + b"".join(record(v, T10MS) for v in everything)

    eos1 = packet(1, 9, 10, special=END_OF_SESSION)
    snap4 = f.snapshot(7, 4, 2)  # as of event 4 (after packet 2), two parts
    # a late joiner: packets 1 and 2 held, the snapshot, then the rest in order, to the end
    seeds["session_in_order"] = hdr + b"".join(
        [record(p[1]), record(p[2]), record(snap4[0]), record(snap4[1])]
        + [record(p[s], T50MS) for s in range(3, 9)] + [record(eos1)])

    snap1 = f.snapshot(7, 1, 1, parts=1)
    # synced from event 1: packets reordered, duplicated, a feed-B copy
    feed_b = bytearray(p[4])
    feed_b[3] |= F_FEED_B
    seeds["session_reordered"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[3]), record(p[2]), record(p[2]),
         record(p[2], T1MS | POLL), record(p[4]), record(bytes(feed_b)), record(p[6]), record(p[5]), record(p[7]),
         record(p[6]), record(p[8], T50MS), record(eos1)])

    # packet 2 lost: events 1 .. 3 asked for (packet 3 shows the gap) and replied
    seeds["retransmit_reply"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[3]), record(f.reply(1, 3), T10MS)]
        + [record(p[s], T50MS) for s in range(4, 9)])

    # a partial reply, the retry at 100 ms for the rest, its reply
    seeds["retransmit_partial_retry"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[3]), record(f.reply(1, 2), T10MS),
         poll_only(T100MS), record(f.reply(3, 1), T10MS), record(p[4], T50MS)])

    # no answer: two retries at 100 ms, then the snapshot loop (a later pass)
    snap6 = f.snapshot(8, 6, 4, seq0=2)
    seeds["retransmit_timeouts"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[3]), poll_only(T100MS), poll_only(T100MS),
         poll_only(T100MS), record(p[4], T10MS), record(snap6[0]), record(snap6[1]),
         record(p[5]), record(p[6])])

    # the request cannot be sent: counted, then retried at its deadline
    seeds["retransmit_send_fails"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[3], T1MS | SEND_ERR | DEADLINE),
         record(f.reply(1, 3), T10MS), record(p[4])])

    # refusals: TOO_OLD sends it to the snapshot loop; RATE waits; SESSION stops asking
    seeds["refused_too_old"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[3]), record(f.refusal(1, 3, 1), T10MS),
         record(p[4]), record(snap6[0]), record(snap6[1]), record(p[6])])
    seeds["refused_rate_then_session"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[3]), record(f.refusal(1, 3, 3), T10MS),
         poll_only(T100MS), record(f.refusal(1, 3, 4), T10MS), record(p[4]),
         record(f.refusal(9, 1, 2), T10MS)])

    # a snapshot in three parts, out of order, one part of an older pass, one repeated, one
    # that disagrees with its pass
    old = f.snapshot(6, 1, 1, parts=3)
    new = f.snapshot(7, 4, 2, parts=3, seq0=4)
    bad = f.snapshot(7, 4, 2, parts=3, seq0=7, skew=1)
    seeds["snapshot_parts"] = hdr + b"".join(
        [record(p[1]), record(old[2]), record(old[0]), record(new[1]), record(new[1]),
         record(bad[0]), record(p[2]), record(p[3]), record(new[0]), record(new[2]),
         record(p[4]), record(old[1])])

    # a new session replaces the first; the old one's packets and replies are ignored after
    g = Floor(t, SESSION_B)
    snap_b = g.snapshot(1, 1, 1, parts=1)
    seeds["new_session"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[2]), record(p[3]), record(snap_b[0], T50MS),
         record(g.ch0[1]), record(g.ch0[2]), record(p[4]), record(f.reply(4, 2)),
         record(g.ch0[3]), record(g.ch0[4])])

    # the end of session with events missing: asked for, then the end after a second
    seeds["end_of_session_missing"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[2]), record(p[5]), record(p[8]),
         poll_only(T100MS | DEADLINE), poll_only(T250MS), poll_only(T1S), record(p[4])])

    # a late joiner whose snapshot never completes before the end
    seeds["end_of_session_unsynced"] = hdr + b"".join(
        [record(p[1]), record(snap4[0]), record(p[2]), record(p[8]), poll_only(T1S),
         record(eos1)])

    # no retransmit service: a gap goes to the snapshot loop at once
    seeds["no_retransmit"] = client_header(no_rt=True) + b"".join(
        [record(snap1[0]), record(p[1]), record(p[3]), record(snap6[0]), record(snap6[1]),
         record(p[6]), record(p[7])])

    # a gap above 256 events (announced by a heartbeat), and the feed going silent
    seeds["big_gap_and_silence"] = hdr + b"".join(
        [record(snap1[0]), record(p[1]), record(p[2]),
         record(packet(0, 3, 400, special=HEARTBEAT)), poll_only(T1S), poll_only(T1S)])

    # the smallest event buffer (1400 bytes) held full of claims listing 60 contenders: the
    # highest events are dropped for lower ones, the arena is compacted
    big = [f.big_claim(c, 60) for c in (1, 2, 3)]
    seeds["buffer_full"] = client_header(buffer_steps=1) + b"".join(
        [record(packet(0, 3, 6, [big[0]], 1)), record(packet(0, 2, 4, [big[1]], 1)),
         record(packet(0, 1, 2, [big[2]], 1)), record(p[4]), record(snap4[0]),
         record(snap4[1]), record(f.reply(4, 2), T10MS)])

    # floods of small events (170 of a template the library does not know to a packet) in
    # bursts of 16 packets: more than 4096 held while unsynced, then a gap above 256 once synced
    unknown = bytes([8, 0, 200, 1, 0, 0, 0, 0])
    flood = packet(0, 2, 2, [unknown] * 170, 170)
    flood2 = packet(0, 18, 2 + 16 * 170, [unknown] * 170, 170)
    seeds["event_flood"] = hdr + b"".join(
        [record(p[1]), record(flood, T1MS | BURST), record(flood2, T1MS | BURST),
         record(snap1[0]), record(p[1], T100MS | BURST), poll_only(T100MS | DEADLINE)])

    # the smallest tables and event buffer: every limit is reached
    seeds["tiny_limits"] = client_header(1, 1, 1, 1, buffer_steps=1) + b"".join(
        [record(p[1]), record(p[2]), record(p[3]), record(snap4[0]), record(snap4[1])]
        + [record(p[s]) for s in range(4, 9)])
    return seeds


# ---- the operators' files: committed examples and fixtures, and edge cases -------------------

# harness -> files of the tree (relative to --source-root); a directory takes its *.ini
FILE_SEEDS = {
    "layout": ["deploy/examples/layout-demo.txt", "deploy/examples/scenario-demo-clues.txt"],
    "roster": ["deploy/examples/roster-demo.csv", "tests/replay/golden/roster.csv"],
    "keys": ["deploy/examples/keys-demo.txt", "tests/replay/golden/gateways.keys"],
    "floor": ["deploy/examples/floor-demo.ini", "deploy/examples/floor.ini.example",
              "tests/replay/golden/floor.ini", "deploy/examples/scenario-demo.ini",
              "drivers-cfg"],
}

# A floor file's paths, pointed at the companions fuzz_floor.c writes beside its input.
FLOOR_PATHS = {"keys": "keys.txt", "file": "roster.csv", "layout": "layout.txt",
               "profile": "profile.ini", "journal": "journal.bin", "socket": "ctl.sock"}
FLOOR_PATH_LINE = re.compile(r"^(\s*)(" + "|".join(FLOOR_PATHS) + r")(\s*=\s*)([^;\r\n]*)",
                             re.MULTILINE)

HK = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
SK = "000102030405060708090a0b0c0d0e0f"

LAYOUT_EDGES = {
    # docs/game.md's example
    "doc_example": "# round 2\npolicy = probability\nthreshold = 0.9\ndwell = 2\nsettle_ms = 100\n"
                   "radius_mm = 60          # for clues that leave their radius empty\n\n"
                   "17,1234,5678,,50\n18,4000,2500,80,20,30   # respawns\n3,0,655350,100,10\n",
    "every_setting": "policy = probability\nsigma_k = 2.5\nthreshold = .999999\ndwell = 8\n"
                     "dwell_gap_ms = 500\nsettle_ms = 10000\nmax_speed_mps = 100\n"
                     "tie_break = distance_then_player\nradius_mm = 65535\n"
                     "4294967295,655350,655350,65535,1000000,86400\n1,0,0,1,0,0\n",
    "crlf_tabs": "policy = conservative\r\n\tsigma_k\t=\t1\t\r\n 5 , 10 , 20 , , 7 , \r\n",
    "no_final_lf": "policy=distance\n1,1,1,1,1",
    "duplicate_id": "policy = distance\n1,0,0,,1\n2,0,0,,1\n1,5,5,,1\n",
    "setting_after_clue": "policy = distance\n1,0,0,,1\nsettle_ms = 5\n",
    "no_policy": "1,0,0,,1\n",
    "no_clues": "policy = distance\n# nothing\n",
    "nul_byte": "policy = distance\n1,0,\0,,1\n",
    "out_of_range": "policy = distance\n1,655351,0,,1\n",
    "empty": "",
}

ROSTER_EDGES = {
    "doc_like": "tag_id,player,team,name\n0xa4c100000005,0,0,ann\n0XA4C100000006,1,0,bob\n"
                "42,2,1\n  18446744073709551615 , 65534 , 65534 , twenty-three characters\n",
    "crlf_comments": "# players\r\n\r\n1,0,0,x\r\n   # indented comment\r\n2,1,0,y # not a comment\r\n",
    "no_final_lf": "1,0,0",
    "dup_tag": "0x10,0,0\n16,1,0\n",
    "dup_player": "1,3,0\n2,3,1\n",
    "too_many_fields": "1,0,0,a,b\n",
    "bad_name": "1,0,0,\"quoted\"\n",
    "nul_byte": "1,0,0\n2,1,1\0,junk\n",
    "header_only": "tag_id,player,team,name\n",
    "empty": "",
}

KEYS_EDGES = {
    # docs/protocol.md 3.9's example
    "doc_example": "# gateway   key  algorithm        key\n"
                   f"7           1    hmac-sha256-128  {HK}\n"
                   f"0x8         0    siphash24        {SK}   # a weak gateway\n",
    "rotation": "".join(f"9 {k} siphash24 {SK}\n" for k in range(4)) +
                f"0xFFFFFFFF 255 hmac-sha256-128 {HK.upper()}\r\n\t4294967295\t0\tsiphash24\t{SK}\n",
    "fifth_key": "".join(f"9 {k} siphash24 {SK}\n" for k in range(5)),
    "duplicate": f"7 1 siphash24 {SK}\n7 1 hmac-sha256-128 {HK}\n",
    "leading_zeros": f"007 010 siphash24 {SK}\n08 09 siphash24 {SK}\n",
    "short_key": f"7 1 hmac-sha256-128 {SK}\n",
    "no_final_lf": f"1 1 siphash24 {SK}",
    "nul_byte": f"1 1 siphash24 {SK}\0 junk\n",
    "empty": "",
}

FLOOR_EDGES = {
    "minimal": "[uplink]\nkeys = keys.txt\n[roster]\nfile = roster.csv\n[port]\nprofile = profile.ini\n",
    "every_key": "[floor]\nwidth_m = 655.35\nheight_m = 0.001\ncell_mm = 65536\ntick_ms = 10000\n"
                 "[uplink]\nudp_port = 1\nlocal_ip = 10.0.0.1\nclock_bound_ms = 0\nkeys = keys.txt\n"
                 "[downlink]\ngroup = 224.0.0.1\nport = 65535\nsrc_port = 1\nretransmit_port = 0\n"
                 "ttl = 255\nsession_id = 4294967295\ndead_band_mm = 655350\nrefresh_ms = 60000\n"
                 "stale_ms = 3600000\nsnapshot_ms = 60000\n"
                 "[roster]\nfile = roster.csv\ncapacity = 65535\n"
                 "[game]\nlayout = layout.txt\njournal = journal.bin\nauto_start = no\n"
                 "[control]\nsocket = ctl.sock\n"
                 "[lcores]\nrx = 0, 1,2\nowners = 3,4\ntx = 127\nring_size = 1048576\n"
                 "[port]\nprofile = profile.ini ; the companion\n",
    "escaped_semicolon": "[uplink]\r\nkeys = keys.txt\r\n[roster]\r\nfile = roster.csv\r\n"
                         "[port]\r\nprofile = profile.ini\r\n[eal]\r\nargs = a\\;b\r\n",
    "hash_comment": "# not a comment here\n[uplink]\nkeys = keys.txt\n",
    "profile_all": "[profile]\nname = every key\npmd = net_ring\n[queues]\nrx = 2\ntx = 2\n"
                   "rx_desc = 16384\ntx_desc = 64\n[mempool]\nmbufs = 32896\ncache = 512\n"
                   "[offloads]\nrss = yes\nrx_timestamp = no\n[port]\nmtu = 1428\n"
                   "[eal]\nargs = --no-huge\n",
    "capacity_low": "[uplink]\nkeys = keys.txt\n[roster]\nfile = roster.csv\ncapacity = 3\n"
                    "[port]\nprofile = profile.ini\n",
    "empty": "",
}

EDGES = {"layout": LAYOUT_EDGES, "roster": ROSTER_EDGES, "keys": KEYS_EDGES, "floor": FLOOR_EDGES}


def floor_seed(text):
    """A floor file's paths pointed at fuzz_floor.c's companions (profiles are kept as they are)."""
    if "[uplink]" not in text:
        return text
    return FLOOR_PATH_LINE.sub(lambda m: m.group(1) + m.group(2) + m.group(3) +
                               FLOOR_PATHS[m.group(2)], text)


def file_seeds(root, deps):
    """harness -> {name: bytes}: FILE_SEEDS read from root, the edge cases; deps gets the
    files and directories read."""
    out = {t: {} for t in FILE_TARGETS}
    for t, rels in FILE_SEEDS.items():
        for rel in rels:
            path = os.path.join(root, rel)
            if os.path.isdir(path):
                deps.append(path)
                paths = [os.path.join(path, f) for f in sorted(os.listdir(path))
                         if f.endswith(".ini")]
            else:
                paths = [path]
            for p in paths:
                with open(p, "rb") as f:
                    data = f.read()
                deps.append(p)
                if t == "floor":
                    data = floor_seed(data.decode("utf-8")).encode("utf-8")
                out[t][re.sub(r"[^A-Za-z0-9._-]", "_", os.path.relpath(p, root))] = data
    for t, edges in EDGES.items():
        for name, text in edges.items():
            out[t]["edge_" + name] = text.encode("utf-8")
    return out


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def depfile_escape(path):
    return path.replace("\\", "\\\\").replace(" ", "\\ ").replace("$", "$$")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--regressions", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stamp", required=True)
    ap.add_argument("--depfile", required=True)
    args = ap.parse_args()

    deps = [args.vectors]
    written = {t: [] for t in TARGETS}
    for t in TARGETS:
        fresh_dir(os.path.join(args.out, "seeds", t))
        os.makedirs(os.path.join(args.out, "corpus", t), exist_ok=True)
    os.makedirs(os.path.join(args.out, "artifacts"), exist_ok=True)

    vectors = {}
    for fn in sorted(os.listdir(args.vectors)):
        if not fn.endswith(".hex"):
            continue
        path = os.path.join(args.vectors, fn)
        data = read_hex(path)
        deps.append(path)
        name = fn[: -len(".hex")]
        vectors[name] = data
        for t in routes(name):
            with open(os.path.join(args.out, "seeds", t, name), "wb") as f:
                f.write(data)
            written[t].append(name)

    if not written["uplink"] or not written["downlink"]:
        sys.exit(f"{args.vectors}: no up_* or no dl_* vectors: wrong directory?")
    for name, data in client_seeds(vectors).items():
        with open(os.path.join(args.out, "seeds", "client", name), "wb") as f:
            f.write(data)
        written["client"].append(name)

    for t, seeds in file_seeds(args.source_root, deps).items():
        for name, data in seeds.items():
            with open(os.path.join(args.out, "seeds", t, name), "wb") as f:
                f.write(data)
            written[t].append(name)

    for t in TARGETS:
        src = os.path.join(args.regressions, t)
        if not os.path.isdir(src):
            # Rerun when it appears: its parent's mtime changes then.
            deps.append(os.path.dirname(src))
            continue
        deps.append(src)
        for fn in sorted(os.listdir(src)):
            path = os.path.join(src, fn)
            if fn.startswith(".") or not os.path.isfile(path):
                continue
            shutil.copyfile(path, os.path.join(args.out, "seeds", t, "regression-" + fn))
            deps.append(path)
            written[t].append("regression-" + fn)

    with open(args.stamp, "w", encoding="utf-8") as f:
        for t in TARGETS:
            f.write(f"{t}: {' '.join(written[t])}\n")
    with open(args.depfile, "w", encoding="utf-8") as f:
        f.write(depfile_escape(args.stamp) + ": " + " ".join(map(depfile_escape, deps)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
