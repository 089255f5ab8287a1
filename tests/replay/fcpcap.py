#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Minimal pcap I/O and hand-built Ethernet/IPv4/UDP frames for floorcast's replay tests.

Classic pcap only (no pcapng): magic a1b2c3d4 (microsecond timestamps) or a1b23c4d
(nanosecond), linktype 1 (Ethernet). Files are written little-endian; the reader also takes
big-endian ones. Timestamps are nanoseconds since the Unix epoch on both sides.

Frames are built by hand, byte by byte, so that the tests control every field (DF, TTL, the
checksums, an 802.1Q tag) and so that a bad frame is as easy to make as a good one.
parse_udp_frame() classifies a received frame with the same reasons and in the same order as
floord's RX (lib/pkt/pkt.c: the net.* drop counters), so a test can tell which counter a
frame should land in.

Standard library only.
"""

import ipaddress
import struct

LINKTYPE_ETHERNET = 1
MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D

ETH_P_IPV4 = 0x0800
ETH_P_ARP = 0x0806
ETH_P_VLAN = 0x8100
ETH_P_IPV6 = 0x86DD

IPPROTO_ICMP = 1
IPPROTO_UDP = 17

IP_DF = 0x4000
IP_MF = 0x2000
IP_OFFSET_MASK = 0x1FFF


# ------------------------------------------------------------------------------------------
# pcap files
# ------------------------------------------------------------------------------------------

class PcapWriter:
    """Writes a classic little-endian pcap. nanosecond=False gives a microsecond file, in
    which every timestamp must be a whole microsecond (a ValueError otherwise: silently
    truncating would make two captures that differ only in sub-µs times look equal)."""

    def __init__(self, f, nanosecond=False, snaplen=65535, linktype=LINKTYPE_ETHERNET):
        self.f = f
        self.nanosecond = nanosecond
        self.snaplen = snaplen
        f.write(struct.pack("<IHHiIII", MAGIC_NS if nanosecond else MAGIC_US, 2, 4, 0, 0,
                            snaplen, linktype))

    def write(self, ts_ns, data):
        sec, frac = divmod(ts_ns, 1_000_000_000)
        if not self.nanosecond:
            if frac % 1000:
                raise ValueError(f"timestamp {ts_ns} ns is not a whole microsecond")
            frac //= 1000
        if len(data) > self.snaplen:
            raise ValueError(f"frame of {len(data)} bytes exceeds snaplen {self.snaplen}")
        self.f.write(struct.pack("<IIII", sec, frac, len(data), len(data)))
        self.f.write(data)


def write_pcap(path, frames, nanosecond=False):
    """frames: iterable of (ts_ns, bytes). Returns the number of frames written."""
    n = 0
    with open(path, "wb") as f:
        w = PcapWriter(f, nanosecond=nanosecond)
        for ts, data in frames:
            w.write(ts, data)
            n += 1
    return n


class PcapReader:
    """Iterates (ts_ns, bytes) over a classic pcap file of either precision and byte order.
    .nanosecond and .linktype describe the file."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        if len(self.data) < 24:
            raise ValueError(f"{path}: too short for a pcap header")
        for endian in "<>":
            (magic,) = struct.unpack_from(endian + "I", self.data, 0)
            if magic in (MAGIC_US, MAGIC_NS):
                break
        else:
            raise ValueError(f"{path}: not a classic pcap file (magic {self.data[:4].hex()})")
        self.endian = endian
        self.nanosecond = magic == MAGIC_NS
        _, _, _, _, self.snaplen, self.linktype = struct.unpack_from(endian + "HHiIII",
                                                                     self.data, 4)

    def __iter__(self):
        off, n, scale = 24, len(self.data), 1 if self.nanosecond else 1000
        rec = self.endian + "IIII"
        while off < n:
            if off + 16 > n:
                raise ValueError(f"{self.path}: truncated record header at byte {off}")
            sec, frac, incl, _orig = struct.unpack_from(rec, self.data, off)
            off += 16
            if off + incl > n:
                raise ValueError(f"{self.path}: truncated record at byte {off}")
            yield sec * 1_000_000_000 + frac * scale, self.data[off:off + incl]
            off += incl


def read_pcap(path):
    """A list of (ts_ns, bytes); raises ValueError if the file is not Ethernet pcap."""
    r = PcapReader(path)
    if r.linktype != LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: linktype {r.linktype}, expected 1 (Ethernet)")
    return list(r)


# ------------------------------------------------------------------------------------------
# Addresses and checksums
# ------------------------------------------------------------------------------------------

def ip4(addr):
    """'198.18.0.1' (or an int) -> 4 bytes."""
    return ipaddress.IPv4Address(addr).packed


def mac_bytes(mac):
    """'02:00:00:00:01:07' (or 6 bytes) -> 6 bytes."""
    if isinstance(mac, (bytes, bytearray)):
        return bytes(mac)
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def mcast_mac(group):
    """The Ethernet address of an IPv4 multicast group: 01:00:5e + its low 23 bits
    (RFC 1112)."""
    g = ip4(group)
    return bytes([0x01, 0x00, 0x5E, g[1] & 0x7F, g[2], g[3]])


def inet_checksum(data):
    """The Internet checksum (RFC 1071): one's complement of the one's-complement sum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_checksum(src, dst, udp):
    """The UDP checksum over the IPv4 pseudo-header and the UDP header+payload (with its
    checksum field zero). 0 is sent as 0xFFFF, since 0 means "no checksum"."""
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, IPPROTO_UDP, len(udp))
    c = inet_checksum(pseudo + udp)
    return c or 0xFFFF


# ------------------------------------------------------------------------------------------
# Building frames
# ------------------------------------------------------------------------------------------

def build_ethernet(dst_mac, src_mac, ethertype, payload, vlan=None):
    """Ethernet II header (+ an optional 802.1Q tag, vlan = VLAN id, priority 0)."""
    hdr = mac_bytes(dst_mac) + mac_bytes(src_mac)
    if vlan is not None:
        hdr += struct.pack("!HH", ETH_P_VLAN, vlan & 0x0FFF)
    return hdr + struct.pack("!H", ethertype) + payload


def build_ipv4(src, dst, proto, payload, ttl=64, ident=0, df=True, mf=False, frag_offset=0,
               bad_checksum=False):
    """A 20-byte IPv4 header (no options) with a correct header checksum, and its payload.
    frag_offset is in 8-byte units, as on the wire."""
    flags = (IP_DF if df else 0) | (IP_MF if mf else 0) | (frag_offset & IP_OFFSET_MASK)
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags,
                                ttl, proto, 0, ip4(src), ip4(dst)))
    csum = inet_checksum(bytes(hdr))
    if bad_checksum:
        csum ^= 0x0101
    struct.pack_into("!H", hdr, 10, csum)
    return bytes(hdr) + payload


def build_udp(src, dst, sport, dport, payload, checksum=True):
    """A UDP header and payload; checksum=False sends 0 (no checksum, allowed over IPv4)."""
    udp = bytearray(struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)
    if checksum:
        struct.pack_into("!H", udp, 6, udp_checksum(src, dst, bytes(udp)))
    return bytes(udp)


def build_udp_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload, vlan=None,
                    ttl=64, ident=0, df=True, udp_checksum=True):
    """A complete Ethernet/IPv4/UDP frame: IPv4 header checksum correct, UDP checksum correct
    (or 0 with udp_checksum=False), DF set unless df=False."""
    udp = build_udp(src_ip, dst_ip, sport, dport, payload, checksum=udp_checksum)
    ip = build_ipv4(src_ip, dst_ip, IPPROTO_UDP, udp, ttl=ttl, ident=ident, df=df)
    return build_ethernet(dst_mac, src_mac, ETH_P_IPV4, ip, vlan=vlan)


# ------------------------------------------------------------------------------------------
# Parsing frames
# ------------------------------------------------------------------------------------------

def parse_udp_frame(frame):
    """Parses Ethernet (one optional 802.1Q tag) / IPv4 / UDP.

    Returns (info, None) for an unfragmented IPv4/UDP datagram, where info is a dict:
    src_mac, dst_mac, vlan (None if untagged), src_ip, dst_ip (dotted strings), ttl, df, ident,
    ip_checksum_ok, src_port, dst_port, udp_checksum (the field), udp_checksum_ok (None when
    the field is 0: no checksum), payload (bytes).

    Returns (None, reason) otherwise, with floord's net.* drop reason (lib/pkt/pkt.c), checked
    in the same order: runt, arp, ipv6, other_l2, bad_ipv4 (version, header length, total
    length or header checksum), fragment, not_udp, bad_udp. wrong_dst and wrong_port depend
    on floord's configuration: compare info's dst_ip / dst_port yourself.
    """
    n = len(frame)
    if n < 14:
        return None, "runt"
    info = {"dst_mac": mac_str(frame[0:6]), "src_mac": mac_str(frame[6:12]), "vlan": None}
    (etype,) = struct.unpack_from("!H", frame, 12)
    off = 14
    if etype == ETH_P_VLAN:
        if n < off + 4:
            return None, "runt"
        tci, etype = struct.unpack_from("!HH", frame, off)
        info["vlan"] = tci & 0x0FFF
        off += 4
    if etype == ETH_P_ARP:
        return None, "arp"
    if etype == ETH_P_IPV6:
        return None, "ipv6"
    if etype != ETH_P_IPV4:
        return None, "other_l2"  # includes a second (QinQ) tag
    if n < off + 20:
        return None, "runt"
    vihl, _tos, tot_len, ident, flags, ttl, proto = struct.unpack_from("!BBHHHBB", frame, off)
    ihl = (vihl & 0x0F) * 4
    if vihl >> 4 != 4 or ihl < 20 or tot_len < ihl:
        return None, "bad_ipv4"
    if n < off + tot_len:
        return None, "runt"  # Ethernet padding may add bytes, never remove them
    ip_ok = inet_checksum(frame[off:off + ihl]) == 0
    if not ip_ok:
        return None, "bad_ipv4"
    if flags & (IP_MF | IP_OFFSET_MASK):
        return None, "fragment"
    if proto != IPPROTO_UDP:
        return None, "not_udp"
    if tot_len < ihl + 8:
        return None, "bad_udp"
    src, dst = frame[off + 12:off + 16], frame[off + 16:off + 20]
    u = off + ihl
    sport, dport, ulen, ucsum = struct.unpack_from("!HHHH", frame, u)
    if ulen < 8 or ulen != tot_len - ihl:
        return None, "bad_udp"
    udp = bytearray(frame[u:u + ulen])
    if ucsum == 0:
        udp_ok = None
    else:
        struct.pack_into("!H", udp, 6, 0)
        udp_ok = udp_checksum(src, dst, bytes(udp)) == ucsum
    info.update(src_ip=str(ipaddress.IPv4Address(src)), dst_ip=str(ipaddress.IPv4Address(dst)),
                ttl=ttl, df=bool(flags & IP_DF), ident=ident, ip_checksum_ok=ip_ok,
                src_port=sport, dst_port=dport, udp_checksum=ucsum, udp_checksum_ok=udp_ok,
                payload=bytes(frame[u + 8:u + ulen]))
    return info, None


def classify(frame, dst_port, local_ip=None):
    """floord's verdict on a received frame: None (a datagram for the uplink) or the net.*
    reason, wrong_dst (only when local_ip is given) and wrong_port included."""
    info, why = parse_udp_frame(frame)
    if why:
        return why
    if local_ip is not None and info["dst_ip"] != str(ipaddress.IPv4Address(local_ip)):
        return "wrong_dst"
    if info["dst_port"] != dst_port:
        return "wrong_port"
    return None
