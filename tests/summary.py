#!/usr/bin/env python3
# Prints "N passed, N failed, N skipped" from meson test's own log(s) (meson-logs/testlog.json),
# summed over every log given: the plain last line CI reads. A run that tested nothing shows 0.
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        f = open(path)
    except OSError:
        # No log: the build or the setup failed before meson test ran. That is a failure.
        print(f"summary: {path} missing: its build did not get as far as the tests")
        failed += 1
        continue
    with f:
        for line in f:
            if not line.strip():
                continue
            result = json.loads(line)["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:  # FAIL, ERROR, TIMEOUT, UNEXPECTEDPASS, INTERRUPT
                failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
