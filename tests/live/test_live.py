#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""floorcast live test: floord on a veth through net_af_packet, gateways and a console in
network namespaces, real time (DESIGN.md section 7, "Live on one machine").

  test_live.py --floord PATH --source-root DIR [--seconds S] [--keep]

Topology (all of it created here and removed at the end, also on failure; PID = this
process's id, so that two runs cannot collide):

  fclive-PID-floord  fcPIDf, no IP: floord's port (net_af_packet) -- veth --+
  fclive-PID-gw      fcPIDg 198.18.0.2/24: the sender, 2 gateways -- veth --+-- fclive-PID-sw:
  fclive-PID-con     fcPIDc 198.18.0.3/24: the receiver, a console - veth --+   the bridge fcPIDbr
                                                                   (mcast_snooping 0: floods)

floord's port sits in a namespace of its own rather than in the root namespace: net_af_packet
(DPDK 22.11) names its PACKET_FANOUT group (getpid() ^ ifindex) & 0xffff, and fanout groups are
per network namespace, so two AF_PACKET DPDK processes in one namespace (two runs of this test,
or this test and another suite) can pick the same group for different interfaces and the
second fails to start ("could not set PACKET_FANOUT ... Invalid argument"). It also keeps the
root namespace's kernel from ever seeing the test's frames.

floord's local_ip is 198.18.0.1: it answers no ARP, so the gateways' namespace holds a permanent
neighbour entry for it with the MAC of fcPIDf. IPv6 is off in every namespace, nothing forwards,
there are no default routes, and the downlink's TTL is 1: nothing leaves the namespaces. Steps:

 1. write a floor file, a roster of 10 players, a keys file for 2 gateways (HMAC) and a copy of
    drivers-cfg/net_af_packet.ini naming the veth, into a temporary directory;
 2. start the receiver (consoles namespace: joins 239.192.0.1 on 198.18.0.3, decodes every
    datagram with tests/wire/ref_codec.py), then floord live, and wait for its first packet;
 3. run the sender (gateways namespace): 20 fix batches a second for 3 s from each of 2
    gateways (both hear every player: the same fix twice, which floord must collapse), plus
    hostile frames whose drops the report must count under their reasons;
 4. SIGINT floord: it must drain, send the end of session on both channels, repeat it while it
    lingers (the same bytes, FC_TX_EOS_REPEATS times, FC_TX_EOS_REPEAT_MS apart: lib/tx/fc_tx.h)
    and exit 0;
 5. check floord's JSON report against what was sent, and the downlink against the protocol
    (contiguous packet_seq, consecutive ticks, 50 ms send times, snapshots consistent with the
    incremental channel, final positions within the dead band of the last fixes, the end of
    session's copies byte for byte and spaced as lib/tx/fc_tx.h says).

Exit 0 when every check passes, 1 on a failure (each failed check is printed), 77 (meson's
skip) when not root or when network namespaces are not available.

The same file is the sender and the receiver (--role), run with `ip netns exec`.
"""

import argparse
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP, FAIL = 77, 1

# Addresses: 198.18.0.0/15 only (RFC 2544 benchmarking), multicast kept in the namespaces.
FLOORD_IP, GW_IP, CON_IP, PREFIX_LEN = "198.18.0.1", "198.18.0.2", "198.18.0.3", 24
GROUP, DL_PORT, DL_SRC_PORT, UP_PORT = "239.192.0.1", 47480, 47481, 47474
TICK_MS, DEAD_BAND_MM = 50, 50
TICK_NS = TICK_MS * 1_000_000

PLAYERS = 10
TAG_BASE = 0x0000A4C1FC000000  # player p wears tag TAG_BASE + p
UNKNOWN_TAG = 0x0000DEADBEEF0001  # in no roster
GATEWAYS = (1, 2)
UNKNOWN_GATEWAY = 99
KEY_ID = 1
EPOCH = 1
HZ = 20
HOSTILE_ROUND = 30  # the hostile frames go out just before this round's genuine frames
REPLAYED_ROUND = 10  # whose genuine frames are replayed byte for byte

# The receiver listens this long after the first end of session: floord lingers 1 s after it,
# repeating it (lib/tx/fc_tx.h, FC_TX_EOS_REPEATS and FC_TX_EOS_REPEAT_MS, read by eos_repeats()).
EOS_LISTEN_S = 1.5

# The whole test, set-up and tear-down included, stays under 60 s: every wait is bounded by
# what is left of TIME_BUDGET_S, less TEARDOWN_S kept for the tear-down.
TIME_BUDGET_S, TEARDOWN_S = 50, 8


def gw_key(gw):
    """Test keys derived from a public string: for this test only."""
    return hashlib.sha256(f"floorcast live test key, gateway {gw}".encode()).digest()


def player_pos(p, k):
    """Player p's position in round k (mm): walks along x at (p + 1) cm per round, on its own
    line y. x and y stay multiples of 10 mm, so the downlink's cm are exact."""
    return 1000 + k * (p + 1) * 10, 1000 + 800 * p, 1200


def load_codec(source_root):
    sys.path.insert(0, os.path.join(source_root, "tests", "wire"))
    import ref_codec  # noqa: E402 (needs the path above)

    return ref_codec


def log(msg):
    print(msg, flush=True)


# ------------------------------------------------------------------------------------------
# Sender role (gateways namespace)
# ------------------------------------------------------------------------------------------

def role_sender(a):
    rc = load_codec(a.source_root)
    keys = {gw: gw_key(gw) for gw in GATEWAYS}
    counter = {gw: 0 for gw in GATEWAYS}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((GW_IP, 0))
    dst = (FLOORD_IP, UP_PORT)
    rounds = int(a.seconds * HZ)
    period = 1.0 / HZ
    saved = {}  # (gw, round) -> bytes of the genuine frame
    hostile = []  # (what, expected drop counter)
    genuine_frames = fixes = 0

    def fix_batch(gw, base_ns, records, seq=None, gateway_id=None, key=None):
        hdr = dict(msg_type=1, gateway_id=gateway_id if gateway_id is not None else gw,
                   seq=seq if seq is not None else (EPOCH << 32) | counter[gw],
                   base_time_ns=base_ns, key_id=KEY_ID, mac_alg=1, flags=0)
        return rc.encode_uplink({"hdr": hdr, "records": records, "key": key or keys[gw]})

    def records_of(k, gw):
        out = []
        for p in range(PLAYERS):
            x, y, z = player_pos(p, k)
            # Both gateways hear the same fix (same fix_seq and position); gateway 2's clock
            # puts it 100 us later. floord applies it once and counts the other a duplicate.
            out.append(dict(tag_id=TAG_BASE + p, x_mm=x, y_mm=y, z_mm=z,
                            dt_us=0 if gw == 1 else 100, err_mm=100, quality=80, flags=0x01,
                            fix_seq=k + 1))
        return out

    def send_hostile(now_ns):
        # A forged frame: gateway 1's next frame with its tag altered. Its seq is not used up,
        # so the genuine frame with the same seq that follows must be accepted.
        f = bytearray(fix_batch(1, now_ns, records_of(HOSTILE_ROUND, 1)))
        f[-1] ^= 0x01
        s.sendto(bytes(f), dst)
        hostile.append(("forged MAC (gateway 1, next seq)", "uplink.bad_mac"))
        # Exact replays of round REPLAYED_ROUND's genuine frames.
        for gw in GATEWAYS:
            s.sendto(saved[(gw, REPLAYED_ROUND)], dst)
            hostile.append((f"replay of gateway {gw}'s frame of round {REPLAYED_ROUND}",
                            "uplink.replay_dup"))
        # An authentic frame whose clock is 10 s off: refused after its seq is marked, so that
        # its replay is then a duplicate (docs/protocol.md 3.8 steps 13 and 14).
        x, y, z = player_pos(0, 0)
        skew = fix_batch(2, now_ns - 10_000_000_000,
                         [dict(tag_id=TAG_BASE, x_mm=x, y_mm=y, z_mm=z, dt_us=0, err_mm=100,
                               quality=80, flags=0x01, fix_seq=0)])
        counter[2] += 1
        s.sendto(skew, dst)
        hostile.append(("gateway 2's clock 10 s behind", "uplink.clock_skew"))
        s.sendto(skew, dst)
        hostile.append(("replay of the clock-skewed frame", "uplink.replay_dup"))
        # A gateway not in the keys file.
        s.sendto(fix_batch(1, now_ns, records_of(0, 1)[:1], seq=(EPOCH << 32),
                           gateway_id=UNKNOWN_GATEWAY), dst)
        hostile.append((f"unknown gateway {UNKNOWN_GATEWAY}", "uplink.unknown_gateway"))
        # Too short to be a frame.
        s.sendto(b"FG\x01\x01", dst)
        hostile.append(("4-byte datagram", "uplink.runt"))
        # A good frame to the wrong UDP port (floord's address, port + 1).
        s.sendto(fix_batch(1, now_ns, records_of(0, 1)[:1], seq=(EPOCH << 32)),
                 (FLOORD_IP, UP_PORT + 1))
        hostile.append((f"frame to port {UP_PORT + 1}", "net.wrong_port"))

    t0 = time.monotonic()
    first_ns = last_ns = 0
    for k in range(rounds):
        delay = t0 + k * period - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        now_ns = time.time_ns()
        first_ns = first_ns or now_ns
        last_ns = now_ns
        if k == HOSTILE_ROUND:
            send_hostile(now_ns)
        for gw in GATEWAYS:
            f = fix_batch(gw, now_ns, records_of(k, gw))
            counter[gw] += 1
            s.sendto(f, dst)
            saved[(gw, k)] = f
            genuine_frames += 1
            fixes += PLAYERS
        if k == HOSTILE_ROUND:
            # An authentic frame from gateway 1 for a tag in no roster.
            x, y, z = player_pos(0, 0)
            s.sendto(fix_batch(1, now_ns, [dict(tag_id=UNKNOWN_TAG, x_mm=x, y_mm=y, z_mm=z,
                                                dt_us=0, err_mm=100, quality=80, flags=0x01,
                                                fix_seq=1)]), dst)
            counter[1] += 1
            genuine_frames += 1
            fixes += 1
            hostile.append(("authentic frame for an unknown tag", "pipeline.unknown_tag"))
    elapsed = time.monotonic() - t0
    out = {
        "rounds": rounds,
        "genuine_frames": genuine_frames,
        "fixes": fixes,
        "elapsed_s": elapsed,
        "first_ns": first_ns,
        "last_ns": last_ns,
        "last_pos": {p: player_pos(p, rounds - 1) for p in range(PLAYERS)},
        "hostile": hostile,
    }
    with open(a.out, "w") as f:
        json.dump(out, f)
    return 0


# ------------------------------------------------------------------------------------------
# Receiver role (consoles namespace)
# ------------------------------------------------------------------------------------------

def role_receiver(a):
    rc = load_codec(a.source_root)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((GROUP, DL_PORT))
    mreq = socket.inet_aton(GROUP) + socket.inet_aton(CON_IP)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    log("READY")
    pkts = []
    deadline = time.monotonic() + a.timeout
    eos_at = None
    while not stop:
        now = time.monotonic()
        if now >= deadline:
            break
        # After the first end of session, floord lingers 1 s and repeats it on both channels:
        # listen that long (and a little more), no longer.
        if eos_at is not None and now - eos_at > EOS_LISTEN_S:
            break
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        data, src = s.recvfrom(2048)
        t = time.time_ns()
        rec = {"hex": data.hex(), "src": list(src), "t_ns": t}
        if not pkts:
            log("FIRST")
        try:
            h = rc.decode_downlink(data)["hdr"]
            if h["msg_count"] == rc.DL_END_OF_SESSION and eos_at is None:
                eos_at = time.monotonic()
        except rc.WireError as e:
            rec["error"] = str(e)
        pkts.append(rec)
    with open(a.out, "w") as f:
        json.dump({"packets": pkts, "timed_out": time.monotonic() >= deadline}, f)
    log(f"DONE {len(pkts)}")
    return 0


# ------------------------------------------------------------------------------------------
# The orchestrator (root namespace)
# ------------------------------------------------------------------------------------------

class Skip(Exception):
    pass


def run(cmd, check=True, timeout=20, input=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


class Topology:
    """The namespaces, veths and bridge; remove() undoes whatever was made, in any state."""

    def __init__(self):
        pid = os.getpid()
        self.ns_fd, self.ns_sw, self.ns_gw, self.ns_con = (
            f"fclive-{pid}-{n}" for n in ("floord", "sw", "gw", "con"))
        # Interface names: at most 15 characters (IFNAMSIZ); the PID makes them unique.
        self.if_floord = f"fc{pid}f"
        self.if_gw, self.if_con = f"fc{pid}g", f"fc{pid}c"
        self.br = f"fc{pid}br"
        self.made_ns = []
        self.floord_mac = None
        assert len(self.if_floord) + 1 <= 15 and len(self.br) <= 15

    def ns(self, ns, *cmd, check=True):
        return run(["ip", "netns", "exec", ns] + list(cmd), check=check)

    def create(self):
        for ns in (self.ns_fd, self.ns_sw, self.ns_gw, self.ns_con):
            p = run(["ip", "netns", "add", ns], check=False)
            if p.returncode != 0:
                if not self.made_ns:
                    raise Skip(f"cannot create a network namespace: {p.stderr.strip()}")
                raise RuntimeError(f"ip netns add {ns}: {p.stderr.strip()}")
            self.made_ns.append(ns)
            # No IPv6 on any interface, present or future (no ND/MLD noise); no forwarding.
            # -e: quietly nothing on a kernel without IPv6.
            self.ns(ns, "sysctl", "-q", "-e", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.ip_forward=0",
                    check=False)
            self.ns(ns, "ip", "link", "set", "lo", "up")
        # The switch: a bridge that floods multicast (no IGMP snooping).
        self.ns(self.ns_sw, "ip", "link", "add", self.br, "type", "bridge", "mcast_snooping",
                "0", "stp_state", "0")
        for ifn, ns in ((self.if_floord, self.ns_fd), (self.if_gw, self.ns_gw),
                        (self.if_con, self.ns_con)):
            p = run(["ip", "link", "add", ifn, "netns", ns, "type", "veth", "peer", "name",
                     ifn + "s", "netns", self.ns_sw], check=False)
            if p.returncode != 0:
                if ifn == self.if_floord:
                    raise Skip(f"cannot create a veth pair: {p.stderr.strip()}")
                raise RuntimeError(f"ip link add {ifn}: {p.stderr.strip()}")
            self.ns(self.ns_sw, "ip", "link", "set", ifn + "s", "master", self.br)
            self.ns(self.ns_sw, "ip", "link", "set", ifn + "s", "up")
        self.ns(self.ns_sw, "ip", "link", "set", self.br, "up")
        # floord's port: up (floord does not change that), no address.
        self.ns(self.ns_fd, "ip", "link", "set", self.if_floord, "up")
        link = json.loads(run(["ip", "-n", self.ns_fd, "-j", "link", "show", "dev",
                               self.if_floord]).stdout)
        self.floord_mac = link[0]["address"]
        for ifn, ns, ip in ((self.if_gw, self.ns_gw, GW_IP), (self.if_con, self.ns_con, CON_IP)):
            self.ns(ns, "ip", "addr", "add", f"{ip}/{PREFIX_LEN}", "dev", ifn)
            self.ns(ns, "ip", "link", "set", ifn, "up")
        # floord answers no ARP: the gateways know its MAC.
        self.ns(self.ns_gw, "ip", "neigh", "replace", FLOORD_IP, "lladdr", self.floord_mac,
                "dev", self.if_gw, "nud", "permanent")
        for ns in self.made_ns:
            routes = self.ns(ns, "ip", "-4", "route", "show").stdout
            if "default" in routes:
                raise RuntimeError(f"{ns} has a default route: {routes!r}")

    def remove(self):
        return remove_namespaces(self.made_ns, rf"^fc{os.getpid()}[fgc]s?(@|$)")


def remove_namespaces(made_ns, ours):
    """Deletes the namespaces made_ns (a namespace takes its interfaces, and a veth goes with
    its peer); returns what was left behind: namespaces, and root-namespace interfaces whose
    name matches the regex ours."""
    problems = []
    for ns in reversed(made_ns):
        p = run(["ip", "netns", "del", ns], check=False)
        if p.returncode != 0:
            problems.append(f"ip netns del {ns}: {p.stderr.strip()}")
    left = [ns for ns in made_ns if os.path.exists(f"/var/run/netns/{ns}")]
    if left:
        problems.append(f"namespaces left: {left}")
    links = run(["ip", "-br", "link"], check=False).stdout.split()
    left = [x for x in links if re.match(ours, x)]
    if left:
        problems.append(f"interfaces left in the root namespace: {left}")
    return problems


def write_config(d, source_root, iface):
    """Floor file, roster, keys file and the net_af_packet profile (a copy of the committed
    one with our interface). Returns the EAL arguments of the profile's [eal] args."""
    with open(os.path.join(d, "roster.csv"), "w") as f:
        f.write("tag_id,player,team,name\n")
        for p in range(PLAYERS):
            f.write(f"0x{TAG_BASE + p:016X},{p},{p % 2},live-{p:02d}\n")
    keys = os.path.join(d, "keys.txt")
    with open(keys, "w") as f:
        f.write("# floorcast live test keys: public, for this test only\n")
        for gw in GATEWAYS:
            f.write(f"{gw} {KEY_ID} hmac-sha256-128 {gw_key(gw).hex()}\n")
    os.chmod(keys, 0o600)
    with open(os.path.join(source_root, "drivers-cfg", "net_af_packet.ini")) as f:
        profile = f.read()
    if "fc-veth0" not in profile:
        raise RuntimeError("drivers-cfg/net_af_packet.ini no longer names fc-veth0")
    profile = profile.replace("fc-veth0", iface)
    with open(os.path.join(d, "net_af_packet.ini"), "w") as f:
        f.write(profile)
    m = re.search(r"^args\s*=\s*(.*?)\s*$", profile, re.M)
    if m is None:
        raise RuntimeError("drivers-cfg/net_af_packet.ini has no [eal] args")
    eal = m.group(1).split()
    with open(os.path.join(d, "floor.ini"), "w") as f:
        f.write(f"""; floorcast live test (tests/live/test_live.py)
[floor]
width_m = 20
height_m = 10
cell_mm = 256
tick_ms = {TICK_MS}

[uplink]
udp_port = {UP_PORT}
local_ip = {FLOORD_IP}
clock_bound_ms = 2000
keys = keys.txt

[downlink]
group = {GROUP}
port = {DL_PORT}
src_port = {DL_SRC_PORT}
ttl = 1
session_id = 0 ; derived from the start time
dead_band_mm = {DEAD_BAND_MM}
refresh_ms = 1000
stale_ms = 2000
snapshot_ms = 1000

[roster]
file = roster.csv

[lcores]
rx = 0
owners = 0
tx = 0
ring_size = 4096

[port]
profile = net_af_packet.ini
""")
    return eal


class LineReader:
    """Reads a child's stdout lines with a deadline (the child prints READY, FIRST, ...)."""

    def __init__(self, proc):
        self.proc, self.buf, self.lines = proc, b"", []

    def wait_for(self, token, deadline, also=None):
        while True:
            if any(line == token for line in self.lines):
                return True
            if also is not None and also.poll() is not None:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.2))
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    return any(line == token for line in self.lines)
                self.buf += chunk
                *done, self.buf = self.buf.split(b"\n")
                self.lines += [x.decode(errors="replace").strip() for x in done]


class Checks:
    def __init__(self):
        self.results = []

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok), detail))
        log(f"  {'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""))
        return ok

    def failed(self):
        return [r for r in self.results if not r[1]]


def stop_proc(p, name, problems, sig=signal.SIGTERM, wait=5):
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(sig)
        p.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        problems.append(f"{name} (pid {p.pid}) ignored {signal.Signals(sig).name}: killed")
        p.kill()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            problems.append(f"{name} (pid {p.pid}) survived SIGKILL")


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        return "\n".join("    | " + x for x in lines[-n:])
    except OSError as e:
        return f"    | ({e})"


def main_test(a):
    if os.geteuid() != 0:
        log("SKIP: needs root (network namespaces, AF_PACKET)")
        return SKIP
    if shutil.which("ip") is None:
        log("SKIP: no ip(8) (iproute2)")
        return SKIP
    try:
        if run(["ip", "netns", "list"], check=False).returncode != 0:
            log("SKIP: `ip netns` is not available")
            return SKIP
    except (OSError, subprocess.TimeoutExpired) as e:
        log(f"SKIP: `ip netns` is not available: {e}")
        return SKIP
    if not os.access(a.floord, os.X_OK):
        log(f"FAIL: floord not found or not executable: {a.floord}")
        return FAIL
    rc = load_codec(a.source_root)

    t_start = time.monotonic()
    deadline_all = t_start + TIME_BUDGET_S

    def left(cap):
        """Seconds to wait: at most cap, and never into the tear-down's reserve."""
        return max(0.5, min(cap, deadline_all - TEARDOWN_S - time.monotonic()))

    topo = Topology()
    prefix = f"fclive-{os.getpid()}"
    tmp = tempfile.mkdtemp(prefix=prefix + "-")
    me = os.path.abspath(__file__)
    floord = receiver = sender = None
    floord_out, floord_err = os.path.join(tmp, "floord.out"), os.path.join(tmp, "floord.err")
    report_path = os.path.join(tmp, "report.json")
    rx_json, tx_json = os.path.join(tmp, "received.json"), os.path.join(tmp, "sent.json")
    problems = []
    checks = Checks()
    floord_rc = None
    result = FAIL

    # A SIGTERM (meson's timeout) or SIGINT must still tear down: turn it into an exception.
    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        log(f"set-up: namespaces {topo.ns_fd} {topo.ns_sw} {topo.ns_gw} {topo.ns_con}, "
            f"floord's port {topo.if_floord}, work dir {tmp}")
        try:
            topo.create()
        except Skip as e:
            log(f"SKIP: {e}")
            result = SKIP
            return SKIP
        eal = write_config(tmp, a.source_root, topo.if_floord)
        # The profile's EAL arguments, on lcore 0, with a private runtime directory.
        cmd = (["ip", "netns", "exec", topo.ns_fd, a.floord, "-l", "0"] + eal +
               ["--no-shconf", f"--file-prefix={prefix}", "--log-level=*:error", "--",
                "--floor", os.path.join(tmp, "floor.ini"), "--report-json", report_path])
        log(f"floord's MAC {topo.floord_mac}; command:\n    {' '.join(cmd)}")

        # 1. The receiver, joined before floord sends its first packet.
        receiver = subprocess.Popen(
            ["ip", "netns", "exec", topo.ns_con, sys.executable, me, "--role", "receiver",
             "--source-root", a.source_root, "--out", rx_json,
             "--timeout", str(int(TIME_BUDGET_S - TEARDOWN_S))],
            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "receiver.err"), "w"))
        rx_lines = LineReader(receiver)
        if not rx_lines.wait_for("READY", time.monotonic() + left(5), also=receiver):
            raise RuntimeError("the receiver did not join the group:\n" +
                               tail(os.path.join(tmp, "receiver.err")))

        # 2. floord, live.
        floord = subprocess.Popen(cmd, stdout=open(floord_out, "w"), stderr=open(floord_err, "w"),
                                  stdin=subprocess.DEVNULL)
        t_floord = time.monotonic()
        wait = left(15)
        if not rx_lines.wait_for("FIRST", time.monotonic() + wait, also=floord):
            code = floord.poll()
            raise RuntimeError(
                f"no downlink packet from floord within {wait:.0f} s" +
                (f" (floord exited {code})" if code is not None else " (floord still running)") +
                f":\n  stdout:\n{tail(floord_out)}\n  stderr:\n{tail(floord_err)}")
        log(f"floord up: first downlink packet {time.monotonic() - t_floord:.2f} s after start")

        # 3. The gateways.
        sender = subprocess.Popen(
            ["ip", "netns", "exec", topo.ns_gw, sys.executable, me, "--role", "sender",
             "--source-root", a.source_root, "--out", tx_json, "--seconds", str(a.seconds)],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "sender.err"), "w"))
        try:
            sender_rc = sender.wait(timeout=left(a.seconds + 5))
        except subprocess.TimeoutExpired:
            raise RuntimeError("the sender did not finish in time")
        if sender_rc != 0:
            raise RuntimeError(f"the sender failed (exit {sender_rc}):\n" +
                               tail(os.path.join(tmp, "sender.err")))
        with open(tx_json) as f:
            sent = json.load(f)
        sent["last_pos"] = {int(k): v for k, v in sent["last_pos"].items()}
        log(f"sender: {sent['rounds']} rounds in {sent['elapsed_s']:.2f} s, "
            f"{sent['genuine_frames']} authentic frames, {sent['fixes']} fixes, "
            f"{len(sent['hostile'])} hostile datagrams")

        # 4. Stop floord: drain, end of session, exit 0 with the report.
        time.sleep(0.3)
        if floord.poll() is not None:
            raise RuntimeError(f"floord exited early ({floord.returncode}):\n"
                               f"{tail(floord_out)}\n{tail(floord_err)}")
        t_sig = time.monotonic()
        floord.send_signal(signal.SIGINT)
        wait = left(10)
        try:
            floord_rc = floord.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            floord_rc = None
        t_exit = time.monotonic() - t_sig
        checks.check("floord exits 0 after SIGINT", floord_rc == 0,
                     f"exit {floord_rc} after {t_exit:.2f} s" if floord_rc is not None else
                     f"still running {wait:.0f} s after SIGINT (not draining?)")
        try:
            receiver.wait(timeout=left(5))
        except subprocess.TimeoutExpired:
            receiver.send_signal(signal.SIGTERM)
            receiver.wait(timeout=5)
        with open(rx_json) as f:
            received = json.load(f)

        report = None
        try:
            with open(report_path) as f:
                report = json.load(f)
        except (OSError, ValueError) as e:
            checks.check("floord wrote its JSON report", False, str(e))
        if report is not None:
            check_report(checks, report, sent)
        check_downlink(checks, rc, received, sent, report, eos_repeats(a.source_root),
                       a.max_clock_drift_ppm)
        if checks.failed() and floord_rc != 0:
            log(f"floord stdout:\n{tail(floord_out)}\nfloord stderr:\n{tail(floord_err)}")
        elif report is not None:
            log(f"floord's report (stdout):\n{tail(floord_out, 40)}")
        result = FAIL if checks.failed() else 0
    except KeyboardInterrupt as e:
        log(f"FAIL: interrupted ({e})")
        result = FAIL
    except Exception as e:  # noqa: BLE001 - any error is a test failure, after tear-down
        log(f"FAIL: {type(e).__name__}: {e}")
        result = FAIL
    finally:
        # 6. Tear-down, whatever happened.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_proc(sender, "sender", problems, signal.SIGKILL)
        stop_proc(receiver, "receiver", problems)
        if floord is not None and floord.poll() is None:
            problems.append("floord still running at tear-down: SIGTERM")
            stop_proc(floord, "floord", problems, wait=3)
        problems += topo.remove()
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
        if os.path.exists(f"/var/run/dpdk/{prefix}"):
            problems.append(f"/var/run/dpdk/{prefix} left")
        if a.keep or result not in (0, SKIP):
            log(f"work dir kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        for s, h in old.items():
            signal.signal(s, h)
        for p in problems:
            log(f"tear-down: {p}")
        elapsed = time.monotonic() - t_start
    if problems and result == 0:
        log("FAIL: tear-down left something behind")
        result = FAIL
    if result == 0 and elapsed > 60:
        log(f"FAIL: took {elapsed:.1f} s (limit 60 s)")
        result = FAIL
    if result == 0:
        log(f"PASS: {len(checks.results)} checks in {elapsed:.1f} s")
    elif result == FAIL:
        n = len(checks.failed())
        log(f"FAIL: {n} of {len(checks.results)} checks failed ({elapsed:.1f} s)" if n else
            f"FAIL ({elapsed:.1f} s)")
    return result


def check_report(c, r, sent):
    log("floord's report:")
    rounds = sent["rounds"]
    c.check("report: mode live", r.get("mode") == "live", repr(r.get("mode")))
    rx, own, drops, tx = r["rx"], r["owners"], r["drops"], r["tx"]
    c.check("rx.gw_frames == authentic frames sent", rx["gw_frames"] == sent["genuine_frames"],
            f"{rx['gw_frames']} vs {sent['genuine_frames']} sent")
    c.check("rx.fixes == fixes sent", rx["fixes"] == sent["fixes"],
            f"{rx['fixes']} vs {sent['fixes']} sent")
    routed = 2 * PLAYERS * rounds
    c.check("rx.routed == fixes of known tags", rx["routed"] == routed,
            f"{rx['routed']} vs {routed}")
    c.check("owners.records == rx.routed", own["records"] == rx["routed"],
            f"{own['records']} vs {rx['routed']}")
    c.check("owners.applied == one per fix (players x rounds)",
            own["applied"] == PLAYERS * rounds and own["applied"] > 0,
            f"{own['applied']} vs {PLAYERS * rounds}")
    c.check("owners.duplicates == the second gateway's copies",
            own["duplicates"] == PLAYERS * rounds, f"{own['duplicates']} vs {PLAYERS * rounds}")
    c.check("owners.older == 0", own["older"] == 0, str(own["older"]))

    want = {}
    for _, counter in sent["hostile"]:
        want[counter] = want.get(counter, 0) + 1
    for group in ("uplink", "pipeline"):
        for name, n in drops[group].items():
            exp = want.get(f"{group}.{name}", 0)
            if exp or n:
                c.check(f"drops.{group}.{name} == {exp}", n == exp, f"counted {n}")
    for name in ("wrong_port", "wrong_dst", "bad_ipv4", "bad_udp", "fragment", "runt"):
        exp = want.get(f"net.{name}", 0)
        n = drops["net"].get(name)
        c.check(f"drops.net.{name} == {exp}", n == exp, f"counted {n}")
    unknown = [k for k in want if k.split(".")[0] not in ("uplink", "pipeline", "net") or
               k.split(".")[1] not in drops[k.split(".")[0]]]
    c.check("every expected drop reason exists in the report", not unknown, str(unknown))
    other = {k: v for k, v in drops["net"].items() if v}
    log(f"  info net drops (IGMP and the like land here): {other}")
    c.check("rx.frames accounts for every datagram",
            rx["frames"] >= sent["genuine_frames"] + len(sent["hostile"]) - 1,
            f"{rx['frames']} frames")
    c.check("pipeline.ring_full == 0 and tx drops/alloc failures == 0",
            drops["pipeline"].get("ring_full") == 0 and tx["tx_drops"] == 0 and
            tx["alloc_fail"] == 0, f"ring_full {drops['pipeline'].get('ring_full')}, "
            f"tx_drops {tx['tx_drops']}, alloc_fail {tx['alloc_fail']}")
    c.check("mempool: no mbuf in use after the run", r["mempool"]["in_use_at_exit"] == 0,
            str(r["mempool"]))
    lat = r.get("latency_ns", {})
    log(f"  info latency RX burst -> applied (ns): {lat}")


def eos_repeats(source_root):
    """floord's (copies, ms apart) of each channel's end of session while it lingers."""
    with open(os.path.join(source_root, "lib", "tx", "fc_tx.h")) as f:
        h = f.read()
    return tuple(int(re.search(rf"^#define {name}\s+(\d+)u", h, re.M).group(1))
                 for name in ("FC_TX_EOS_REPEATS", "FC_TX_EOS_REPEAT_MS"))


def check_downlink(c, rc, received, sent, report, eos_rep, max_drift_ppm=None):
    log("downlink as received in the consoles namespace:")
    pkts = received["packets"]
    c.check("receiver finished before its timeout", not received["timed_out"])
    bad = [p for p in pkts if "error" in p]
    c.check("every datagram decodes (ref_codec.decode_downlink)", not bad,
            "; ".join(p["error"] for p in bad[:5]))
    srcs = {tuple(p["src"]) for p in pkts}
    c.check(f"every datagram from {FLOORD_IP}:{DL_SRC_PORT}",
            srcs == {(FLOORD_IP, DL_SRC_PORT)}, str(srcs))
    dec = []
    for p in pkts:
        if "error" in p:
            continue
        d = rc.decode_downlink(bytes.fromhex(p["hex"]))
        d["t_ns"], d["hex"] = p["t_ns"], p["hex"]
        dec.append(d)
    ch = {0: [d for d in dec if d["hdr"]["channel_id"] == 0],
          1: [d for d in dec if d["hdr"]["channel_id"] == 1]}
    log(f"  info {len(ch[0])} packets on channel 0, {len(ch[1])} on channel 1")
    # What follows each channel's end of session: floord's copies of it while it lingers
    # (checked below); the checks of the session's packets end with the first one.
    copies = {}
    for chan in (0, 1):
        k = next((i for i, d in enumerate(ch[chan])
                  if d["hdr"]["msg_count"] == rc.DL_END_OF_SESSION), None)
        if k is not None:
            ch[chan], copies[chan] = ch[chan][:k + 1], ch[chan][k + 1:]
    if report is not None:
        c.check("received every packet floord sent (tx.packets)",
                len(dec) == report["tx"]["packets"], f"{len(dec)} vs {report['tx']['packets']}")
    sessions = {d["hdr"]["session_id"] for d in dec}
    c.check("one session, id != 0", len(sessions) == 1 and 0 not in sessions, str(sessions))
    if dec:
        log(f"  info session_id {dec[0]['hdr']['session_id']} (session_id = 0 in the floor file: "
            f"derived from the start time), first send_time_ns {dec[0]['hdr']['send_time_ns']}")
    c.check("no packet flags (no RETRANSMIT, no FEED_B)",
            all(d["hdr"]["flags"] == 0 for d in dec))
    eos = rc.DL_END_OF_SESSION
    for chan in (0, 1):
        seqs = [d["hdr"]["packet_seq"] for d in ch[chan]]
        c.check(f"channel {chan}: packet_seq 1..{len(seqs)}, no gap, no repeat",
                seqs and seqs == list(range(1, len(seqs) + 1)),
                f"{len(seqs)} packets" + ("" if seqs == list(range(1, len(seqs) + 1)) else
                                          f"; first differences at {first_diff(seqs)}"))
        c.check(f"channel {chan}: ends with the end of session (msg_count 0xFFFF), once",
                ch[chan] and ch[chan][-1]["hdr"]["msg_count"] == eos and
                sum(d["hdr"]["msg_count"] == eos for d in ch[chan]) == 1)
        ticks = [d["hdr"]["tick"] for d in ch[chan]]
        steps = {b - a for a, b in zip(ticks, ticks[1:])}
        c.check(f"channel {chan}: ticks from 1, consecutive (steps of 0 or 1)",
                ticks and ticks[0] == 1 and steps <= {0, 1}, f"ticks {ticks[:1]}..{ticks[-1:]}, "
                f"steps {sorted(steps)}")
        times = [d["hdr"]["send_time_ns"] for d in ch[chan]]
        off = {t - k * TICK_NS for t, k in zip(times, ticks)}
        c.check(f"channel {chan}: send_time_ns multiples of {TICK_MS} ms, one tick apart per tick",
                times and all(t % TICK_NS == 0 for t in times) and len(off) == 1,
                f"{len(off)} distinct (send_time - tick * {TICK_MS} ms)")
        c.check(f"channel {chan}: no events, first_event_seq 1",
                all(d["hdr"]["event_count"] == 0 and d["hdr"]["first_event_seq"] == 1
                    for d in ch[chan]))
        # send_time_ns is the end of the packet's tick: a tick's packets leave just after it.
        # Report how late they arrive (floord's TSC clock against ours); assert only the 2 s
        # clock bound, since this machine is shared.
        # The last tick (cut short by SIGINT: drained at once) and the end of session are
        # stamped with their tick's end, still ahead: left out here, shown below.
        lag = sorted((d["t_ns"] - d["hdr"]["send_time_ns"]) / 1e6 for d in ch[chan][:-2])
        if lag:
            log(f"  info channel {chan}: arrival - send_time_ns: min {lag[0]:.1f} ms, "
                f"median {lag[len(lag) // 2]:.1f} ms, max {lag[-1]:.1f} ms")
            c.check(f"channel {chan}: floord's clock within the 2 s bound of ours",
                    -2000 < lag[0] and lag[-1] < 2000)
        if chan == 0:
            drift_ppm = clock_drift_ppm(ch[0])
            if drift_ppm is not None:
                log(f"  info floord's live clock against CLOCK_REALTIME: {drift_ppm:+.0f} ppm "
                    f"({drift_ppm * 1e-3:+.2f} ms/s; the {TICK_MS} ms ticks' arrival lag, lower "
                    "envelope; + means floord's clock runs slow)")
                if max_drift_ppm is not None:
                    c.check(f"floord's clock drifts less than {max_drift_ppm} ppm",
                            abs(drift_ppm) < max_drift_ppm, f"{drift_ppm:+.0f} ppm")
        for d, what in zip(ch[chan][-2:], ("the drained last tick", "the end of session")):
            log(f"  info channel {chan}: {what} (tick {d['hdr']['tick']}) arrived "
                f"{(d['t_ns'] - d['hdr']['send_time_ns']) / 1e6:+.1f} ms after its send_time_ns")
        # The end of session again while floord lingers: the same bytes (the same packet_seq:
        # a subscriber ignores the copies it does not need), copy k due k * gap_ms after the
        # first, never before (a stalled lcore may send late ones closer together): copy k
        # must come at least k * gap_ms / 2 after the first (its arrival jitter is the slack).
        n, gap_ms = eos_rep
        cp = copies.get(chan, [])
        first = ch[chan][-1] if ch[chan] else None
        times = [d["t_ns"] for d in ([first] if first else []) + cp]
        gaps = [(b - a) / 1e6 for a, b in zip(times, times[1:])]
        c.check(f"channel {chan}: then {n} copies of the end of session, byte for byte, "
                f"copy k at least k x {gap_ms // 2} ms after it",
                first is not None and first["hdr"]["msg_count"] == eos and len(cp) == n and
                all(d["hex"] == first["hex"] for d in cp) and
                all((t - times[0]) / 1e6 >= k * gap_ms / 2 for k, t in enumerate(times)),
                f"{len(cp)} packets after it: " +
                ", ".join(f"seq {d['hdr']['packet_seq']} msg_count {d['hdr']['msg_count']}"
                          f"{'' if first and d['hex'] == first['hex'] else ' (differs)'}"
                          for d in cp[:6]) + f"; gaps {[round(g) for g in gaps]} ms")
        log(f"  info channel {chan}: end-of-session copies {len(cp)}, "
            f"{[round(g) for g in gaps]} ms apart")
    # Channel 0: only POSITIONS; replay them to get each player's state after every packet.
    state, after = {}, {}
    hist = {p: [] for p in range(PLAYERS)}
    off_path = []
    only_pos = True
    for d in ch[0]:
        for m in d["msgs"]:
            if m.get("template") != "POSITIONS":
                only_pos = False
                continue
            for e in m["entries"]:
                pl = e["player"]
                state[pl] = (e["x_cm"], e["y_cm"], e["z_dm"], e["status"])
                if pl in hist:
                    hist[pl].append(state[pl])
                if not on_path(pl, e, sent["rounds"]):
                    off_path.append((d["hdr"]["packet_seq"], e))
        after[d["hdr"]["packet_seq"]] = dict(state)
    c.check("channel 0 carries POSITIONS only (no rounds, no events in this run)", only_pos)
    c.check("channel 0 positions are only players of the roster",
            set(state) <= set(range(PLAYERS)), str(sorted(set(state) - set(range(PLAYERS)))))
    c.check("every received position is one the sender sent (exact cm, its own line, z 12 dm)",
            not off_path, str(off_path[:3]))
    # Final positions: within the dead band (plus rounding) of the last fix sent.
    far = []
    for p in range(PLAYERS):
        x, y, z = sent["last_pos"][p]
        got = state.get(p)
        if got is None:
            far.append((p, "never received"))
            continue
        dist = ((got[0] * 10 - x) ** 2 + (got[1] * 10 - y) ** 2 + (got[2] * 100 - z) ** 2) ** .5
        if dist > DEAD_BAND_MM + 8 or not got[3] & 0x01:
            far.append((p, f"last received {got}, last sent {(x, y, z)} mm, {dist:.0f} mm"))
    c.check(f"every player's last position within {DEAD_BAND_MM} mm (+ rounding) of its last "
            "fix, ACTIVE", not far, str(far))
    log("  info last positions (cm): " +
        ", ".join(f"{p}:({state[p][0]},{state[p][1]})" for p in sorted(state)))
    log("  info updates received per player: " +
        ", ".join(f"{p}:{len(hist[p])}" for p in range(PLAYERS)))
    # Channel 1: snapshots, complete and equal to channel 0's state as of as_of_packet_seq.
    snaps, others = {}, []
    for d in ch[1]:
        if d["hdr"]["msg_count"] in (0, eos):
            continue
        m0 = d["msgs"][0]
        if m0.get("template") != "SNAPSHOT_PART":
            others.append(d["hdr"]["packet_seq"])
            continue
        s = snaps.setdefault(m0["snapshot_id"], {"parts": {}, "pos": {}, "m0": m0})
        s["parts"][m0["part"]] = m0
        for m in d["msgs"][1:]:
            if m.get("template") == "POSITIONS":
                for e in m["entries"]:
                    s["pos"][e["player"]] = (e["x_cm"], e["y_cm"], e["z_dm"], e["status"])
    c.check("channel 1: at least one snapshot", len(snaps) >= 1, f"{len(snaps)} snapshots")
    c.check("channel 1: every non-heartbeat packet starts with SNAPSHOT_PART", not others,
            str(others[:5]))
    ids = sorted(snaps)
    c.check("channel 1: snapshot ids consecutive", ids == list(range(ids[0], ids[0] + len(ids)))
            if ids else False, str(ids))
    incomplete, mismatch = [], []
    for sid in ids:
        s = snaps[sid]
        if set(s["parts"]) != set(range(s["m0"]["part_count"])):
            incomplete.append(sid)
            continue
        asof = s["m0"]["as_of_packet_seq"]
        want = after.get(asof, {}) if asof else {}
        if s["pos"] != want:
            mismatch.append((sid, asof, s["pos"], want))
    c.check("channel 1: every snapshot complete", not incomplete, str(incomplete))
    c.check("channel 1: each snapshot's positions == channel 0's as of its as_of_packet_seq",
            not mismatch, str(mismatch[:1]))
    full = [sid for sid in ids if len(snaps[sid]["pos"]) == PLAYERS]
    c.check("channel 1: a snapshot lists all 10 players", bool(full),
            f"snapshots with all players: {full}")
    if report is not None:
        tx = report["tx"]
        npos = sum(len(m["entries"]) for d in ch[0] for m in d["msgs"]
                   if m.get("template") == "POSITIONS")
        c.check("tx.positions == position entries received on channel 0",
                tx["positions"] == npos, f"{tx['positions']} vs {npos}")
        nhb = sum(d["hdr"]["msg_count"] == 0 for d in dec)
        c.check("tx.heartbeats == heartbeats received (both channels)", tx["heartbeats"] == nhb,
                f"{tx['heartbeats']} vs {nhb}")
        c.check("tx.snapshots == snapshots received", tx["snapshots"] == len(snaps),
                f"{tx['snapshots']} vs {len(snaps)}")
        ticks0 = {d["hdr"]["tick"] for d in ch[0] if d["hdr"]["msg_count"] != eos}
        c.check("tx.ticks == ticks seen on channel 0", tx["ticks"] == len(ticks0),
                f"{tx['ticks']} vs {len(ticks0)}")
        c.check("tx.eos_repeats == the end-of-session copies received (both channels)",
                tx.get("eos_repeats") == sum(len(v) for v in copies.values()),
                f"{tx.get('eos_repeats')} vs {sum(len(v) for v in copies.values())}")


def clock_drift_ppm(pkts):
    """Rate at which (arrival time - send_time_ns) grows, in ppm: floord's clock against the
    receiver's CLOCK_REALTIME. Each third of the run contributes its least-delayed packet, so
    scheduling delays (always positive) mostly drop out. None when the run is too short."""
    pts = [(d["hdr"]["send_time_ns"], d["t_ns"] - d["hdr"]["send_time_ns"])
           for d in pkts[:-2]]  # not the drained last tick, nor the end of session
    if len(pts) < 30:
        return None
    n = len(pts) // 3
    a, b = min(pts[:n], key=lambda p: p[1]), min(pts[-n:], key=lambda p: p[1])
    if b[0] - a[0] < 1_000_000_000:
        return None
    return (b[1] - a[1]) / (b[0] - a[0]) * 1e6


def on_path(p, e, rounds):
    x0, y, z = player_pos(p, 0)
    step = (p + 1)  # cm per round
    k, r = divmod(e["x_cm"] - x0 // 10, step)
    return (r == 0 and 0 <= k < rounds and e["y_cm"] == y // 10 and e["z_dm"] == z // 100)


def first_diff(seqs):
    for i, s in enumerate(seqs):
        if s != i + 1:
            return f"index {i}: {seqs[max(0, i - 2):i + 3]}"
    return "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--role", choices=("test", "sender", "receiver"), default="test")
    ap.add_argument("--floord")
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--out")
    ap.add_argument("--timeout", type=float, default=40)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--max-clock-drift-ppm", type=float, default=None,
                    help="also fail when floord's live clock drifts more than this against "
                    "CLOCK_REALTIME (default: report the drift only)")
    a = ap.parse_args()
    a.source_root = os.path.abspath(a.source_root)
    if a.floord:
        a.floord = os.path.abspath(a.floord)
    if a.role == "sender":
        return role_sender(a)
    if a.role == "receiver":
        return role_receiver(a)
    if not a.floord:
        ap.error("--floord is required")
    if not 2 <= a.seconds <= 10:
        ap.error("--seconds: 2 to 10 (the hostile frames go out 1.5 s in)")
    return main_test(a)


if __name__ == "__main__":
    sys.exit(main())
