#!/usr/bin/env bash
# The main job: a replayed 400-player game through floord, with its report.
# floord (the data plane) is not built yet: this says so plainly instead of pretending.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
meson setup build >/dev/null 2>&1 || meson setup --reconfigure build >/dev/null
meson compile -C build >/dev/null
if [ ! -x build/app/floord/floord ]; then
	echo "demo: floord is not built yet (the data plane is issue 3); nothing to replay." >&2
	echo "demo: what exists now: the wire codec and its tests -> bash tests/run" >&2
	exit 2
fi
