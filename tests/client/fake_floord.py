#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A fake floord for the subscriber's live tests: replays the downlink datagrams of a capture
floord wrote over UDP to one address (unicast: no multicast route needed), dropping the ones a
test names, and plays floord's retransmit service (docs/protocol.md §6) from the events of the
whole capture, dropped ones included: a reply carries them byte for byte, or a refusal.

  FakeFloord(capture, dest, drop=set(), refuse=None).start() ... .play() ... .stop()

`drop`: indexes into .packets (the capture's UDP payloads, in order) never sent. `refuse`: a
refusal reason (1 TOO_OLD, ...) sent for every request instead of the events. The counters
(.requests, .replies, .refusals) say what the subscriber asked. Standard library only.
"""

import os
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "replay"))

import fcpcap  # noqa: E402

HDR = struct.Struct("<HBBIQQQIHBB")  # §4.2, 40 bytes
REQ = struct.Struct("<HBBIQHHI")     # §6.1, 24 bytes
REFUSED = struct.Struct("<HBBHHQQQ")  # RETRANS_REFUSED, 32 bytes
MAX_PAYLOAD = 1400
F_RETRANSMIT = 0x01
END_OF_SESSION = 0xFFFF


def header(pkt):
    (magic, version, flags, session, packet_seq, send_ns, first_event, tick, msg_count,
     event_count, channel) = HDR.unpack_from(pkt)
    return {"magic": magic, "flags": flags, "session_id": session, "packet_seq": packet_seq,
            "send_time_ns": send_ns, "first_event_seq": first_event, "tick": tick,
            "msg_count": msg_count, "event_count": event_count, "channel_id": channel}


def messages(pkt):
    """[(template_id, bytes)] of a well-formed packet."""
    h = header(pkt)
    out, off = [], HDR.size
    n = 0 if h["msg_count"] == END_OF_SESSION else h["msg_count"]
    for _ in range(n):
        length = struct.unpack_from("<H", pkt, off)[0]
        out.append((pkt[off + 2], pkt[off:off + length]))
        off += length
    return out


def load(capture):
    """The capture's UDP payloads, in order."""
    out = []
    for _ts, frame in fcpcap.PcapReader(capture):
        info, why = fcpcap.parse_udp_frame(frame)
        if not why:
            out.append(info["payload"])
    return out


class FakeFloord:
    def __init__(self, capture, dest, drop=(), refuse=None, pace_s=0.002):
        self.packets = load(capture)
        self.dest = dest
        self.drop = set(drop)
        self.refuse = refuse
        self.pace_s = pace_s
        self.events = {}  # event_seq -> the message's bytes, as first sent
        self.session = None
        self.tick = 0
        self.next_event = 1
        for p in self.packets:
            h = header(p)
            self.session = h["session_id"]
            if h["channel_id"] == 0:
                for i, (_t, m) in enumerate(messages(p)[:h["event_count"]]):
                    self.events[h["first_event_seq"] + i] = m
        self.next_event = 1  # as of the packets played so far: what a refusal announces
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rt = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rt.bind(("127.0.0.1", 0))
        self.rt.settimeout(0.05)
        self.rt_port = self.rt.getsockname()[1]
        self.requests, self.replies, self.refusals = [], 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    # -- what a test looks for -------------------------------------------------------------

    def indexes(self, pred):
        """Indexes of the packets whose (header, [(template_id, bytes)]) pred accepts."""
        return [i for i, p in enumerate(self.packets) if pred(header(p), messages(p))]

    # -- the multicast side ----------------------------------------------------------------

    def play(self):
        last_tick = None
        for i, p in enumerate(self.packets):
            h = header(p)
            if last_tick is not None and h["tick"] != last_tick:
                time.sleep(self.pace_s)  # a tick's packets together, as floord sends them
            last_tick = h["tick"]
            self.tick = h["tick"]
            self.next_event = max(self.next_event, h["first_event_seq"] + h["event_count"])
            if i not in self.drop:
                self.out.sendto(p, self.dest)

    # -- the retransmit service --------------------------------------------------------------

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.out.close()
        self.rt.close()

    def _hdr(self, first, n_msgs, n_events):
        return HDR.pack(0x4446, 1, F_RETRANSMIT, self.session, 0, time.time_ns(), first,
                        self.tick, n_msgs, n_events, 0)

    def _serve(self):
        while not self._stop.is_set():
            try:
                req, src = self.rt.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(req) < REQ.size:
                continue
            magic, version, _r0, session, first, count, _r1, _r2 = REQ.unpack_from(req)
            if magic != 0x5246 or version != 1 or count == 0:
                continue
            self.requests.append((first, count))
            if self.refuse is not None:
                body = REFUSED.pack(32, 9, 1, self.refuse, count, first, 1, self.next_event)
                self.rt.sendto(self._hdr(self.next_event, 1, 0) + body, src)
                self.refusals += 1
                continue
            # the events in order, in as many packets as needed (§6.2)
            seq, end = first, first + count
            while seq < end:
                body, n = b"", 0
                while (seq + n < end and n < 255 and seq + n in self.events and
                       40 + len(body) + len(self.events[seq + n]) <= MAX_PAYLOAD):
                    body += self.events[seq + n]
                    n += 1
                if n == 0:
                    break  # not in the capture: the subscriber's retries will time out
                self.rt.sendto(self._hdr(seq, n, n) + body, src)
                self.replies += 1
                seq += n
