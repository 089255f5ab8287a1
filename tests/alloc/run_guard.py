#!/usr/bin/env python3
"""DESIGN invariant 1, tested: after start-up nothing on floord's packet path allocates, locks,
logs or makes a syscall. alloc_guard.so is preloaded into floord; floord's lcore loops call its
hooks, and it counts such calls made from floord's own code while the lcores poll.

  run_guard.py GUARD_SO SELFTEST FLOORD

First the guard proves it sees what it should (guard_selftest: one malloc, one lock, one log),
then floord replays a 200-player, 10-second game on two lcores under it, positions only and
with 40 clues to claim: every count must be 0, with two lcore threads watched. Then a paced
game where floorctl's commands swap the roster and the layout under the guard (RX and owners
adopt new generations at tick boundaries): still 0."""

import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "replay"))

import harness  # noqa: E402
from harness import Checks  # noqa: E402


def read_counts(path):
    counts = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            counts[parts[0]] = int(parts[1])
    return counts


def main(argv):
    guard, selftest, floord = (os.path.abspath(a) for a in argv[1:4])
    ok = Checks()
    with tempfile.TemporaryDirectory(prefix="fc-alloc-") as work:
        out = os.path.join(work, "self.txt")
        env = dict(os.environ, LD_PRELOAD=guard, FC_ALLOC_GUARD_OUT=out)
        p = subprocess.run([selftest], env=env, capture_output=True, text=True, timeout=30)
        c = read_counts(out) if os.path.exists(out) else {}
        ok(p.returncode == 0 and c.get("entered") == 1 and c.get("malloc") == 1
           and c.get("lock") == 1 and c.get("log") == 1 and c.get("syscall") == 0,
           "the guard counts a watched malloc, lock and log, and nothing unwatched", c)

        cap, roster, keys, _ = harness.make_capture(work, "g", players=200, gateways=4,
                                                    seconds=10.0)
        # The game on: 40 clues of 40 cm over the floor, so the arbiters and the claim rings
        # see traffic and claims are decided and announced while the guard watches.
        clues = os.path.join(work, "clues.txt")
        with open(clues, "w") as f:
            f.write("policy = distance\nsettle_ms = 100\n")
            for i in range(40):
                f.write(f"{i + 1},{1000 + (i % 10) * 2000},{1250 + (i // 10) * 2500},400,10\n")
        for layout in ("rx+owner/tx", "1rx-2owners"):
            floor = os.path.join(work, "floor.ini")
            harness.write_floor(floor, roster, keys, layout)
            if layout == "1rx-2owners":
                with open(floor) as f:
                    text = f.read().replace("[roster]", f"[game]\nlayout = {clues}\n[roster]")
                with open(floor, "w") as f:
                    f.write(text)
            out = os.path.join(work, "floord.txt")
            _, rep, _ = harness.run_floord(
                floord, floor, [cap], os.path.join(work, "o.pcap"), work,
                "guard" + layout.replace("/", "_"),
                extra_env={"LD_PRELOAD": guard, "FC_ALLOC_GUARD_OUT": out})
            c = read_counts(out)
            ok(c.get("entered") == 2, f"{layout}: both lcore loops were watched", c)
            ok(rep["owners"]["applied"] > 10000, f"{layout}: the game was played",
               rep["owners"]["applied"])
            if layout == "1rx-2owners":
                ok(rep["game"]["claims"] > 5, f"{layout}: clues were claimed meanwhile",
                   rep["game"])
            for kind in ("malloc", "rte_malloc", "lock", "log", "syscall"):
                ok(c.get(kind) == 0, f"{layout}: no {kind} on the packet path", c)
        swaps(ok, floord, guard, work, roster, keys, clues)
    return ok.exit()


def request(sock, line):
    """One request on floord's control socket (docs/control.md); the reply as a dict."""
    import json
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(sock)
        s.sendall(line.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def swaps(ok, floord, guard, work, roster, keys, clues):
    """A paced game on 1 RX x 2 owners while roster add/remove, load layout and a new round
    make every lcore adopt new generations: nothing allocated, locked, logged or syscalled."""
    import shutil
    import time

    cap, _, _, _ = harness.make_capture(work, "s", players=200, gateways=4, seconds=3.0)
    tags = harness.mkcapture.load_roster(roster)
    floor = os.path.join(work, "swap.ini")
    sock = os.path.join(work, "swap.sock")
    harness.write_floor(floor, roster, keys, "1rx-2owners")
    with open(floor) as f:
        text = f.read().replace("[roster]", f"[game]\nlayout = {clues}\n[control]\n"
                                            f"socket = {sock}\n[roster]")
    with open(floor, "w") as f:
        f.write(text)
    nxt = os.path.join(work, "next.txt")
    with open(nxt, "w") as f:
        f.write("policy = distance\nsettle_ms = 100\n")
        for i in range(20):
            f.write(f"{i + 1},{2000 + (i % 5) * 4000},{2000 + (i // 5) * 2000},600,5\n")
    out, report = os.path.join(work, "swap.txt"), os.path.join(work, "swap.json")
    prefix = f"fc-alloc-swap-{os.getpid()}"
    cmd = [floord, "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
           f"--file-prefix={prefix}", "--log-level=*:error",
           f"--vdev=net_pcap0,rx_pcap={cap},tx_pcap={os.path.join(work, 'swap.pcap')}", "--",
           "--floor", floor, "--replay", "--pace", "--report-json", report]
    p = subprocess.Popen(cmd, env=dict(os.environ, LD_PRELOAD=guard, FC_ALLOC_GUARD_OUT=out),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    replies = []
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        time.sleep(0.5)
        tag, player, team, _ = tags[5]
        for line in (f"roster remove 0x{tag:x}", f"roster add 0x{tag:x} {player} {team}",
                     f"load layout {nxt}", "round end", "round start"):
            replies.append(request(sock, line))
            time.sleep(0.3)
        outp, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    ok(p.returncode == 0 and all(r.get("ok") for r in replies),
       "swaps: floord took every command and ran to the end", (replies, outp[-300:]))
    c = read_counts(out) if os.path.exists(out) else {}
    rep = {}
    if os.path.exists(report):
        import json

        with open(report) as f:
            rep = json.load(f)
    ok(c.get("entered") == 2 and rep.get("game", {}).get("layout_id") == 2,
       "swaps: both lcore loops watched; the round after the load played layout 2",
       (c, rep.get("game")))
    for kind in ("malloc", "rte_malloc", "lock", "log", "syscall"):
        ok(c.get(kind) == 0, f"swaps: no {kind} on the packet path while generations swap", c)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
