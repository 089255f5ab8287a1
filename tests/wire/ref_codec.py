#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""floorcast wire protocol: an independent reference encoder and decoder.

Written from docs/protocol.md alone (never from the C in lib/wire/), so that the C codec and
this file can only agree on a test vector if both follow the spec. The layouts below are the
spec's tables, one line per field; the receive checks follow the spec's numbered order.

  python3 ref_codec.py write DIR              write DIR/NAME.hex for every vector
  python3 ref_codec.py check DIR              re-encode and compare to DIR/NAME.hex, decode each
                                              file and compare to the vector's field values,
                                              verify every MAC; plus the self-tests
  python3 ref_codec.py doc PROTOCOL_MD DIR    every `<!-- vector: NAME -->` dump in the doc
                                              equals DIR/NAME.hex, and every vector is in the doc
  python3 ref_codec.py dump [NAME...]         print doc-style dumps with field annotations

Exit status 0 when everything matches, 1 on any mismatch, 2 on a usage error.

SipHash-2-4 comes from PyNaCl (libsodium's crypto_shorthash_siphash24; Debian package
python3-nacl). HMAC-SHA-256 comes from the standard library.
"""

import hashlib
import hmac
import os
import re
import struct
import sys

try:
    import nacl.encoding
    import nacl.hash
except ImportError:
    # python3-nacl installs into Debian's dist-packages, which a python3 other than
    # /usr/bin/python3 (pyenv, venv) does not search; the extension module is abi3.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import nacl.encoding
        import nacl.hash
    except ImportError:
        sys.exit("ref_codec: PyNaCl is missing: apt-get install python3-nacl")

# ------------------------------------------------------------------------------------------
# Constants (docs/protocol.md)
# ------------------------------------------------------------------------------------------

MAX_PAYLOAD = 1400

UP_MAGIC = 0x4746  # "FG"
UP_VERSION = 1
UP_HDR_LEN = 32
UP_FIX_BATCH, UP_GATEWAY_STATUS, UP_GATEWAY_EVENT = 1, 2, 3
MAC_HMAC_SHA256_128, MAC_SIPHASH24 = 1, 2
MAC_TAG_LEN = {MAC_HMAC_SHA256_128: 16, MAC_SIPHASH24: 8}
MAC_KEY_LEN = {MAC_HMAC_SHA256_128: 32, MAC_SIPHASH24: 16}
REPLAY_WINDOW = 1024
CLOCK_BOUND_NS = 2_000_000_000

DL_MAGIC = 0x4446  # "FD"
DL_VERSION = 1
DL_HDR_LEN = 40
DL_HEARTBEAT = 0
DL_END_OF_SESSION = 0xFFFF
DL_F_RETRANSMIT = 0x01
DL_F_FEED_B = 0x02
MAX_CONTENDERS = 64

RT_MAGIC = 0x5246  # "FR"
RT_VERSION = 1
RT_MAX_COUNT = 256

U64 = (1 << 64) - 1

# ------------------------------------------------------------------------------------------
# Layouts: (offset, type, name). Names starting with "reserved" are sent as 0 and ignored.
# ------------------------------------------------------------------------------------------

TYPES = {
    "u8": "<B", "i8": "<b", "u16": "<H", "i16": "<h",
    "u32": "<I", "i32": "<i", "u64": "<Q", "i64": "<q",
}


class Layout:
    """A fixed-size block of fields; checks that the fields tile it with no gap or overlap,
    so that no byte of the wire format is left undescribed (no hidden padding)."""

    def __init__(self, name, size, fields, start=0):
        self.name, self.size, self.fields, self.start = name, size, fields, start
        pos = start
        for off, typ, fname in fields:
            width = struct.calcsize(TYPES[typ])
            if off != pos:
                raise AssertionError(f"{name}.{fname}: offset {off}, expected {pos}")
            if off % width:
                raise AssertionError(f"{name}.{fname}: offset {off} not naturally aligned")
            pos += width
        if pos != size:
            raise AssertionError(f"{name}: fields end at {pos}, size {size}")

    def names(self):
        return [f for _, _, f in self.fields if not f.startswith("reserved")]

    def pack_into(self, buf, base, values):
        unknown = set(values) - set(self.names())
        if unknown:
            raise KeyError(f"{self.name}: unknown fields {sorted(unknown)}")
        for off, typ, fname in self.fields:
            v = 0 if fname.startswith("reserved") else values[fname]
            struct.pack_into(TYPES[typ], buf, base + off, v)

    def unpack(self, buf, base, spans=None, prefix=""):
        out = {}
        for off, typ, fname in self.fields:
            (v,) = struct.unpack_from(TYPES[typ], buf, base + off)
            if spans is not None:
                spans.append((base + off, struct.calcsize(TYPES[typ]), prefix + fname, v))
            if not fname.startswith("reserved"):
                out[fname] = v
        return out


UP_HDR = Layout("uplink header", 32, [
    (0, "u16", "magic"), (2, "u8", "version"), (3, "u8", "msg_type"),
    (4, "u32", "gateway_id"), (8, "u64", "seq"), (16, "u64", "base_time_ns"),
    (24, "u16", "record_count"), (26, "u16", "record_len"),
    (28, "u8", "key_id"), (29, "u8", "mac_alg"), (30, "u16", "flags"),
])
UP_FIX = Layout("fix record", 32, [
    (0, "u64", "tag_id"), (8, "i32", "x_mm"), (12, "i32", "y_mm"), (16, "i32", "z_mm"),
    (20, "u32", "dt_us"), (24, "u16", "err_mm"), (26, "u8", "quality"), (27, "u8", "flags"),
    (28, "u32", "fix_seq"),
])
UP_STATUS = Layout("gateway status record", 32, [
    (0, "u32", "uptime_s"), (4, "u32", "tags_heard"), (8, "u64", "frames_sent"),
    (16, "u32", "frames_dropped"), (20, "u8", "cpu_pct"), (21, "i8", "temp_c"),
    (22, "u8", "clock_sync"), (23, "u8", "reserved0"), (24, "u32", "clock_err_ns"),
    (28, "u32", "reserved1"),
])
UP_EVENT = Layout("gateway event record", 16, [
    (0, "u16", "code"), (2, "u8", "severity"), (3, "u8", "reserved0"), (4, "u32", "dt_us"),
    (8, "u64", "arg"),
])
UP_RECORD = {UP_FIX_BATCH: UP_FIX, UP_GATEWAY_STATUS: UP_STATUS, UP_GATEWAY_EVENT: UP_EVENT}

DL_HDR = Layout("downlink header", 40, [
    (0, "u16", "magic"), (2, "u8", "version"), (3, "u8", "flags"), (4, "u32", "session_id"),
    (8, "u64", "packet_seq"), (16, "u64", "send_time_ns"), (24, "u64", "first_event_seq"),
    (32, "u32", "tick"), (36, "u16", "msg_count"), (38, "u8", "event_count"),
    (39, "u8", "channel_id"),
])
MSG_HDR = Layout("message header", 4, [
    (0, "u16", "length"), (2, "u8", "template_id"), (3, "u8", "version"),
])

# Template bodies: offsets from the start of the message (its 4-byte header is at 0..3).
T_POSITIONS, T_CLUE_CLAIMED, T_SCORE, T_ROUND_STATE, T_SNAPSHOT_PART = 1, 2, 3, 4, 5
T_CLUE_STATE, T_END_OF_ROUND, T_COMMAND_ECHO, T_RETRANS_REFUSED = 6, 7, 8, 9

TEMPLATES = {
    T_POSITIONS: Layout("POSITIONS", 8, [
        (4, "u8", "entry_len"), (5, "u8", "reserved0"), (6, "u16", "count"),
    ], start=4),
    T_CLUE_CLAIMED: Layout("CLUE_CLAIMED", 32, [
        (4, "u32", "clue_id"), (8, "u32", "points"), (12, "u16", "winner"),
        (14, "u16", "winner_team"), (16, "u16", "contenders_total"),
        (18, "u16", "contenders_listed"), (20, "u32", "round_id"),
        (24, "u64", "meas_time_ns"),
    ], start=4),
    T_SCORE: Layout("SCORE", 32, [
        (4, "u16", "player"), (6, "u16", "team"), (8, "i32", "total"), (12, "i32", "delta"),
        (16, "u32", "clue_id"), (20, "i32", "team_total"), (24, "u32", "round_id"),
        (28, "u32", "reserved0"),
    ], start=4),
    T_ROUND_STATE: Layout("ROUND_STATE", 24, [
        (4, "u32", "round_id"), (8, "u8", "state"), (9, "u8", "reserved0"),
        (10, "u16", "reserved1"), (12, "u32", "round_time_ms"), (16, "u64", "cmd_seq"),
    ], start=4),
    T_SNAPSHOT_PART: Layout("SNAPSHOT_PART", 40, [
        (4, "u32", "snapshot_id"), (8, "u16", "part"), (10, "u16", "part_count"),
        (12, "u32", "as_of_tick"), (16, "u32", "reserved0"), (20, "u32", "reserved1"),
        (24, "u64", "as_of_packet_seq"), (32, "u64", "as_of_event_seq"),
    ], start=4),
    T_CLUE_STATE: Layout("CLUE_STATE", 24, [
        (4, "u32", "clue_id"), (8, "u32", "points"), (12, "u16", "x_cm"), (14, "u16", "y_cm"),
        (16, "u16", "radius_mm"), (18, "u8", "state"), (19, "u8", "reserved0"),
        (20, "u16", "winner"), (22, "u16", "reserved1"),
    ], start=4),
    T_END_OF_ROUND: Layout("END_OF_ROUND", 16, [
        (4, "u32", "round_id"), (8, "u16", "reason"), (10, "u16", "reserved0"),
        (12, "u32", "reserved1"),
    ], start=4),
    T_COMMAND_ECHO: Layout("COMMAND_ECHO", 24, [
        (4, "u32", "reserved0"), (8, "u64", "cmd_seq"), (16, "u16", "command"),
        (18, "u16", "status"), (20, "u32", "arg"),
    ], start=4),
    T_RETRANS_REFUSED: Layout("RETRANS_REFUSED", 32, [
        (4, "u16", "reason"), (6, "u16", "count"), (8, "u64", "first_event_seq"),
        (16, "u64", "oldest_available"), (24, "u64", "next_event_seq"),
    ], start=4),
}
TEMPLATE_ID = {lay.name: tid for tid, lay in TEMPLATES.items()}

POSITION = Layout("position entry", 8, [
    (0, "u16", "player"), (2, "u16", "x_cm"), (4, "u16", "y_cm"), (6, "i8", "z_dm"),
    (7, "u8", "status"),
])
CONTENDER = Layout("contender entry", 16, [
    (0, "u16", "player"), (2, "u16", "flags"), (4, "u32", "distance_mm"),
    (8, "u64", "meas_time_ns"),
])

RT_REQUEST = Layout("retransmit request", 24, [
    (0, "u16", "magic"), (2, "u8", "version"), (3, "u8", "reserved0"),
    (4, "u32", "session_id"), (8, "u64", "first_event_seq"), (16, "u16", "count"),
    (18, "u16", "reserved1"), (20, "u32", "reserved2"),
])


class WireError(Exception):
    """A frame or packet a receiver drops; .reason is the spec's drop reason."""

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def round_up8(n):
    return (n + 7) & ~7


# ------------------------------------------------------------------------------------------
# MAC
# ------------------------------------------------------------------------------------------

def mac(alg, key, data):
    if len(key) != MAC_KEY_LEN[alg]:
        raise ValueError(f"mac_alg {alg} needs a {MAC_KEY_LEN[alg]}-byte key")
    if alg == MAC_HMAC_SHA256_128:
        return hmac.new(key, data, hashlib.sha256).digest()[:16]
    if alg == MAC_SIPHASH24:
        # libsodium writes the 64-bit SipHash result little-endian: the spec's byte order.
        return nacl.hash.siphash24(data, key=key, encoder=nacl.encoding.RawEncoder)
    raise ValueError(f"unknown mac_alg {alg}")


# ------------------------------------------------------------------------------------------
# Uplink
# ------------------------------------------------------------------------------------------

def encode_uplink(v):
    """v: {"hdr": {...}, "records": [{...}], "key": bytes}. magic, version and record_count
    are filled in; a record_len longer than the v1 record is zero-filled past it."""
    hdr = dict(v["hdr"])
    lay = UP_RECORD[hdr["msg_type"]]
    hdr.setdefault("magic", UP_MAGIC)
    hdr.setdefault("version", UP_VERSION)
    hdr.setdefault("record_len", lay.size)
    hdr.setdefault("record_count", len(v["records"]))
    if hdr["record_count"] != len(v["records"]):
        raise ValueError("record_count does not match the records")
    rlen = hdr["record_len"]
    body = bytearray(UP_HDR_LEN + len(v["records"]) * rlen)
    UP_HDR.pack_into(body, 0, hdr)
    for i, rec in enumerate(v["records"]):
        lay.pack_into(body, UP_HDR_LEN + i * rlen, rec)
    return bytes(body) + mac(hdr["mac_alg"], v["key"], bytes(body))


class ReplayWindow:
    """The spec's per-gateway 1024-frame window (RFC 6479 style, exact bounds)."""

    def __init__(self):
        self.top = None  # highest accepted seq; None until the first frame
        self.bits = set()  # accepted seqs in [top - 1023, top]

    def check(self, seq):
        if self.top is None or seq > self.top:
            return None
        if self.top - seq >= REPLAY_WINDOW:
            return "replay_old"
        if seq in self.bits:
            return "replay_dup"
        return None

    def mark(self, seq):
        if self.top is None or seq > self.top:
            self.top = seq
        self.bits = {s for s in self.bits if self.top - s < REPLAY_WINDOW}
        self.bits.add(seq)


def receive_uplink(frame, keys, windows=None, now_ns=None, clock_bound_ns=CLOCK_BOUND_NS,
                   spans=None):
    """The spec's receive order. keys: {gateway_id: {key_id: (mac_alg, key)}}; windows:
    {gateway_id: ReplayWindow} (updated); now_ns None skips the clock bound (step 14).
    Returns {"hdr": {...}, "records": [...], "tag": bytes}; raises WireError(reason)."""
    n = len(frame)
    if n < UP_HDR_LEN:
        raise WireError("runt", f"{n} bytes")
    hdr = UP_HDR.unpack(frame, 0, spans)
    if hdr["magic"] != UP_MAGIC:
        raise WireError("bad_magic", hex(hdr["magic"]))
    if hdr["version"] != UP_VERSION:
        raise WireError("bad_version", str(hdr["version"]))
    if hdr["msg_type"] not in UP_RECORD:
        raise WireError("bad_msg_type", str(hdr["msg_type"]))
    alg = hdr["mac_alg"]
    if alg not in MAC_TAG_LEN:
        raise WireError("bad_mac_alg", str(alg))
    lay = UP_RECORD[hdr["msg_type"]]
    rlen, count = hdr["record_len"], hdr["record_count"]
    if rlen < lay.size or rlen % 8:
        raise WireError("bad_record_len", str(rlen))
    if (hdr["msg_type"] == UP_GATEWAY_STATUS and count != 1) or \
       (hdr["msg_type"] == UP_GATEWAY_EVENT and count < 1):
        raise WireError("bad_record_count", str(count))
    maclen = UP_HDR_LEN + count * rlen
    if n != maclen + MAC_TAG_LEN[alg] or n > MAX_PAYLOAD:
        raise WireError("bad_length", f"{n} bytes, expected {maclen + MAC_TAG_LEN[alg]}")
    gw = keys.get(hdr["gateway_id"])
    if gw is None:
        raise WireError("unknown_gateway", str(hdr["gateway_id"]))
    key = gw.get(hdr["key_id"])
    if key is None:
        raise WireError("unknown_key", str(hdr["key_id"]))
    if key[0] != alg:
        raise WireError("key_alg_mismatch", f"key has {key[0]}, frame {alg}")
    if windows is None:
        windows = {}
    win = windows.setdefault(hdr["gateway_id"], ReplayWindow())
    why = win.check(hdr["seq"])
    if why:
        raise WireError(why, hex(hdr["seq"]))
    tag = frame[maclen:]
    if not hmac.compare_digest(mac(alg, key[1], frame[:maclen]), tag):
        raise WireError("bad_mac")
    win.mark(hdr["seq"])
    if now_ns is not None and abs(hdr["base_time_ns"] - now_ns) > clock_bound_ns:
        raise WireError("clock_skew", f"{hdr['base_time_ns'] - now_ns} ns")
    records = []
    for i in range(count):
        base = UP_HDR_LEN + i * rlen
        records.append(lay.unpack(frame, base, spans, f"record[{i}]."))  # the v1 prefix
        if spans is not None and rlen > lay.size:
            spans.append((base + lay.size, rlen - lay.size, f"record[{i}].(newer fields)", None))
    if spans is not None:
        spans.append((maclen, len(tag), "mac tag", tag.hex()))
    return {"hdr": hdr, "records": records, "tag": tag}


# ------------------------------------------------------------------------------------------
# Downlink
# ------------------------------------------------------------------------------------------

def encode_message(m):
    """m: {"template": NAME, fields..., "entries"/"contenders": [...]}. length and the
    message version (1) are filled in; so are POSITIONS count/entry_len and
    CLUE_CLAIMED contenders_listed when absent."""
    m = dict(m)
    tid = TEMPLATE_ID[m.pop("template")]
    lay = TEMPLATES[tid]
    version = m.pop("version", 1)
    tail = b""
    if tid == T_POSITIONS:
        entries = m.pop("entries")
        m.setdefault("entry_len", POSITION.size)
        m.setdefault("count", len(entries))
        if m["count"] != len(entries) or m["entry_len"] < POSITION.size:
            raise ValueError("POSITIONS count/entry_len")
        buf = bytearray(len(entries) * m["entry_len"])
        for i, e in enumerate(entries):
            POSITION.pack_into(buf, i * m["entry_len"], e)
        tail = bytes(buf)
    elif tid == T_CLUE_CLAIMED:
        conts = m.pop("contenders")
        m.setdefault("contenders_listed", len(conts))
        if m["contenders_listed"] != len(conts) or len(conts) > MAX_CONTENDERS:
            raise ValueError("CLUE_CLAIMED contenders_listed")
        buf = bytearray(len(conts) * CONTENDER.size)
        for i, c in enumerate(conts):
            CONTENDER.pack_into(buf, i * CONTENDER.size, c)
        tail = bytes(buf)
    length = round_up8(lay.size + len(tail))
    out = bytearray(length)
    MSG_HDR.pack_into(out, 0, {"length": length, "template_id": tid, "version": version})
    lay.pack_into(out, 0, m)
    out[lay.size:lay.size + len(tail)] = tail
    return bytes(out)


def encode_downlink(v):
    """v: {"hdr": {...}, "msgs": [...]}. magic, version and msg_count (unless given, e.g.
    0xFFFF for end of session) are filled in."""
    hdr = dict(v["hdr"])
    hdr.setdefault("magic", DL_MAGIC)
    hdr.setdefault("version", DL_VERSION)
    hdr.setdefault("msg_count", len(v["msgs"]))
    if hdr["msg_count"] == DL_END_OF_SESSION:
        if v["msgs"]:
            raise ValueError("end of session carries no messages")
    elif hdr["msg_count"] != len(v["msgs"]):
        raise ValueError("msg_count does not match the messages")
    out = bytearray(DL_HDR_LEN)
    DL_HDR.pack_into(out, 0, hdr)
    for m in v["msgs"]:
        out += encode_message(m)
    if len(out) > MAX_PAYLOAD:
        raise ValueError(f"packet of {len(out)} bytes")
    return bytes(out)


def decode_message(pkt, off, end, spans=None, prefix=""):
    """Decode one message at off; returns (message dict, next offset)."""
    if end - off < 4:
        raise WireError("bad_message", f"{end - off} bytes left at {off}")
    mh = MSG_HDR.unpack(pkt, off, spans, prefix)
    length, tid = mh["length"], mh["template_id"]
    if length < 8 or length % 8 or length > end - off:
        raise WireError("bad_message", f"length {length} at {off}")
    if mh["version"] < 1:
        raise WireError("bad_message", f"template version {mh['version']} at {off}")
    lay = TEMPLATES.get(tid)
    if lay is None:  # unknown template: skipped by its length
        if spans is not None:
            spans.append((off + 4, length - 4, prefix + "(unknown template body)", None))
        return {"template_id": tid, "length": length, "version": mh["version"]}, off + length
    if length < lay.size:
        raise WireError("bad_message", f"{lay.name} length {length} < {lay.size}")
    m = {"template": lay.name, "length": length, "version": mh["version"]}
    m.update(lay.unpack(pkt, off, spans, prefix))
    used = lay.size
    if tid == T_POSITIONS:
        elen, count = m["entry_len"], m["count"]
        if elen < POSITION.size or lay.size + count * elen > length:
            raise WireError("bad_message", "POSITIONS entries overrun the message")
        m["entries"] = [POSITION.unpack(pkt, off + lay.size + i * elen, spans,
                                        f"{prefix}entries[{i}].") for i in range(count)]
        used += count * elen
    elif tid == T_CLUE_CLAIMED:
        listed = m["contenders_listed"]
        if lay.size + listed * CONTENDER.size > length:
            raise WireError("bad_message", "CLUE_CLAIMED contenders overrun the message")
        m["contenders"] = [CONTENDER.unpack(pkt, off + lay.size + i * CONTENDER.size, spans,
                                            f"{prefix}contenders[{i}].") for i in range(listed)]
        used += listed * CONTENDER.size
    if spans is not None and length > used:
        spans.append((off + used, length - used, prefix + "(padding / newer fields)", None))
    return m, off + length


def decode_downlink(pkt, spans=None):
    """Decode a downlink packet; raises WireError on anything the spec says to drop."""
    n = len(pkt)
    if n < DL_HDR_LEN:
        raise WireError("runt", f"{n} bytes")
    if n > MAX_PAYLOAD:
        raise WireError("bad_length", f"{n} bytes")
    hdr = DL_HDR.unpack(pkt, 0, spans, "hdr.")
    if hdr["magic"] != DL_MAGIC:
        raise WireError("bad_magic", hex(hdr["magic"]))
    if hdr["version"] != DL_VERSION:
        raise WireError("bad_version", str(hdr["version"]))
    if hdr["channel_id"] not in (0, 1):
        raise WireError("unknown_channel", str(hdr["channel_id"]))
    mc, ec = hdr["msg_count"], hdr["event_count"]
    msgs = []
    if mc == DL_END_OF_SESSION:
        if ec != 0 or n != DL_HDR_LEN:
            raise WireError("bad_packet", "end of session with content")
    else:
        if ec > mc or (hdr["channel_id"] == 1 and ec != 0):
            raise WireError("bad_packet", f"event_count {ec} msg_count {mc}")
        off = DL_HDR_LEN
        for i in range(mc):
            m, off = decode_message(pkt, off, n, spans, f"msg[{i}].")
            if i < ec:
                m["event_seq"] = hdr["first_event_seq"] + i
            msgs.append(m)
        if off != n:
            raise WireError("bad_packet", f"{n - off} bytes after the last message")
    return {"hdr": hdr, "msgs": msgs}


def encode_rt_request(v):
    f = dict(v["fields"])
    f.setdefault("magic", RT_MAGIC)
    f.setdefault("version", RT_VERSION)
    out = bytearray(RT_REQUEST.size)
    RT_REQUEST.pack_into(out, 0, f)
    return bytes(out)


def decode_rt_request(pkt, spans=None):
    if len(pkt) < RT_REQUEST.size:
        raise WireError("runt", f"{len(pkt)} bytes")
    f = RT_REQUEST.unpack(pkt, 0, spans)
    if f["magic"] != RT_MAGIC:
        raise WireError("bad_magic", hex(f["magic"]))
    if f["version"] != RT_VERSION:
        raise WireError("bad_version", str(f["version"]))
    if not 1 <= f["count"] <= 0xFFFF:
        raise WireError("bad_count", str(f["count"]))
    return {"fields": f}


# ------------------------------------------------------------------------------------------
# The vectors (the C tests use the same field values)
# ------------------------------------------------------------------------------------------

BASE = 1767225600000000000  # 2026-01-01T00:00:00Z
TICK_NS = 50_000_000
HMAC_KEY = bytes(range(32))
SIP_KEY = bytes(range(16))
SESSION = 0x5EED0001

R0 = dict(tag_id=0x0000A4C138F0E1D2, x_mm=12345, y_mm=6789, z_mm=1100, dt_us=1500, err_mm=20,
          quality=90, flags=0x02, fix_seq=1001)
R1 = dict(tag_id=0x0000A4C138F0E1D3, x_mm=-50, y_mm=10000, z_mm=0, dt_us=2500, err_mm=0xFFFF,
          quality=40, flags=0x05, fix_seq=77)


def _up(msg_type, gw, seq, key_id, alg, flags, record_len, records, key):
    return {"kind": "uplink", "key": key, "records": records,
            "hdr": dict(msg_type=msg_type, gateway_id=gw, seq=seq, base_time_ns=BASE,
                        key_id=key_id, mac_alg=alg, flags=flags, record_len=record_len)}


def _dl(chan, pkt, tick, first_event, events, msgs, flags=0, msg_count=None):
    hdr = dict(flags=flags, session_id=SESSION, packet_seq=pkt,
               send_time_ns=BASE + tick * TICK_NS, first_event_seq=first_event, tick=tick,
               event_count=events, channel_id=chan)
    if msg_count is not None:
        hdr["msg_count"] = msg_count
    return {"kind": "downlink", "hdr": hdr, "msgs": msgs}


ECHO_START = dict(template="COMMAND_ECHO", cmd_seq=5, command=1, status=0, arg=1)
ROUND_RUNNING = dict(template="ROUND_STATE", round_id=1, state=1, round_time_ms=0, cmd_seq=5)

VECTORS = {
    "up_fix_batch_hmac": _up(UP_FIX_BATCH, 7, (3 << 32) | 42, 1, MAC_HMAC_SHA256_128, 0, 32,
                             [R0, R1], HMAC_KEY),
    "up_fix_batch_siphash": _up(UP_FIX_BATCH, 8, (1 << 32) | 1, 0, MAC_SIPHASH24, 0x0001, 32,
                                [R0], SIP_KEY),
    "up_gateway_status": _up(UP_GATEWAY_STATUS, 7, (3 << 32) | 43, 1, MAC_HMAC_SHA256_128, 0, 32,
                             [dict(uptime_s=86400, tags_heard=400, frames_sent=1728000,
                                   frames_dropped=3, cpu_pct=37, temp_c=52, clock_sync=2,
                                   clock_err_ns=150)], HMAC_KEY),
    "up_gateway_event": _up(UP_GATEWAY_EVENT, 7, (3 << 32) | 44, 1, MAC_HMAC_SHA256_128, 0, 16,
                            [dict(code=3, severity=1, dt_us=0, arg=-2500000 & U64)], HMAC_KEY),
    "dl_positions": _dl(0, 1, 1, 1, 0, [
        dict(template="POSITIONS", entry_len=8, entries=[
            dict(player=0, x_cm=123, y_cm=67, z_dm=11, status=0x01),
            dict(player=1, x_cm=0, y_cm=1000, z_dm=-3, status=0x05)])]),
    "dl_clue_claimed": _dl(0, 2, 2, 1, 2, [
        dict(template="CLUE_CLAIMED", clue_id=17, points=50, winner=3, winner_team=1,
             contenders_total=2, contenders_listed=2, meas_time_ns=BASE + 73000000,
             round_id=1, contenders=[
                 dict(player=3, flags=0x0001, distance_mm=12, meas_time_ns=BASE + 73000000),
                 dict(player=9, flags=0, distance_mm=18, meas_time_ns=BASE + 81000000)]),
        dict(template="SCORE", player=3, team=1, total=50, delta=50, clue_id=17,
             team_total=120, round_id=1)]),
    "dl_round_start": _dl(0, 3, 3, 3, 2, [ECHO_START, ROUND_RUNNING]),
    "dl_end_of_round": _dl(0, 4, 4, 5, 1, [
        dict(template="END_OF_ROUND", round_id=1, reason=1)]),
    "dl_heartbeat": _dl(0, 5, 5, 6, 0, [], msg_count=DL_HEARTBEAT),
    "dl_end_of_session": _dl(0, 6, 6, 6, 0, [], msg_count=DL_END_OF_SESSION),
    "dl_snapshot": _dl(1, 1, 40, 5, 0, [
        dict(template="SNAPSHOT_PART", snapshot_id=2, part=0, part_count=1, as_of_tick=40,
             as_of_packet_seq=57, as_of_event_seq=5),
        dict(template="ROUND_STATE", round_id=1, state=1, round_time_ms=2000, cmd_seq=5),
        dict(template="CLUE_STATE", clue_id=17, points=50, x_cm=1234, y_cm=567, radius_mm=20,
             state=1, winner=3),
        dict(template="SCORE", player=3, team=1, total=50, delta=0, clue_id=0, team_total=120,
             round_id=1),
        dict(template="POSITIONS", entry_len=8, entries=[
            dict(player=3, x_cm=1234, y_cm=567, z_dm=0, status=0x01)])]),
    "rt_request": {"kind": "rt_request",
                   "fields": dict(session_id=SESSION, first_event_seq=3, count=2)},
    "dl_retrans_reply": _dl(0, 0, 3, 3, 2, [ECHO_START, ROUND_RUNNING], flags=DL_F_RETRANSMIT),
    "dl_retrans_refused": _dl(0, 0, 6, 260, 0, [
        dict(template="RETRANS_REFUSED", reason=1, count=2, first_event_seq=1,
             oldest_available=100, next_event_seq=260)], flags=DL_F_RETRANSMIT),
}

EXPECTED_LEN = {
    "up_fix_batch_hmac": 112, "up_fix_batch_siphash": 72, "up_gateway_status": 80,
    "up_gateway_event": 64, "dl_positions": 64, "dl_clue_claimed": 136, "dl_round_start": 88,
    "dl_end_of_round": 56, "dl_heartbeat": 40, "dl_end_of_session": 40, "dl_snapshot": 176,
    "rt_request": 24, "dl_retrans_reply": 88, "dl_retrans_refused": 72,
}


def vector_keys():
    """The key set a receiver of the uplink vectors holds (as a keys file would give it)."""
    keys = {}
    for v in VECTORS.values():
        if v["kind"] == "uplink":
            h = v["hdr"]
            keys.setdefault(h["gateway_id"], {})[h["key_id"]] = (h["mac_alg"], v["key"])
    return keys


def encode(v):
    return {"uplink": encode_uplink, "downlink": encode_downlink,
            "rt_request": encode_rt_request}[v["kind"]](v)


def decode(kind, data, spans=None):
    if kind == "uplink":
        return receive_uplink(data, vector_keys(), spans=spans)
    if kind == "downlink":
        return decode_downlink(data, spans)
    return decode_rt_request(data, spans)


def expected_fields(v):
    """The vector's field values as a decoder must return them (derived fields included,
    computed here from the spec's rules, not by the encoder)."""
    if v["kind"] == "uplink":
        hdr = dict(v["hdr"], magic=UP_MAGIC, version=UP_VERSION, record_count=len(v["records"]))
        return {"hdr": hdr, "records": [dict(r) for r in v["records"]]}
    if v["kind"] == "rt_request":
        return {"fields": dict(v["fields"], magic=RT_MAGIC, version=RT_VERSION)}
    hdr = dict(v["hdr"], magic=DL_MAGIC, version=DL_VERSION)
    hdr.setdefault("msg_count", len(v["msgs"]))
    msgs = []
    for i, m in enumerate(v["msgs"]):
        m = dict(m, version=1)
        if m["template"] == "POSITIONS":
            m["count"] = len(m["entries"])
            m["length"] = round_up8(8 + len(m["entries"]) * m["entry_len"])
        elif m["template"] == "CLUE_CLAIMED":
            m["length"] = 32 + 16 * len(m["contenders"])
        else:
            m["length"] = TEMPLATES[TEMPLATE_ID[m["template"]]].size
        if i < hdr["event_count"]:
            m["event_seq"] = hdr["first_event_seq"] + i
        msgs.append(m)
    return {"hdr": hdr, "msgs": msgs}


def reencode(kind, d, v):
    """Encode a decoded vector again (the key comes from the vector)."""
    if kind == "uplink":
        return encode_uplink({"hdr": d["hdr"], "records": d["records"], "key": v["key"]})
    if kind == "rt_request":
        return encode_rt_request(d)
    msgs = []
    for m in d["msgs"]:
        m = {k: x for k, x in m.items() if k not in ("length", "event_seq")}
        msgs.append(m)
    return encode_downlink({"hdr": d["hdr"], "msgs": msgs})


# ------------------------------------------------------------------------------------------
# Hex files and doc dumps
# ------------------------------------------------------------------------------------------

def to_hexfile(data):
    return "".join(" ".join(f"{b:02x}" for b in data[i:i + 16]) + "\n"
                   for i in range(0, len(data), 16))


def from_hexfile(text, where):
    data = bytes.fromhex(text.replace("\n", " "))
    if to_hexfile(data) != text:
        raise ValueError(f"{where}: not in the canonical format (lowercase, 16 bytes a line, "
                         "single spaces, trailing newline)")
    return data


def to_dump(data):
    return "".join(f"{i:04x}  " + " ".join(f"{b:02x}" for b in data[i:i + 16]) + "\n"
                   for i in range(0, len(data), 16))


NAMES = {
    "msg_type": {1: "fix batch", 2: "gateway status", 3: "gateway event"},
    "mac_alg": {1: "HMAC-SHA-256-128", 2: "SipHash-2-4"},
    "clock_sync": {0: "none", 1: "NTP", 2: "PTP"},
    "code": {1: "BOOT", 2: "ANTENNA_FAULT", 3: "CLOCK_STEP", 4: "OVERLOAD"},
    "severity": {0: "info", 1: "warning", 2: "error"},
    "channel_id": {0: "incremental", 1: "snapshot"},
    "template_id": {tid: lay.name for tid, lay in TEMPLATES.items()},
    "ROUND_STATE.state": {0: "IDLE", 1: "RUNNING", 2: "PAUSED", 3: "ENDED"},
    "CLUE_STATE.state": {0: "OPEN", 1: "CLAIMED", 2: "HIDDEN"},
    "END_OF_ROUND.reason": {0: "operator", 1: "all clues claimed", 2: "time limit"},
    "COMMAND_ECHO.command": {1: "round start", 2: "round pause", 3: "round resume",
                             4: "round end", 5: "load layout", 6: "roster add",
                             7: "roster remove"},
    "COMMAND_ECHO.status": {0: "applied"},
    "RETRANS_REFUSED.reason": {1: "TOO_OLD", 2: "TOO_MANY", 3: "RATE", 4: "SESSION",
                               5: "NOT_YET"},
}
BITS = {
    "up.flags": {0x0001: "CLOCK_UNSYNCED"},
    "dl.flags": {0x01: "RETRANSMIT", 0x02: "FEED_B"},
    "entries.status": {0x01: "ACTIVE", 0x02: "STALE", 0x04: "IMPLAUSIBLE", 0x08: "NO_Z"},
    "contenders.flags": {0x0001: "WINNER", 0x0002: "TIE"},
}


def _fmt(kind, path, val, width, tmpl):
    """A field value as the doc's annotation tables show it."""
    field = path.split(".")[-1]
    if field == "magic":
        return f"0x{val:04x} = \"{bytes([val & 0xFF, val >> 8]).decode()}\""
    if kind == "uplink" and field == "seq":
        return f"0x{val:016x} (epoch {val >> 32}, counter {val & 0xFFFFFFFF})"
    if field.endswith("_ns") and val >= BASE:
        d = val - BASE
        return f"{val} (BASE" + (f" + {d // 1_000_000} ms)" if d else ")")
    if field == "arg" and kind == "uplink":
        signed = val - (1 << 64) if val >> 63 else val
        return f"0x{val:016x} ({signed} as i64)"
    if field == "err_mm" and val == 0xFFFF:
        return "65535 (unknown)"
    if field == "session_id":
        return f"0x{val:08x}"
    if field == "tag_id":
        return f"0x{val:016x}"
    if field == "flags" and path.startswith("record"):
        tech = {0: "tech unknown", 1: "tech BLE AoA", 2: "tech UWB", 3: "tech 3?"}[val & 3]
        return f"0x{val:02x} ({tech}{', NO_Z' if val & 4 else ''})"
    bits = None
    if field == "flags" and "." not in path.replace("hdr.", ""):
        bits = BITS["up.flags" if kind == "uplink" else "dl.flags"]
    elif path.endswith(("entries." + field,)) or ".entries[" in path:
        bits = BITS.get("entries." + field)
    elif ".contenders[" in path:
        bits = BITS.get("contenders." + field)
    if bits is not None:
        names = [n for b, n in bits.items() if val & b]
        return f"0x{val:0{width * 2}x}" + (f" ({', '.join(names)})" if names else "")
    if field == "msg_count" and val in (0, 0xFFFF):
        return f"{val} ({'heartbeat' if val == 0 else 'end of session'})"
    names = NAMES.get(f"{tmpl}.{field}") or (NAMES.get(field) if field in (
        "msg_type", "mac_alg", "clock_sync", "code", "severity", "channel_id",
        "template_id") else None)
    if names and val in names:
        return f"{val} ({names[val]})"
    return str(val)


def annotate(name):
    """(bytes, markdown table naming every byte range of the vector)."""
    v = VECTORS[name]
    data = encode(v)
    spans = []
    d = decode(v["kind"], data, spans)
    spans.sort()
    tmpl_of, event_of = {}, {}
    for i, m in enumerate(d.get("msgs", [])):
        tmpl_of[f"msg[{i}]"] = m.get("template", "")
        if "event_seq" in m:
            event_of[f"msg[{i}]"] = m["event_seq"]
    rows = []
    for off, size, path, val in spans:
        msg = path.split(".")[0]
        leaf = path.split(".")[-1]
        if leaf.startswith("reserved") or val is None:
            label = path.rsplit(".", 1)[0] + "." + (leaf if val is None else "reserved") \
                if "." in path else "reserved"
            if leaf.startswith("("):
                label = path
            if rows and rows[-1][3] and rows[-1][2] == label and rows[-1][0] + rows[-1][1] == off:
                rows[-1][1] += size
                continue
            rows.append([off, size, label, True, "0"])
            continue
        sval = val if isinstance(val, str) else _fmt(v["kind"], path, val, size,
                                                     tmpl_of.get(msg, ""))
        if leaf == "template_id" and msg in event_of:
            sval += f"; event {event_of[msg]}"
        elif leaf == "template_id" and msg in tmpl_of:
            sval += "; not an event"
        rows.append([off, size, path, False, sval])
    lines = ["| bytes | field | value |", "|---|---|---|"]
    for off, size, label, _, sval in rows:
        rng = f"{off:04x}" if size == 1 else f"{off:04x}-{off + size - 1:04x}"
        lines.append(f"| {rng} | {label} | {sval} |")
    return data, "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------
# Self-tests: things the vectors alone would not catch
# ------------------------------------------------------------------------------------------

def selftest():
    errs = []

    def expect(cond, what):
        if not cond:
            errs.append(what)

    # SipHash-2-4 reference vectors (Aumasson & Bernstein): key 00..0f, message 00..n-1.
    expect(mac(MAC_SIPHASH24, SIP_KEY, b"").hex() == "310e0edd47db6f72", "siphash KAT len 0")
    expect(mac(MAC_SIPHASH24, SIP_KEY, bytes(range(15))).hex() == "e545be4961ca29a1",
           "siphash KAT len 15")
    # RFC 4231 test case 2, truncated to 128 bits.
    expect(hmac.new(b"Jefe", b"what do ya want for nothing?", hashlib.sha256).digest()[:16]
           .hex() == "5bdcc146bf60754e6a042426089575c7", "hmac-sha256 RFC 4231 case 2")

    keys = vector_keys()
    good = encode(VECTORS["up_fix_batch_hmac"])

    def reason(frame, **kw):
        try:
            receive_uplink(frame, keys, **kw)
            return None
        except WireError as e:
            return e.reason

    def patched(frame, off, fmt, val):
        b = bytearray(frame)
        struct.pack_into(fmt, b, off, val)
        return bytes(b)

    expect(reason(good[:31]) == "runt", "runt")
    expect(reason(patched(good, 0, "<H", 0x4647)) == "bad_magic", "bad_magic")
    expect(reason(patched(good, 2, "<B", 2)) == "bad_version", "bad_version")
    expect(reason(patched(good, 3, "<B", 4)) == "bad_msg_type", "bad_msg_type")
    expect(reason(patched(good, 29, "<B", 3)) == "bad_mac_alg", "bad_mac_alg")
    expect(reason(patched(good, 26, "<H", 24)) == "bad_record_len", "record_len below v1")
    expect(reason(patched(good, 26, "<H", 36)) == "bad_record_len", "record_len not 8n")
    expect(reason(good + b"\0") == "bad_length", "a byte too many")
    expect(reason(good[:-1]) == "bad_length", "a byte too few")
    expect(reason(patched(good, 4, "<I", 99)) == "unknown_gateway", "unknown_gateway")
    expect(reason(patched(good, 28, "<B", 9)) == "unknown_key", "unknown_key")
    expect(reason(patched(good, 29, "<B", 2)) in ("bad_length",), "alg switch changes length")
    b = bytearray(good)
    b[40] ^= 1
    expect(reason(bytes(b)) == "bad_mac", "flipped record bit")
    b = bytearray(good)
    b[-1] ^= 0x80
    expect(reason(bytes(b)) == "bad_mac", "flipped tag bit")
    expect(reason(good, now_ns=BASE + 2_000_000_001) == "clock_skew", "clock 2 s + 1 ns")
    expect(reason(good, now_ns=BASE - 2_000_000_000) is None, "clock exactly 2 s")

    # A keyed siphash frame presented under an hmac key id: key_alg_mismatch.
    sip = encode(VECTORS["up_fix_batch_siphash"])
    k2 = {8: {0: (MAC_HMAC_SHA256_128, HMAC_KEY)}}
    try:
        receive_uplink(sip, k2)
        expect(False, "key_alg_mismatch")
    except WireError as e:
        expect(e.reason == "key_alg_mismatch", "key_alg_mismatch")

    # A status frame with two records, an event frame with none.
    st = VECTORS["up_gateway_status"]
    two = encode_uplink(dict(st, records=st["records"] * 2))
    expect(reason(two) == "bad_record_count", "status with 2 records")
    ev = VECTORS["up_gateway_event"]
    expect(reason(encode_uplink(dict(ev, records=[]))) == "bad_record_count", "event with 0")
    # An empty fix batch is a valid keepalive.
    fb = VECTORS["up_fix_batch_hmac"]
    expect(reason(encode_uplink(dict(fb, records=[]))) is None, "empty fix batch")
    # A longer record (v2) is read by its v1 prefix.
    v2 = dict(fb, hdr=dict(fb["hdr"], record_len=40))
    d = receive_uplink(encode_uplink(v2), keys)
    expect(d["records"] == [R0, R1], "record_len 40 read by prefix")

    # Replay window.
    w = {}

    def rx(seq):
        f = encode_uplink(dict(fb, hdr=dict(fb["hdr"], seq=seq)))
        try:
            receive_uplink(f, keys, windows=w)
            return "ok"
        except WireError as e:
            return e.reason

    expect(rx(5000) == "ok", "first frame any seq")
    expect(rx(5000) == "replay_dup", "same seq twice")
    expect(rx(4000) == "ok", "inside the window")
    expect(rx(3977) == "ok", "top - 1023")
    expect(rx(3976) == "replay_old", "top - 1024")
    expect(rx(3977) == "replay_dup", "top - 1023 twice")
    expect(rx(6000) == "ok", "slide by 1000")
    expect(rx(5000) == "replay_dup", "still in the window after a slide")
    expect(rx(4977) == "ok", "new bottom after a slide")
    expect(rx(4976) == "replay_old", "below the new bottom")
    expect(rx(9000) == "ok", "jump of 3000 clears")
    expect(rx(7977) == "ok", "cleared window accepts top-1023")
    expect(rx(7976) == "replay_old", "cleared window bottom")
    bad = bytearray(encode_uplink(dict(fb, hdr=dict(fb["hdr"], seq=20000))))
    bad[-1] ^= 1
    try:
        receive_uplink(bytes(bad), keys, windows=w)
    except WireError:
        pass
    expect(w[7].top == 9000, "a frame failing its MAC does not move the window")
    expect(rx(20000) == "ok", "the genuine frame is then accepted")

    # Downlink structure.
    pk = encode(VECTORS["dl_positions"])

    def dl_reason(p):
        try:
            decode_downlink(p)
            return None
        except WireError as e:
            return e.reason

    expect(dl_reason(pk + bytes(8)) == "bad_packet", "trailing bytes")
    expect(dl_reason(patched(pk, 40, "<H", 20)) == "bad_message", "length not 8n")
    # Unknown template skipped by its length; its event seq still counts.
    unk = bytearray(DL_HDR_LEN)
    DL_HDR.pack_into(unk, 0, dict(magic=DL_MAGIC, version=1, flags=0, session_id=SESSION,
                                  packet_seq=9, send_time_ns=BASE, first_event_seq=10, tick=9,
                                  msg_count=2, event_count=2, channel_id=0))
    unk += struct.pack("<HBB", 16, 200, 1) + bytes(12)
    unk += encode_message(dict(template="END_OF_ROUND", round_id=2, reason=0))
    d = decode_downlink(bytes(unk))
    expect(d["msgs"][0]["template_id"] == 200 and d["msgs"][1]["event_seq"] == 11,
           "unknown template skipped, numbering kept")
    # A longer known message (a future version) is read by its known prefix.
    msg = bytearray(encode_message(dict(ECHO_START, version=2)) + bytes(8))
    struct.pack_into("<H", msg, 0, len(msg))
    hdr = bytearray(unk[:DL_HDR_LEN])
    struct.pack_into("<HB", hdr, 36, 1, 1)
    d = decode_downlink(bytes(hdr + msg))
    expect(d["msgs"][0]["cmd_seq"] == 5 and d["msgs"][0]["version"] == 2, "longer known message")
    return errs


# ------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------

def cmd_write(dirpath):
    os.makedirs(dirpath, exist_ok=True)
    for name, v in VECTORS.items():
        data = encode(v)
        with open(os.path.join(dirpath, name + ".hex"), "w") as f:
            f.write(to_hexfile(data))
        print(f"wrote {name}.hex ({len(data)} bytes)")
    return 0


def compare(a, b, path=""):
    """Differences between two nested dict/list structures, as strings."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}{k}: {'missing in decode' if k not in b else 'unexpected'}")
            else:
                out += compare(a[k], b[k], f"{path}{k}.")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items expected, {len(b)} decoded"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in compare(x, y, f"{path}{i}.")]
    return [] if a == b else [f"{path.rstrip('.')}: expected {a!r}, decoded {b!r}"]


def cmd_check(dirpath):
    bad = 0
    for name, v in VECTORS.items():
        path = os.path.join(dirpath, name + ".hex")
        problems = []
        try:
            with open(path) as f:
                data = from_hexfile(f.read(), path)
        except (OSError, ValueError) as e:
            print(f"FAIL {name}: {e}")
            bad += 1
            continue
        enc = encode(v)
        if enc != data:
            problems.append("re-encoding differs from the file")
        if len(data) != EXPECTED_LEN[name]:
            problems.append(f"{len(data)} bytes, expected {EXPECTED_LEN[name]}")
        try:
            d = decode(v["kind"], data)
            d.pop("tag", None)
            problems += compare(expected_fields(v), d)
            if reencode(v["kind"], d, v) != data:
                problems.append("encoding the decoded fields differs from the file")
        except WireError as e:
            problems.append(f"decode rejected the file: {e}")
        if problems:
            bad += 1
            print(f"FAIL {name}: " + "; ".join(problems))
        else:
            extra = " (MAC ok)" if v["kind"] == "uplink" else ""
            print(f"ok   {name} ({len(data)} bytes){extra}")
    known = {n + ".hex" for n in VECTORS}
    for fn in sorted(os.listdir(dirpath)):
        if fn.endswith(".hex") and fn not in known:
            print(f"FAIL {fn}: not a known vector")
            bad += 1
    errs = selftest()
    for e in errs:
        print(f"FAIL selftest: {e}")
    if not errs:
        print("ok   selftest (MAC known answers, receive order, replay window, message rules)")
    total = len(VECTORS) + 1
    failed = bad + (1 if errs else 0)
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


DOC_VECTOR = re.compile(r"^<!-- vector: ([A-Za-z0-9_]+) -->\s*$")
DUMP_LINE = re.compile(r"^([0-9a-f]{4})  ([0-9a-f]{2}(?: [0-9a-f]{2}){0,15})$")


def parse_doc(text, where):
    """{NAME: bytes} for every marked dump; raises ValueError on a malformed one."""
    lines = text.split("\n")
    found = {}
    i = 0
    while i < len(lines):
        m = DOC_VECTOR.match(lines[i])
        if not m:
            i += 1
            continue
        name, at = m.group(1), i + 1
        if name in found:
            raise ValueError(f"{where}:{at}: vector {name} appears twice")
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines) or not lines[i].startswith("```"):
            raise ValueError(f"{where}:{at}: vector {name} is not followed by a fenced block")
        i += 1
        data = bytearray()
        while i < len(lines) and not lines[i].startswith("```"):
            dm = DUMP_LINE.match(lines[i])
            if not dm:
                raise ValueError(f"{where}:{i + 1}: not a dump line: {lines[i]!r}")
            if int(dm.group(1), 16) != len(data):
                raise ValueError(f"{where}:{i + 1}: offset {dm.group(1)}, expected "
                                 f"{len(data):04x}")
            row = bytes.fromhex(dm.group(2))
            if len(row) != 16 and i + 1 < len(lines) and not lines[i + 1].startswith("```"):
                raise ValueError(f"{where}:{i + 1}: short line before the end of the dump")
            data += row
            i += 1
        if i >= len(lines):
            raise ValueError(f"{where}:{at}: unterminated block for {name}")
        found[name] = bytes(data)
        i += 1
    return found


# Which layout each field table of the doc describes: (heading words, caption words) -> layout.
DOC_TABLES = [
    ("3.2 Header", "", UP_HDR),
    ("Fix record", "", UP_FIX),
    ("Gateway status record", "", UP_STATUS),
    ("Gateway event record", "", UP_EVENT),
    ("4.2 Packet header", "", DL_HDR),
    ("4.3 Messages", "", MSG_HDR),
    ("POSITIONS (template 1)", "Position entry", POSITION),
    ("POSITIONS (template 1)", "", TEMPLATES[T_POSITIONS]),
    ("CLUE_CLAIMED (template 2)", "Contender entry", CONTENDER),
    ("CLUE_CLAIMED (template 2)", "", TEMPLATES[T_CLUE_CLAIMED]),
    ("SCORE (template 3)", "", TEMPLATES[T_SCORE]),
    ("ROUND_STATE (template 4)", "", TEMPLATES[T_ROUND_STATE]),
    ("SNAPSHOT_PART (template 5)", "", TEMPLATES[T_SNAPSHOT_PART]),
    ("CLUE_STATE (template 6)", "", TEMPLATES[T_CLUE_STATE]),
    ("END_OF_ROUND (template 7)", "", TEMPLATES[T_END_OF_ROUND]),
    ("COMMAND_ECHO (template 8)", "", TEMPLATES[T_COMMAND_ECHO]),
    ("RETRANS_REFUSED (template 9)", "", TEMPLATES[T_RETRANS_REFUSED]),
    ("6.1 Request", "", RT_REQUEST),
]


def check_doc_tables(text, where):
    """Compare every `| offset | size | type | name |` table of the doc with the layouts
    above: same offsets, sizes, types and names, every byte described. Returns problems."""
    problems, seen = [], set()
    heading, caption, lines, i = "", "", text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading, caption = line.lstrip("# "), ""
        elif line.startswith("| offset | size | type | name |"):
            lay = next((lay for h, c, lay in DOC_TABLES
                        if heading.startswith(h) and c == caption[:len(c)] and
                        (c or not caption.startswith(("Position entry", "Contender entry")))),
                       None)
            start = i + 1
            i += 2
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append((i + 1, [c.strip() for c in lines[i].strip("|").split("|")]))
                i += 1
            if lay is None:
                problems.append(f"{where}:{start}: a field table under '{heading}' "
                                "matches no layout")
                continue
            seen.add(id(lay))
            problems += _check_table(lay, rows, where)
            continue
        elif line.strip() and not line.startswith(("|", "`")):
            caption = line.strip()
        i += 1
    for h, c, lay in DOC_TABLES:
        if id(lay) not in seen:
            problems.append(f"{where}: no field table for {lay.name}")
    return problems


def _check_table(lay, rows, where):
    problems, covered = [], set()
    fields = {off: (typ, name) for off, typ, name in lay.fields}
    for lineno, cells in rows:
        off, size, typ, name = cells[0], cells[1], cells[2].strip("`"), cells[3].strip("`")
        if not (off.isdigit() and size.isdigit()):
            continue  # a variable part (entries): described in the text
        off, size = int(off), int(size)
        if lay.start == 4 and off == 0 and name == "header":
            covered.update(range(0, 4))
            continue
        if typ in TYPES:
            want = fields.get(off)
            if want is None or want[0] != typ or struct.calcsize(TYPES[typ]) != size or \
               (want[1] != name and not (name == "reserved" and want[1].startswith("reserved"))):
                problems.append(f"{where}:{lineno}: {lay.name}: row '{off} {size} {typ} {name}' "
                                f"but the layout has {want}")
        elif name != "reserved":
            problems.append(f"{where}:{lineno}: {lay.name}: row without a type: {name}")
        covered.update(range(off, off + size))
    missing = sorted(set(range(lay.size)) - covered)
    if missing:
        problems.append(f"{where}: {lay.name}: bytes {missing[0]}..{missing[-1]} not in its table")
    return problems


def cmd_doc(docpath, dirpath):
    try:
        with open(docpath) as f:
            found = parse_doc(f.read(), docpath)
    except (OSError, ValueError) as e:
        print(f"FAIL {e}")
        print("0 passed, 1 failed")
        return 1
    names = set(VECTORS)
    names |= {fn[:-4] for fn in os.listdir(dirpath) if fn.endswith(".hex")}
    bad = 0
    with open(docpath) as f:
        table_problems = check_doc_tables(f.read(), docpath)
    for p in table_problems:
        print(f"FAIL {p}")
    if not table_problems:
        print(f"ok   field tables ({len(DOC_TABLES)} layouts: offsets, sizes, types, names)")
    for name in sorted(names):
        path = os.path.join(dirpath, name + ".hex")
        if name not in found:
            print(f"FAIL {name}: not in {docpath}")
            bad += 1
            continue
        try:
            with open(path) as f:
                data = from_hexfile(f.read(), path)
        except (OSError, ValueError) as e:
            print(f"FAIL {name}: {e}")
            bad += 1
            continue
        if found[name] != data:
            print(f"FAIL {name}: the doc's dump differs from {path}")
            bad += 1
        else:
            print(f"ok   {name} ({len(data)} bytes)")
    for name in sorted(set(found) - names):
        print(f"FAIL {name}: in the doc but not a vector")
        bad += 1
    failed = bad + (1 if table_problems else 0)
    total = len(names) + 1
    print(f"{max(total - failed, 0)} passed, {failed} failed")
    return 1 if failed else 0


def cmd_dump(names):
    for name in names or VECTORS:
        if name not in VECTORS:
            print(f"unknown vector {name}", file=sys.stderr)
            return 2
        data, table = annotate(name)
        print(f"<!-- vector: {name} -->\n```\n{to_dump(data)}```\n\n{table}")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "write" and len(argv) == 2:
        return cmd_write(argv[1])
    if len(argv) == 2 and argv[0] == "check":
        return cmd_check(argv[1])
    if len(argv) == 3 and argv[0] == "doc":
        return cmd_doc(argv[1], argv[2])
    if argv and argv[0] == "dump":
        return cmd_dump(argv[1:])
    print(__doc__.split("\n\n")[2], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
