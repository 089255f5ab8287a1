#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpora of the fuzz suite, made from the wire test vectors at build time.

The vectors (tests/wire/vectors/NAME.hex: hex bytes, space-separated, 16 a line) are valid
frames and packets, the best starting points for the mutator; they may change with the codec,
so the seeds are regenerated from them at every build rather than kept as binary copies.

  make_corpus.py --vectors DIR --regressions DIR --out DIR --stamp FILE --depfile FILE

writes, under --out:
  seeds/uplink/NAME, seeds/downlink/NAME  one binary file a vector (up_* to uplink; dl_* and
                                          rt_* to downlink; any other prefix to both), plus
                                          the inputs kept in --regressions/{uplink,downlink}/
                                          (earlier crashes), rewritten from scratch every time
  corpus/uplink/, corpus/downlink/        created if absent, never emptied: libFuzzer writes the
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
import sys

TARGETS = ("uplink", "downlink")
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
    return TARGETS


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def depfile_escape(path):
    return path.replace("\\", "\\\\").replace(" ", "\\ ").replace("$", "$$")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", required=True)
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

    for fn in sorted(os.listdir(args.vectors)):
        if not fn.endswith(".hex"):
            continue
        path = os.path.join(args.vectors, fn)
        data = read_hex(path)
        deps.append(path)
        name = fn[: -len(".hex")]
        for t in routes(name):
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

    if not written["uplink"] or not written["downlink"]:
        sys.exit(f"{args.vectors}: no up_* or no dl_* vectors: wrong directory?")

    with open(args.stamp, "w", encoding="utf-8") as f:
        for t in TARGETS:
            f.write(f"{t}: {' '.join(written[t])}\n")
    with open(args.depfile, "w", encoding="utf-8") as f:
        f.write(depfile_escape(args.stamp) + ": " + " ".join(map(depfile_escape, deps)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
