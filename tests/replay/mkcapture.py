#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Deterministic beacon-gateway traffic for floord replay (DESIGN.md §7), as a pcap.

  mkcapture.py --out FILE --roster CSV --keys KEYS [--players N] [--seconds S] [--rate HZ]
               [--gateways G] [--seed N] [--width-m 20 --height-m 10] [--start-ns NS]
               [--scenario normal|crowded|hostile] [--dst-ip 198.18.0.1 --dst-port 47474]
               [--summary JSON]
  mkcapture.py --write-fixtures DIR [--players N] [--gateways G]

Defaults: every roster entry and every gateway of the keys file, 10 s, 20 Hz, seed 1, a 20 m x
10 m floor, scenario normal. --write-fixtures writes DIR/roster.csv and DIR/gateways.keys for
N players (400) and G gateways (4): tags 0x0000A4C100000000 + player, team player % 8,
gateways 1..G with HMAC test keys derived from the gateway id.

What is simulated (docs/protocol.md §3 for the frames):
  - players: the first N roster entries, one tag each. Every tag gives a fix every 1/rate s,
    with a small per-player phase (0..5 ms); each fix has fix_seq = the tag's counter from 1,
    err_mm 20, quality 90, flags 0x02 (UWB), z 1100 mm. A player random-walks at 0.5..1.5 m/s
    between waypoints 0.5..4 m apart, pausing now and then, 10 cm inside the floor.
  - gateways: the keys file's first G gateway ids, each with its first key. The floor is split
    into G vertical stripes (along x); the gateway of the stripe the player is in at the fix's
    time reports the fix. A gateway sends a fix batch every 25 ms (phases spread evenly over
    the 25 ms), holding the fixes measured since its previous frame (at most 42 a frame: more
    are split; none is a keepalive). base_time_ns = send time - 25 ms, dt_us = fix time - base.
    seq = 1 << 32 | counter from 1. UDP from 198.18.1.<gw>:40000+gw, MAC 02:00:00:00:01:<gw>,
    to --dst-ip:--dst-port, MAC 02:70:63:61:70:00.
  - capture time of a frame = its send time + a fixed per-gateway latency of 200..900 µs.
    Microsecond pcap (net_pcap reads µs); every time is a whole µs; frames in time order.
  - crowded: players 0 .. N/2-1 start 1..2 m from the floor centre, walk to it at 0.5..1.5 m/s
    and then stay within 10 cm of it (a small jitter); the others play normally.
  - hostile: normal play plus, spread over the middle of the capture, one frame of every kind
    floord must drop (docs/protocol.md §3.8 and the net.* verdicts of lib/pkt), a fix of an
    unknown tag inside a valid frame, the same fix reported by a second gateway, and a fix
    delivered 200 ms late (older than fixes already sent for its player).

Determinism: every random choice comes from random.Random seeded with a string built from
--seed (Python hashes str seeds with SHA-512, independent of PYTHONHASHSEED), so the same
arguments always give the same bytes.

The summary (--summary) is computed by passing the finished capture, frame by frame, through a
reference receiver (ref_codec.receive_uplink with the replay windows and the capture clock,
then the roster and newest-wins per player), so the counters it predicts are what floord
should count; generation fails loudly if a hostile frame does not land in its intended class.
"""

import argparse
import hashlib
import json
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "wire"))

import fcpcap  # noqa: E402
import ref_codec as rc  # noqa: E402

DEFAULT_START_NS = 1767225600000000000  # 2026-01-01T00:00:00Z
FRAME_PERIOD_US = 25_000                # a gateway sends every 25 ms
MAX_FIXES = 42                          # per frame: 32 + 42 * 32 + 16 <= 1400 (§3.3)
DST_MAC = "02:70:63:61:70:00"
STRANGER_MAC = "02:00:00:00:02:01"      # the source of the non-gateway traffic
STRANGER_IP = "198.18.2.1"
MARGIN_MM = 100                         # players keep 10 cm inside the floor
Z_MM, ERR_MM, QUALITY, FLAGS_UWB = 1100, 20, 90, 0x02
FIXTURE_TAG_BASE = 0x0000A4C100000000
ALG_NAMES = {"hmac-sha256-128": rc.MAC_HMAC_SHA256_128, "siphash24": rc.MAC_SIPHASH24}


# ------------------------------------------------------------------------------------------
# Input files
# ------------------------------------------------------------------------------------------

def parse_u64(s):
    """tag_id: decimal or 0x-hex, up to 64 bits."""
    v = int(s, 16) if s[:2] in ("0x", "0X") else int(s, 10) if s.isdigit() else None
    if v is None or not 0 <= v < 1 << 64:
        raise ValueError(f"not a 64-bit number: {s!r}")
    return v


def load_roster(path):
    """The roster CSV (tag_id,player,team[,name]; '#' comment lines; an optional header line
    starting with tag_id). Returns [(tag_id, player, team, name)] in file order."""
    out = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            s = line.strip()
            if not s or s.startswith("#") or (not out and s.startswith("tag_id")):
                continue
            fields = [x.strip() for x in s.split(",")]
            if len(fields) not in (3, 4):
                raise ValueError(f"{path}:{lineno}: expected tag_id,player,team[,name]")
            try:
                tag = parse_u64(fields[0])
                player, team = int(fields[1]), int(fields[2])
            except ValueError as e:
                raise ValueError(f"{path}:{lineno}: {e}") from None
            if not (0 <= player < 0xFFFF and 0 <= team < 0xFFFF):
                raise ValueError(f"{path}:{lineno}: player and team are 0..65534")
            out.append((tag, player, team, fields[3] if len(fields) == 4 else ""))
    return out


def load_keys(path):
    """The keys file of docs/protocol.md §3.9. Returns {gateway_id: [(key_id, mac_alg, key)]}
    with gateways and keys in file order; raises ValueError('FILE:LINE: reason')."""
    gws = {}
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r").split("#", 1)[0]
        fields = line.split()
        if not fields:
            continue
        where = f"{path}:{lineno}"
        if len(fields) != 4:
            raise ValueError(f"{where}: expected 4 fields, got {len(fields)}")
        gs, ks, alg_name, hexkey = fields
        hexd = "0123456789abcdefABCDEF"
        if gs[:2] in ("0x", "0X") and 1 <= len(gs) - 2 <= 8 and all(c in hexd for c in gs[2:]):
            gw = int(gs[2:], 16)
        elif gs.isdigit() and int(gs) <= 0xFFFFFFFF:
            gw = int(gs)
        else:
            raise ValueError(f"{where}: bad gateway_id {gs!r}")
        if not ks.isdigit() or int(ks) > 255:
            raise ValueError(f"{where}: bad key_id {ks!r}")
        if alg_name not in ALG_NAMES:
            raise ValueError(f"{where}: unknown algorithm {alg_name!r}")
        alg = ALG_NAMES[alg_name]
        if len(hexkey) != 2 * rc.MAC_KEY_LEN[alg] or not all(c in hexd for c in hexkey):
            raise ValueError(f"{where}: {alg_name} needs {2 * rc.MAC_KEY_LEN[alg]} hex digits")
        keys = gws.setdefault(gw, [])
        if any(k[0] == int(ks) for k in keys):
            raise ValueError(f"{where}: duplicate key {ks} for gateway {gw}")
        if len(keys) == 4:
            raise ValueError(f"{where}: a fifth key for gateway {gw}")
        keys.append((int(ks), alg, bytes.fromhex(hexkey)))
    return gws


def receiver_keys(gws):
    """The key set in ref_codec.receive_uplink's shape: {gw: {key_id: (mac_alg, key)}}."""
    return {gw: {kid: (alg, key) for kid, alg, key in keys} for gw, keys in gws.items()}


def fixture_key(gw):
    """TEST KEY: 32 bytes derived from the gateway id alone. Never use such keys for real."""
    return hashlib.sha256(b"floorcast test key for gateway %d" % gw).digest()


def write_fixtures(dirpath, players, gateways):
    """DIR/roster.csv (tag 0x0000A4C100000000 + player, team player % 8) and DIR/gateways.keys
    (gateways 1..G, key 1, HMAC, fixture_key)."""
    os.makedirs(dirpath, exist_ok=True)
    roster = os.path.join(dirpath, "roster.csv")
    with open(roster, "w") as f:
        f.write("# floorcast test roster, written by tests/replay/mkcapture.py --write-fixtures\n"
                "# tag_id,player,team,name\n")
        for p in range(players):
            f.write(f"0x{FIXTURE_TAG_BASE + p:016X},{p},{p % 8},player-{p}\n")
    keys = os.path.join(dirpath, "gateways.keys")
    with open(keys, "w") as f:
        f.write("# TEST KEYS ONLY, written by tests/replay/mkcapture.py --write-fixtures.\n"
                "# Each key is SHA-256(\"floorcast test key for gateway <id>\"): anyone can\n"
                "# recompute it. Never deploy these.\n"
                "# gateway  key  algorithm        hexkey\n")
        for gw in range(1, gateways + 1):
            f.write(f"{gw:<9d}  1    hmac-sha256-128  {fixture_key(gw).hex()}\n")
    os.chmod(keys, 0o600)  # the spec's SHOULD for a secrets file, even for test keys
    return roster, keys


# ------------------------------------------------------------------------------------------
# Gateways' network identity
# ------------------------------------------------------------------------------------------

def gw_ip(gw):
    return f"198.18.1.{gw}" if 1 <= gw <= 254 else f"198.19.{(gw >> 8) & 255}.{gw & 255}"


def gw_mac(gw):
    if gw <= 255:
        return f"02:00:00:00:01:{gw:02x}"
    return "02:01:" + ":".join(f"{b:02x}" for b in (gw & 0xFFFFFFFF).to_bytes(4, "big"))


def gw_port(gw):
    return 40000 + gw if gw <= 25535 else 40000 + gw % 25536


# ------------------------------------------------------------------------------------------
# Motion
# ------------------------------------------------------------------------------------------

class Walker:
    """One player's path. Positions are floats in mm; step(dt) advances by dt seconds."""

    def __init__(self, rng, w_mm, h_mm, converge_to=None):
        self.rng, self.w, self.h = rng, w_mm, h_mm
        self.pause = 0.0
        self.centre = converge_to
        self.holding = False  # a converging player that has arrived
        if converge_to is None:
            self.x = rng.uniform(MARGIN_MM, w_mm - MARGIN_MM)
            self.y = rng.uniform(MARGIN_MM, h_mm - MARGIN_MM)
            self.new_leg()
            if rng.random() < 0.3:
                self.pause = rng.uniform(0.2, 1.5)  # some start standing still
        else:
            a, r = rng.uniform(0, 2 * math.pi), rng.uniform(1000, 2000)
            self.x = self.clamp(converge_to[0] + r * math.cos(a), w_mm)
            self.y = self.clamp(converge_to[1] + r * math.sin(a), h_mm)
            self.tx, self.ty = converge_to
            self.speed = rng.uniform(500, 1500)

    @staticmethod
    def clamp(v, hi):
        return min(max(v, MARGIN_MM), hi - MARGIN_MM)

    def new_leg(self):
        a, d = self.rng.uniform(0, 2 * math.pi), self.rng.uniform(500, 4000)
        self.tx = self.clamp(self.x + d * math.cos(a), self.w)
        self.ty = self.clamp(self.y + d * math.sin(a), self.h)
        self.speed = self.rng.uniform(500, 1500)  # mm/s

    def step(self, dt):
        if self.holding:
            # within 9 cm of the point (10 cm after rounding), moving a few mm per fix
            nx = self.x + self.rng.uniform(-8, 8)
            ny = self.y + self.rng.uniform(-8, 8)
            if math.hypot(nx - self.centre[0], ny - self.centre[1]) <= 90:
                self.x, self.y = nx, ny
            return
        if self.pause > 0:
            self.pause -= dt
            if self.pause <= 0:
                self.new_leg()
            return
        dx, dy = self.tx - self.x, self.ty - self.y
        d, move = math.hypot(dx, dy), self.speed * dt
        if move < d:
            self.x += dx / d * move
            self.y += dy / d * move
            return
        self.x, self.y = self.tx, self.ty
        if self.centre is not None:
            self.holding = True
        elif self.rng.random() < 0.4:
            self.pause = self.rng.uniform(0.3, 2.0)
        else:
            self.new_leg()

    def pos(self):
        return int(math.floor(self.x + 0.5)), int(math.floor(self.y + 0.5))


# ------------------------------------------------------------------------------------------
# The capture
# ------------------------------------------------------------------------------------------

class Frame:
    """One frame of the capture before encoding. Gateway frames are encoded once their seq is
    known (counters are given per gateway in send order, after every frame is planned)."""

    def __init__(self, send_us, gw_idx=None, records=None, cls="valid"):
        self.send_us = send_us      # from the capture start
        self.gw_idx = gw_idx        # None: not from a gateway
        self.records = records if records is not None else []  # fix dicts + "_t_us"
        self.cls = cls              # "valid" or the hostile class name
        self.consumes_seq = True    # takes the gateway's next counter (all but two hostile)
        self.seq = None
        self.copy_of = None         # replay_dup: the frame whose bytes it repeats
        self.raw = None             # a complete Ethernet frame (non-gateway traffic)
        self.payload = None
        self.capture_ns = None
        self.order = None


# Hostile classes in the order they are injected, with the counter floord counts them under.
HOSTILE = [
    ("runt", "uplink.runt"), ("bad_magic", "uplink.bad_magic"),
    ("arp", "net.arp"), ("bad_version", "uplink.bad_version"),
    ("bad_msg_type", "uplink.bad_msg_type"), ("ipv6_udp", "net.ipv6"),
    ("bad_mac_alg", "uplink.bad_mac_alg"), ("bad_record_len", "uplink.bad_record_len"),
    ("icmp_echo", "net.not_udp"), ("bad_record_count", "uplink.bad_record_count"),
    ("bad_length", "uplink.bad_length"), ("ipv4_fragment", "net.fragment"),
    ("unknown_gateway", "uplink.unknown_gateway"), ("unknown_key", "uplink.unknown_key"),
    ("other_port", "net.wrong_port"), ("key_alg_mismatch", "uplink.key_alg_mismatch"),
    ("replay_old", "uplink.replay_old"), ("eth_runt", "net.runt"),
    ("replay_dup", "uplink.replay_dup"), ("bad_mac", "uplink.bad_mac"),
    ("other_ethertype", "net.other_l2"), ("clock_skew", "uplink.clock_skew"),
    ("bad_ip_checksum", "net.bad_ipv4"), ("unknown_tag", "pipeline.unknown_tag"),
    ("bad_udp_length", "net.bad_udp"), ("duplicate_fix", "owners.duplicates"),
    ("older_fix", "owners.older"),
]
COUNTER = dict(HOSTILE)


class Capture:
    def __init__(self, a, roster, gws):
        self.a = a
        self.start_ns = a.start_ns - a.start_ns % 1000  # every time a whole µs
        self.dur_us = int(round(a.seconds * 1e6))
        self.period_us = max(1, int(round(1e6 / a.rate)))
        self.w_mm, self.h_mm = int(round(a.width_m * 1000)), int(round(a.height_m * 1000))
        self.players = roster[:a.players]
        self.gw_ids = list(gws)[:a.gateways]
        self.gw_key = {gw: gws[gw][0] for gw in self.gw_ids}   # (key_id, alg, key)
        self.all_keys = gws
        self.roster_tags = {t for t, _, _, _ in roster}
        self.lat_us = [random.Random(f"mkcapture:{a.seed}:latency:{gw}").randrange(200, 901)
                       for gw in self.gw_ids]
        self.phase_us = [i * FRAME_PERIOD_US // len(self.gw_ids)
                         for i in range(len(self.gw_ids))]
        self.frames = []
        self.fixes = {}      # player index -> [fix dict], in time order
        self.arrival = {}    # crowded: player id -> first time within 10 cm (ns)
        self.gw_frames = [[] for _ in self.gw_ids]  # planned fix batches per gateway
        self.hostile = []

    # -- motion and fixes ------------------------------------------------------------------

    def zone(self, x_mm):
        g = len(self.gw_ids)
        return min(g - 1, max(0, x_mm * g // self.w_mm))

    def simulate(self):
        a = self.a
        centre = (self.w_mm / 2, self.h_mm / 2)
        n_conv = len(self.players) // 2 if a.scenario == "crowded" else 0
        for i, (tag, player, _team, _name) in enumerate(self.players):
            rng = random.Random(f"mkcapture:{a.seed}:player:{i}")
            phase = rng.randrange(0, min(5000, self.period_us))
            walker = Walker(rng, self.w_mm, self.h_mm, centre if i < n_conv else None)
            out, t, k = [], phase, 0
            while t < self.dur_us:
                if k:
                    walker.step(self.period_us / 1e6)
                x, y = walker.pos()
                out.append(dict(tag_id=tag, x_mm=x, y_mm=y, z_mm=Z_MM, err_mm=ERR_MM,
                                quality=QUALITY, flags=FLAGS_UWB, fix_seq=k + 1, dt_us=0,
                                _t_us=t, _player=player))
                if i < n_conv and player not in self.arrival and \
                        math.hypot(x - centre[0], y - centre[1]) <= 100:
                    self.arrival[player] = self.start_ns + t * 1000
                t += self.period_us
                k += 1
            self.fixes[i] = out

    def send_slot(self, g, t_us):
        """The first regular send time of gateway g at or after t_us."""
        p = self.phase_us[g]
        j = max(0, -(-(t_us - p) // FRAME_PERIOD_US))
        return p + j * FRAME_PERIOD_US

    def plan_batches(self, held_back):
        """Every fix goes to the next regular frame of its zone's gateway."""
        slots = [{} for _ in self.gw_ids]  # send_us -> records
        for i in sorted(self.fixes):
            for fx in self.fixes[i]:
                if id(fx) in held_back:
                    continue
                g = self.zone(fx["x_mm"])
                slots[g].setdefault(self.send_slot(g, fx["_t_us"]), []).append(fx)
        return slots

    def make_batches(self, slots):
        """Regular fix batches (split above 42), keepalives when a slot holds no fix."""
        for g in range(len(self.gw_ids)):
            last = self.send_slot(g, self.dur_us)
            t = self.phase_us[g]
            while t <= last:
                recs = sorted(slots[g].get(t, []), key=lambda r: (r["_t_us"], r["_player"]))
                for c in range(0, max(1, len(recs)), MAX_FIXES):
                    f = Frame(t, g, recs[c:c + MAX_FIXES])
                    self.frames.append(f)
                    self.gw_frames[g].append(f)
                t += FRAME_PERIOD_US

    # -- hostile traffic -------------------------------------------------------------------

    def poison_fix(self, k):
        """The fix carried by frames floord must drop: a real tag, a fix_seq never used and a
        corner position, so that wrongly accepting one would show in the positions."""
        return dict(tag_id=self.players[0][0], x_mm=0, y_mm=0, z_mm=Z_MM, err_mm=ERR_MM,
                    quality=QUALITY, flags=FLAGS_UWB, fix_seq=0xFFFFFF00 + k, dt_us=0,
                    _t_us=None, _player=self.players[0][1])

    def plan_hostile(self):
        """Returns the fixes held back from their regular frame (the late one)."""
        held = set()
        n = len(HOSTILE)
        g_n = len(self.gw_ids)
        self.hostile_plan = []
        for k, (cls, _) in enumerate(HOSTILE):
            t = int(self.dur_us * (0.3 + 0.5 * k / n))
            self.hostile_plan.append((cls, t, k % g_n, k))
            if cls == "older_fix":
                # a fix of player 1 (or 0) in the middle of its life, sent late
                pi = min(1, len(self.players) - 1)
                fx = next((f for f in self.fixes[pi] if f["_t_us"] >= t and f["fix_seq"] >= 3),
                          None)
                if fx is None:
                    raise ValueError("capture too short for the late fix")
                held.add(id(fx))
                self.late_fix = fx
        self.held = held
        return held

    def pick_duplicate(self, t):
        """A fix of player 0 at or after t whose duplicate (sent by another gateway 1 ms after
        the original frame) arrives before the player's next fix: so floord sees the same
        fix_seq twice in a row and counts a duplicate, not an older fix."""
        fixes = self.fixes[0]
        for fx, nxt in zip(fixes, fixes[1:]):
            if fx["_t_us"] < t or id(fx) in self.held or id(nxt) in self.held:
                continue
            ga = self.zone(fx["x_mm"])
            gb = (ga + 1) % len(self.gw_ids)
            gn = self.zone(nxt["x_mm"])
            # 1 ms after the original: later than any latency difference, so it comes second
            send = self.send_slot(ga, fx["_t_us"]) + 1000
            if self.send_slot(gn, nxt["_t_us"]) + self.lat_us[gn] > send + self.lat_us[gb]:
                return fx, ga, gb, send
        raise ValueError("capture too short for the duplicate fix")

    def add_hostile(self):
        """One frame of every HOSTILE class at its planned time, from gateway k % G (the
        non-gateway traffic from a stranger host)."""
        for cls, t, g, k in self.hostile_plan:
            f = Frame(t, g, [dict(self.poison_fix(k), _t_us=t)], cls)
            if cls in ("arp", "ipv6_udp", "icmp_echo", "ipv4_fragment", "other_port",
                       "eth_runt", "other_ethertype", "bad_ip_checksum", "bad_udp_length"):
                f = Frame(t, None, [], cls)
                f.raw = self.stranger_frame(cls, k)
            elif cls == "replay_dup":
                f.copy_of = next(x for x in reversed(self.gw_frames[g])
                                 if x.send_us < t and x.cls.startswith("valid"))
                f.consumes_seq = False
            elif cls == "replay_old":
                f.consumes_seq = False
                f.seq = 7  # epoch 0: a frame from an earlier boot, far below the window
            elif cls == "unknown_tag":
                # inside the next regular frame of this gateway that has room
                tag = FIXTURE_TAG_BASE | 0xDEAD0000
                while tag in self.roster_tags:
                    tag += 1
                host = next((x for x in self.gw_frames[g]
                             if x.cls == "valid" and x.send_us >= t and
                             len(x.records) < MAX_FIXES), None)
                if host is None:
                    raise ValueError("capture too short for the unknown tag")
                host.records.append(dict(self.poison_fix(k), tag_id=tag, fix_seq=1,
                                         x_mm=self.w_mm // 2, y_mm=self.h_mm // 2,
                                         _t_us=host.send_us, _player=None))
                host.cls = "valid+unknown_tag"
                self.hostile.append((cls, host))
                continue
            elif cls == "duplicate_fix":
                # a fix of player 0, reported again by the next gateway (the same one if
                # there is only one) 1 ms after the original frame
                fx, ga, gb, send = self.pick_duplicate(t)
                f = Frame(send, gb, [dict(fx)], cls)
            elif cls == "older_fix":
                fx = self.late_fix
                ga = self.zone(fx["x_mm"])
                late = max(200_000, 3 * self.period_us)
                f = Frame(self.send_slot(ga, fx["_t_us"]) + late, ga, [fx], cls)
            self.frames.append(f)
            if f.gw_idx is not None:
                self.gw_frames[f.gw_idx].append(f)
            self.hostile.append((cls, f))

    def stranger_frame(self, cls, k):
        """Non-gateway traffic from a host on the floor network."""
        a = self.a
        src, dst = STRANGER_IP, a.dst_ip
        body = b"not a gateway frame %d" % k
        if cls == "arp":
            arp = bytes.fromhex("0001080006040001") + fcpcap.mac_bytes(STRANGER_MAC) + \
                fcpcap.ip4(src) + bytes(6) + fcpcap.ip4(dst)
            return fcpcap.build_ethernet("ff:ff:ff:ff:ff:ff", STRANGER_MAC, fcpcap.ETH_P_ARP,
                                         arp + bytes(60 - 14 - len(arp)))
        if cls == "ipv6_udp":
            s6 = bytes.fromhex("fd00000000000000000000000000" + "0201")
            d6 = bytes.fromhex("fd00000000000000000000000000" + "0001")
            # UDP to the uplink port; checksum left 0 (the receiver never gets that far)
            udp = (40999).to_bytes(2, "big") + a.dst_port.to_bytes(2, "big") + \
                (8 + len(body)).to_bytes(2, "big") + bytes(2) + body
            ip6 = bytes.fromhex("60000000") + len(udp).to_bytes(2, "big") + bytes([17, 64]) + \
                s6 + d6 + udp
            return fcpcap.build_ethernet("33:33:00:00:00:01", STRANGER_MAC, fcpcap.ETH_P_IPV6,
                                         ip6)
        if cls == "icmp_echo":
            icmp = bytearray(b"\x08\x00\x00\x00" + (0x1234).to_bytes(2, "big") +
                             k.to_bytes(2, "big") + body)
            icmp[2:4] = fcpcap.inet_checksum(bytes(icmp)).to_bytes(2, "big")
            ip = fcpcap.build_ipv4(src, dst, fcpcap.IPPROTO_ICMP, bytes(icmp))
            return fcpcap.build_ethernet(DST_MAC, STRANGER_MAC, fcpcap.ETH_P_IPV4, ip)
        if cls == "ipv4_fragment":
            # the first fragment of a larger datagram to the uplink port (MF set, DF clear)
            udp = fcpcap.build_udp(src, dst, 40999, a.dst_port, bytes(2000))[:1000]
            ip = fcpcap.build_ipv4(src, dst, fcpcap.IPPROTO_UDP, udp, df=False, mf=True,
                                   ident=0x4242)
            return fcpcap.build_ethernet(DST_MAC, STRANGER_MAC, fcpcap.ETH_P_IPV4, ip)
        if cls == "other_port":
            return fcpcap.build_udp_frame(STRANGER_MAC, DST_MAC, src, dst, 40999,
                                          (a.dst_port + 1) & 0xFFFF, body)
        if cls == "eth_runt":
            return fcpcap.mac_bytes(DST_MAC) + fcpcap.mac_bytes(STRANGER_MAC)  # 12 bytes
        if cls == "other_ethertype":
            # an LLDP frame (ethertype 0x88cc) to the nearest-bridge group
            return fcpcap.build_ethernet("01:80:c2:00:00:0e", STRANGER_MAC, 0x88CC,
                                         bytes.fromhex("020704") + bytes(6) + bytes(37))
        if cls == "bad_ip_checksum":
            udp = fcpcap.build_udp(src, dst, 40999, a.dst_port, body)
            ip = fcpcap.build_ipv4(src, dst, fcpcap.IPPROTO_UDP, udp, bad_checksum=True)
            return fcpcap.build_ethernet(DST_MAC, STRANGER_MAC, fcpcap.ETH_P_IPV4, ip)
        if cls == "bad_udp_length":
            udp = bytearray(fcpcap.build_udp(src, dst, 40999, a.dst_port, body))
            udp[4:6] = (len(udp) + 8).to_bytes(2, "big")  # says 8 bytes more than IP carries
            ip = fcpcap.build_ipv4(src, dst, fcpcap.IPPROTO_UDP, bytes(udp))
            return fcpcap.build_ethernet(DST_MAC, STRANGER_MAC, fcpcap.ETH_P_IPV4, ip)
        raise AssertionError(cls)

    # -- encoding --------------------------------------------------------------------------

    def base_us(self, f):
        """send - 25 ms, or earlier if a record is older (re-sent fixes): never after the
        earliest record time (§3.5)."""
        ts = [r["_t_us"] for r in f.records]
        return min([f.send_us - FRAME_PERIOD_US] + ts)

    def encode_gateway(self, f):
        g = f.gw_idx
        gw = self.gw_ids[g]
        key_id, alg, key = self.gw_key[gw]
        base_us = self.base_us(f)
        recs = []
        for r in f.records:
            dt = r["_t_us"] - base_us
            assert 0 <= dt < 1 << 32
            recs.append(dict({k: v for k, v in r.items() if not k.startswith("_")}, dt_us=dt))
        base_ns = self.start_ns + base_us * 1000
        hdr = dict(msg_type=rc.UP_FIX_BATCH, gateway_id=gw, seq=f.seq, base_time_ns=base_ns,
                   key_id=key_id, mac_alg=alg, flags=0)
        cls = f.cls
        if cls == "clock_skew":
            hdr["base_time_ns"] += 10_000_000_000  # 10 s ahead of the capture clock
        if cls == "unknown_gateway":
            hdr["gateway_id"] = next(x for x in range(0xF00D, 1 << 32) if x not in self.all_keys)
            key_id, alg, key = 1, rc.MAC_HMAC_SHA256_128, bytes(32)
            hdr.update(key_id=key_id, mac_alg=alg)
        if cls == "unknown_key":
            used = {kid for kid, _, _ in self.all_keys[gw]}
            hdr["key_id"] = next(x for x in range(256) if x not in used)
        if cls == "key_alg_mismatch":
            alg = rc.MAC_SIPHASH24 if alg == rc.MAC_HMAC_SHA256_128 else rc.MAC_HMAC_SHA256_128
            hdr["mac_alg"], key = alg, bytes(rc.MAC_KEY_LEN[alg])
        if cls == "bad_record_count":
            # a gateway status frame must hold exactly one record: this one has two
            st = dict(uptime_s=60, tags_heard=len(self.players), frames_sent=f.seq & 0xFFFFFFFF,
                      frames_dropped=0, cpu_pct=10, temp_c=40, clock_sync=1, clock_err_ns=1000)
            hdr["msg_type"] = rc.UP_GATEWAY_STATUS
            recs = [st, st]
        out = bytearray(rc.encode_uplink({"hdr": hdr, "records": recs, "key": key}))
        if cls == "runt":
            out = out[:16]
        elif cls == "bad_magic":
            out[0:2] = rc.DL_MAGIC.to_bytes(2, "little")  # a downlink packet sent uplink
        elif cls == "bad_version":
            out[2] = 2
        elif cls == "bad_msg_type":
            out[3] = 9
        elif cls == "bad_mac_alg":
            out[29] = 3
        elif cls == "bad_record_len":
            out[26:28] = (24).to_bytes(2, "little")  # shorter than a v1 fix record
        elif cls == "bad_length":
            out += bytes(8)  # 8 bytes after the tag
        elif cls == "bad_mac":
            out[rc.UP_HDR_LEN + 8] ^= 0x01  # x_mm of the record: tampered in transit
        return bytes(out)

    def finish(self):
        """Gives seqs, encodes, stamps capture times and sorts. Returns [(ts_ns, bytes)]."""
        a = self.a
        for g, frames in enumerate(self.gw_frames):
            counter = 0
            for i, f in enumerate(sorted(frames, key=lambda x: x.send_us)):  # stable
                if f.consumes_seq:
                    counter += 1
                    f.seq = 1 << 32 | counter
                f.order = (g, i)
        for f in self.frames:
            if f.copy_of is None and f.raw is None:
                f.payload = self.encode_gateway(f)
        out = []
        for k, f in enumerate(self.frames):
            if f.gw_idx is None:
                f.capture_ns = self.start_ns + f.send_us * 1000
                f.order = (len(self.gw_ids), k)
                data = f.raw
            else:
                f.capture_ns = self.start_ns + (f.send_us + self.lat_us[f.gw_idx]) * 1000
                gw = self.gw_ids[f.gw_idx]
                payload = f.copy_of.payload if f.copy_of is not None else f.payload
                if f.cls == "unknown_gateway":
                    gw = int.from_bytes(payload[4:8], "little")
                data = fcpcap.build_udp_frame(gw_mac(gw), DST_MAC, gw_ip(gw), a.dst_ip,
                                              gw_port(gw), a.dst_port, payload)
            f.data = data
        self.frames.sort(key=lambda f: (f.capture_ns, f.order))
        return [(f.capture_ns, f.data) for f in self.frames]


# ------------------------------------------------------------------------------------------
# The reference receiver: what floord should count
# ------------------------------------------------------------------------------------------

def reference_receive(frames, keys, roster, dst_ip, dst_port, clock_bound_ns=rc.CLOCK_BOUND_NS):
    """Runs the capture through the spec's receiver, then the roster and the grid's
    newest-wins rule. Returns (outcomes, records, counters, newest):
    outcomes[i] = the counter name frame i lands in ("accepted" for a valid gateway frame);
    records[i] = what became of each of its fix records: applied, duplicate, older,
    unknown_tag; counters = {name: count}, owners.duplicates / owners.older and totals
    included; newest = {player: the newest accepted fix (dict with _t_ns)}."""
    tag_player = {t: p for t, p, _, _ in roster}
    windows, newest, outcomes, records, counters = {}, {}, [], [], {}

    def count(name, n=1):
        counters[name] = counters.get(name, 0) + n

    for ts, data in frames:
        why = fcpcap.classify(data, dst_port, local_ip=None)
        res = []
        records.append(res)
        if why:
            outcomes.append("net." + why)
            count("net." + why)
            continue
        info, _ = fcpcap.parse_udp_frame(data)
        try:
            d = rc.receive_uplink(info["payload"], keys, windows=windows, now_ns=ts,
                                  clock_bound_ns=clock_bound_ns)
        except rc.WireError as e:
            outcomes.append("uplink." + e.reason)
            count("uplink." + e.reason)
            continue
        outcomes.append("accepted")
        count("frames_accepted")
        if not d["records"]:
            count("keepalives")
        for r in d["records"]:
            count("fix_records")
            p = tag_player.get(r["tag_id"])
            if p is None:
                count("pipeline.unknown_tag")
                res.append("unknown_tag")
                continue
            t_ns = d["hdr"]["base_time_ns"] + r["dt_us"] * 1000
            cur = newest.get(p)
            if cur is not None and r["fix_seq"] == cur["fix_seq"]:
                res.append("duplicate")  # the grid's rule (lib/grid/fc_grid.h)
            elif cur is not None and (t_ns, r["fix_seq"]) < (cur["_t_ns"], cur["fix_seq"]):
                res.append("older")
            else:
                newest[p] = dict(r, _t_ns=t_ns)
                res.append("applied")
            count("owners." + {"duplicate": "duplicates"}.get(res[-1], res[-1]))
    return outcomes, records, counters, newest


def cm(mm):
    """The downlink's rounding (docs/protocol.md §4.6): nearest cm, halves up, clamped."""
    return min(max((mm + 5) // 10, 0), 65535)


def dm(mm):
    return min(max((mm + 50) // 100, -128), 127)


# ------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------

def build(a):
    """Plans, encodes and checks the capture; returns (frames, summary)."""
    roster = load_roster(a.roster)
    gws = load_keys(a.keys)
    if a.players is None:
        a.players = len(roster)
    if a.gateways is None:
        a.gateways = len(gws)
    if not 1 <= a.players <= len(roster):
        raise ValueError(f"--players {a.players}: the roster has {len(roster)} entries")
    if not 1 <= a.gateways <= len(gws):
        raise ValueError(f"--gateways {a.gateways}: the keys file has {len(gws)} gateways")
    if a.scenario == "hostile" and a.seconds < 0.5:
        raise ValueError("--scenario hostile needs --seconds 0.5 or more")
    if a.width_m * 1000 <= 2 * MARGIN_MM + 1 or a.height_m * 1000 <= 2 * MARGIN_MM + 1:
        raise ValueError("the floor must be larger than 0.2 m x 0.2 m")
    if a.rate <= 0 or a.seconds <= 0:
        raise ValueError("--rate and --seconds must be positive")

    cap = Capture(a, roster, gws)
    cap.simulate()
    held = cap.plan_hostile() if a.scenario == "hostile" else set()
    cap.make_batches(cap.plan_batches(held))
    if a.scenario == "hostile":
        cap.add_hostile()
    frames = cap.finish()

    outcomes, recs, counters, newest = reference_receive(frames, receiver_keys(gws), roster,
                                                         a.dst_ip, a.dst_port)
    # Every hostile frame must land exactly in its class, every other frame be accepted.
    index = {id(f): i for i, f in enumerate(cap.frames)}
    hostile_list, hostile_ids = [], set()
    record_class = {"unknown_tag": "unknown_tag", "duplicate_fix": "duplicate",
                    "older_fix": "older"}
    for cls, f in cap.hostile:
        i = index[id(f)]
        want = COUNTER[cls]
        if cls in record_class:  # a valid frame; one of its records is the hostile part
            if outcomes[i] != "accepted" or record_class[cls] not in recs[i]:
                raise AssertionError(f"hostile {cls}: frame {i} is {outcomes[i]} {recs[i]}")
        elif outcomes[i] != want:
            raise AssertionError(f"hostile {cls}: frame {i} lands in {outcomes[i]}, not {want}")
        hostile_ids.add(i)
        hostile_list.append(dict(cls=cls, counter=want, frame_index=i, ts_ns=frames[i][0]))
    for i, o in enumerate(outcomes):
        if i not in hostile_ids and o != "accepted":
            raise AssertionError(f"frame {i} should be valid but lands in {o}")

    n_fixes = sum(len(v) for v in cap.fixes.values())
    # What normal traffic shows up as in floord's report (report.c): accepted gateway frames
    # are rx.gw_frames; every distinct fix is either applied or older.
    classes = {"valid_frame": {"count": counters.get("frames_accepted", 0),
                               "counter": "rx.gw_frames"},
               "keepalive": {"count": counters.get("keepalives", 0),
                             "counter": "rx.gw_frames (the ones with 0 records)"},
               "fix": {"count": n_fixes, "counter": "owners.applied + owners.older"}}
    for cls, want in HOSTILE if a.scenario == "hostile" else []:
        classes[cls] = {"count": 1, "counter": want}
    final = {}
    for i, (tag, player, team, name) in enumerate(cap.players):
        r = newest[player]
        final[str(player)] = dict(tag_id=tag, team=team, fix_seq=r["fix_seq"], t_ns=r["_t_ns"],
                                  x_mm=r["x_mm"], y_mm=r["y_mm"], z_mm=r["z_mm"],
                                  x_cm=cm(r["x_mm"]), y_cm=cm(r["y_mm"]), z_dm=dm(r["z_mm"]))
    summary = {
        "args": {k: v for k, v in vars(a).items() if k not in ("summary", "write_fixtures")},
        "start_ns": cap.start_ns,
        "frames": len(frames),
        "fixes": n_fixes,
        "fix_records": counters.get("fix_records", 0),  # floord's rx.fixes
        "gateways": [dict(gateway_id=gw, key_id=cap.gw_key[gw][0], ip=gw_ip(gw),
                          port=gw_port(gw), latency_us=cap.lat_us[g],
                          frames=sum(1 for f in cap.frames if f.gw_idx == g))
                     for g, gw in enumerate(cap.gw_ids)],
        "classes": classes,
        "expected_counters": dict(sorted(counters.items())),
        "hostile": hostile_list,
        "final_positions": final,
        "first_ts_ns": frames[0][0],
        "last_ts_ns": frames[-1][0],
    }
    if a.scenario == "crowded":
        summary["crowded"] = dict(centre_mm=[cap.w_mm // 2, cap.h_mm // 2],
                                  players=[p for _, p, _, _ in
                                           cap.players[:len(cap.players) // 2]],
                                  arrival_ns={str(p): t for p, t in sorted(cap.arrival.items())})
    return frames, summary


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="the capture to write (microsecond pcap)")
    ap.add_argument("--roster", help="roster CSV: tag_id,player,team[,name]")
    ap.add_argument("--keys", help="keys file (docs/protocol.md section 3.9)")
    ap.add_argument("--write-fixtures", metavar="DIR",
                    help="write DIR/roster.csv and DIR/gateways.keys, then exit")
    ap.add_argument("--players", type=int, help="the first N roster entries (default all)")
    ap.add_argument("--gateways", type=int, help="the first G gateways (default all)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=20.0, help="fixes per second per tag")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--width-m", type=float, default=20.0)
    ap.add_argument("--height-m", type=float, default=10.0)
    ap.add_argument("--start-ns", type=int, default=DEFAULT_START_NS,
                    help="capture start, ns since the epoch (rounded down to a µs)")
    ap.add_argument("--scenario", choices=["normal", "crowded", "hostile"], default="normal")
    ap.add_argument("--dst-ip", default="198.18.0.1", help="floord's uplink address")
    ap.add_argument("--dst-port", type=int, default=47474, help="floord's uplink port")
    ap.add_argument("--summary", metavar="JSON", help="write what was sent here")
    a = ap.parse_args(argv)

    if a.write_fixtures:
        roster, keys = write_fixtures(a.write_fixtures, a.players or 400, a.gateways or 4)
        print(f"wrote {roster} and {keys}")
        return 0
    if not (a.out and a.roster and a.keys):
        ap.error("--out, --roster and --keys are required (or --write-fixtures DIR)")
    try:
        frames, summary = build(a)
    except (OSError, ValueError) as e:
        print(f"mkcapture: {e}", file=sys.stderr)
        return 2
    fcpcap.write_pcap(a.out, frames, nanosecond=False)
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(summary, f, indent=1, sort_keys=True)
            f.write("\n")
    c = summary["classes"]
    print(f"mkcapture: {a.out}: {summary['frames']} frames, {summary['fixes']} fixes of "
          f"{a.players} players from {a.gateways} gateways over {a.seconds:g} s "
          f"({c['keepalive']['count']} keepalives, {len(summary['hostile'])} hostile)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
