#!/usr/bin/env python3
"""DESIGN invariant 1, tested: after start-up nothing on floord's packet path allocates, locks,
logs or makes a syscall. alloc_guard.so is preloaded into floord; floord's lcore loops call its
hooks, and it counts such calls made from floord's own code while the lcores poll.

  run_guard.py GUARD_SO SELFTEST FLOORD

First the guard proves it sees what it should (guard_selftest: one malloc, one lock, one log),
then floord replays a 200-player, 10-second game on two lcores under it, positions only and
with 40 clues to claim: every count must be 0, with two lcore threads watched."""

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
    return ok.exit()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
