#!/usr/bin/env python3
"""Golden replay, as testpmd-style replay testing does it: small committed captures (normal
play, a crowded clue, hostile frames) and, beside each, floord's output decoded to JSON. Any
change to floord's output fails `check` until the golden files are regenerated on purpose:

  golden.py FLOORD check     replay every golden capture, compare with its .expected.json
  golden.py FLOORD regen     rewrite the captures (mkcapture) and the expected outputs

The floor file is tests/replay/golden/floor.ini, with the fixtures beside it."""

import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import mkcapture  # noqa: E402

GOLDEN = os.path.join(HERE, "golden")
CASES = {  # name: mkcapture arguments
    "normal": ["--players", "10", "--gateways", "2", "--seconds", "2", "--seed", "11"],
    "crowded": ["--players", "16", "--gateways", "2", "--seconds", "5", "--seed", "12",
                "--scenario", "crowded"],
    "hostile": ["--players", "10", "--gateways", "2", "--seconds", "2", "--seed", "13",
                "--scenario", "hostile"],
}


def decoded(floord, capture, work, name):
    out = os.path.join(work, f"{name}.out.pcap")
    harness.run_floord(floord, os.path.join(GOLDEN, "floor.ini"), [capture], out, work, name)
    summary, _ = harness.decode(out)
    summary.pop("file", None)
    return json.loads(json.dumps(summary, sort_keys=True))


def regen(floord, work):
    os.makedirs(GOLDEN, exist_ok=True)
    fx = GOLDEN
    mkcapture.main(["--write-fixtures", fx, "--players", "16", "--gateways", "2"])
    harness.write_floor(os.path.join(GOLDEN, "floor.ini"), "roster.csv", "gateways.keys",
                        "rx+owner/tx", profile="../../../drivers-cfg/net_pcap.ini")
    for name, args in CASES.items():
        cap = os.path.join(GOLDEN, f"{name}.pcap")
        mkcapture.main(["--out", cap, "--roster", os.path.join(fx, "roster.csv"), "--keys",
                        os.path.join(fx, "gateways.keys"), *args])
        with open(os.path.join(GOLDEN, f"{name}.expected.json"), "w") as f:
            json.dump(decoded(floord, cap, work, name), f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"regenerated {name}")
    return 0


def check(floord, work):
    failed = 0
    for name in CASES:
        with open(os.path.join(GOLDEN, f"{name}.expected.json")) as f:
            want = json.load(f)
        got = decoded(floord, os.path.join(GOLDEN, f"{name}.pcap"), work, name)
        if got == want:
            print(f"ok   {name}: output as golden ({want['frames']} frames)")
            continue
        failed += 1
        diff = [k for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)]
        print(f"FAIL {name}: output differs from golden in {diff}")
        print("     if the change is intended: tests/replay/golden.py FLOORD regen")
    print(f"{len(CASES) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv):
    if len(argv) != 3 or argv[2] not in ("check", "regen"):
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory(prefix="fc-golden-") as work:
        return (check if argv[2] == "check" else regen)(argv[1], work)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
