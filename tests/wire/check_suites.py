#!/usr/bin/env python3
# Fails if a Criterion binary has a TestSuite that meson does not run (tests/*/meson.build
# registers one meson test per suite by --filter; a new suite must be added there).
import re
import subprocess
import sys

binary, registered = sys.argv[1], set(sys.argv[2:])
out = subprocess.run([binary, "--list"], capture_output=True, text=True, check=True).stdout
suites = {m.group(1) for m in re.finditer(r"^(\w+): \d+ tests?$", out, re.M)}
missing = suites - registered
extra = registered - suites
if missing or extra:
    print(f"suites in {binary} not registered in meson: {sorted(missing)}; "
          f"registered but absent: {sorted(extra)}")
    sys.exit(1)
print(f"{len(suites)} suites, all registered")
