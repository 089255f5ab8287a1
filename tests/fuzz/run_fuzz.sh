#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs one libFuzzer harness for the fuzz suite (meson 1.0's test() cannot run a custom_target
# itself) and, when it fails, says which input was saved and how to replay it.
#   run_fuzz.sh FUZZER ARTIFACT_PREFIX [libFuzzer options and corpus directories...]
set -u
fuzzer=$1
prefix=$2
shift 2
"$fuzzer" -artifact_prefix="$prefix" "$@"
rc=$?
if [ $rc -ne 0 ]; then
	shopt -s nullglob
	for f in "$prefix"*; do
		echo "fuzz: input saved as $f; replay with: $fuzzer $f" >&2
	done
fi
exit $rc
