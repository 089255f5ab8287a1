#!/usr/bin/env python3
"""drivers-cfg/README.md's table and the profiles agree: every *.ini has its row and every row
its file, with the profile's pmd and RX queue count; every NIC profile gives its EAL arguments
with a PCI address and says where its settings come from. (tests/config loads and validates
every profile with floord's own loader.)"""

import configparser
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from deploylib import ROOT, Checks  # noqa: E402

CFG = os.path.join(ROOT, "drivers-cfg")


def load(path):
    cp = configparser.ConfigParser(comment_prefixes=(";",), inline_comment_prefixes=(";",),
                                   interpolation=None)
    cp.read(path)
    return cp


def main():
    ok = Checks()
    rows = {}
    with open(os.path.join(CFG, "README.md")) as f:
        for line in f:
            m = re.match(r"^\| `([\w.-]+\.ini)` \| `(\w+)` \| [^|]+ \| (\d+)", line)
            if m:
                rows[m.group(1)] = (m.group(2), int(m.group(3)))
    files = sorted(f for f in os.listdir(CFG) if f.endswith(".ini"))
    ok(sorted(rows) == files, "one table row per profile, one profile per row",
       (sorted(rows), files))
    for name in files:
        cp = load(os.path.join(CFG, name))
        pmd, rx = cp.get("profile", "pmd"), cp.getint("queues", "rx", fallback=1)
        if name in rows:
            ok(rows[name] == (pmd, rx), f"{name}: the table's PMD and RX queues are the file's",
               (rows[name], (pmd, rx)))
        text = open(os.path.join(CFG, name)).read()
        if not pmd.startswith("net_") or pmd in ("net_ixgbe", "net_i40e", "net_ice", "net_virtio"):
            args = cp.get("eal", "args", fallback="")
            ok(re.search(r"-a [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", args) is not None,
               f"{name}: its EAL arguments name the NIC's PCI address (-a)", args)
            ok("doc/guides/nics/" in text, f"{name}: says which DPDK guide its settings follow")
    return ok.exit()


if __name__ == "__main__":
    sys.exit(main())
