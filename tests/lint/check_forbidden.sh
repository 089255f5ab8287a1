#!/usr/bin/env bash
# lint: the forbidden tokens of STYLE.md.
#  - no __sync_ builtins anywhere (use C11 atomics or rte_atomic_*);
#  - no rte_panic / rte_exit in lib/ (only app/ may end the process);
#  - nothing that allocates, locks, logs or prints in fast-path files (*_fp.c, *_fp.h).
set -uo pipefail
cd "${1:-$(dirname "$0")/../..}"
bad=0

report() { # pattern, description, files...
	local pat=$1 what=$2
	shift 2
	[ $# -gt 0 ] || return 0
	# strip // and /* */ comment lines crudely: only code lines count
	if grep -nE "$pat" "$@" | grep -vE '^[^:]+:[0-9]+:\s*(\*|/\*|//)'; then
		echo "forbidden: $what" >&2
		bad=1
	fi
}

mapfile -t all < <(find app lib tests perf -name '*.[ch]' -not -path '*/corpus/*' | sort)
mapfile -t libs < <(find lib -name '*.[ch]' | sort)
mapfile -t fp < <(find lib app -name '*_fp.[ch]' | sort)

report '__sync_' '__sync_ builtins' "${all[@]}"
report '\brte_(panic|exit)\b' 'rte_panic/rte_exit in lib/' "${libs[@]}"
report '\b(malloc|calloc|realloc|free|rte_malloc|rte_zmalloc|rte_free|strdup)\s*\(' \
	'allocation in a fast-path file' "${fp[@]}"
report '\b(printf|fprintf|puts|RTE_LOG|syslog)\s*\(|pthread_mutex|rte_spinlock_lock' \
	'logging, printing or locking in a fast-path file' "${fp[@]}"

[ $bad -eq 0 ] && echo "no forbidden tokens in ${#all[@]} files (${#fp[@]} fast-path)"
exit $bad
