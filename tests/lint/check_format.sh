#!/usr/bin/env bash
# lint: every C file of the project is formatted as .clang-format says (STYLE.md, "Tooling").
# Fix with: clang-format -i FILE
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
mapfile -t files < <(find app lib tests perf -name '*.[ch]' -not -path '*/corpus/*' | sort)
if [ ${#files[@]} -eq 0 ]; then
	echo "no C files found: wrong directory?" >&2
	exit 1
fi
clang-format --dry-run --Werror "${files[@]}"
echo "${#files[@]} C files formatted"
