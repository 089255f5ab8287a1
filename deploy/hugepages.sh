#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Hugepages for floord: reserves 2 MB and 1 GB pages per NUMA node at run time (sysfs), mounts
# hugetlbfs for each size, and prints the kernel command line that reserves the same pages at
# boot (the only reliable way to get 1 GB pages on a box that has been up for a while).
# Idempotent: a reservation already in place is left as it is; pages are never taken away
# except by --release. Installed as floorcast-hugepages; floord.service runs it before floord.
#
#   hugepages.sh [--dry-run] SPEC...     reserve at run time and mount (root)
#   hugepages.sh --check SPEC...         is it in place? exit 0 yes, 1 no; changes nothing
#   hugepages.sh --cmdline SPEC...       print the kernel command line and fstab lines for boot
#   hugepages.sh --release [--dry-run] [SIZE...]   give the pages of SIZE (default: every
#                                        size) back to the kernel, on every node (root)
#   hugepages.sh --status                pages per size and node, mounts, files left in them
#
# SPEC is SIZE:COUNT[@NODES]: COUNT pages of SIZE (2M or 1G; 2048kB, 1GB are accepted) on each
# node of NODES (a comma list such as 0 or 0,1, or "all", the default: every node with memory).
# "none" is a SPEC that asks for nothing (for profiles run with --no-huge or --in-memory on pages
# reserved elsewhere). Put the pages on the NIC's node: docs/tuning.md.
#
# Exit status: 0 done / in place, 1 not in place or could not be done, 2 usage.
# FC_SYSFS (default /sys) and FC_PROC (default /proc) are for the tests only.
set -euo pipefail

SYS=${FC_SYSFS:-/sys}
PROC=${FC_PROC:-/proc}
prog=$(basename "$0")

die() {
	echo "$prog: $*" >&2
	exit 2
}
say() { echo "$prog: $*"; }

usage() {
	sed -n '/^#   hugepages.sh/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# "2M" / "2048kB" / "1G" / "1GB" / "1048576" -> size in kB
size_kb() {
	local s=${1^^}
	s=${s%B}
	case "$s" in
	*K) echo "${s%K}" ;;
	*M) echo $((${s%M} * 1024)) ;;
	*G) echo $((${s%G} * 1024 * 1024)) ;;
	*) echo "$s" ;;
	esac
}

# 2048 -> 2M, 1048576 -> 1G
size_name() {
	local kb=$1
	if ((kb % 1048576 == 0)); then echo "$((kb / 1048576))G"; else echo "$((kb / 1024))M"; fi
}

# "0-2,5" -> "0 1 2 5"
expand_list() {
	local out=() part a b
	IFS=, read -ra parts <<<"$1"
	for part in "${parts[@]}"; do
		if [[ $part == *-* ]]; then
			a=${part%-*}
			b=${part#*-}
			for ((i = a; i <= b; i++)); do out+=("$i"); done
		elif [ -n "$part" ]; then
			out+=("$part")
		fi
	done
	echo "${out[*]}"
}

numa_nodes() {
	if [ -r "$SYS/devices/system/node/has_memory" ]; then
		expand_list "$(cat "$SYS/devices/system/node/has_memory")"
	else
		echo 0
	fi
}

default_kb() {
	awk '/^Hugepagesize:/ {print $2}' "$PROC/meminfo"
}

# The nr_hugepages file of a size on a node (the global one on a kernel without NUMA).
nr_file() {
	local kb=$1 node=$2
	local f="$SYS/devices/system/node/node$node/hugepages/hugepages-${kb}kB"
	if [ -d "$f" ]; then
		echo "$f/nr_hugepages"
	elif [ "$node" = 0 ] && [ ! -d "$SYS/devices/system/node/node0" ]; then
		echo "$SYS/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages"
	else
		echo ""
	fi
}

free_of() { cat "$(dirname "$(nr_file "$1" "$2")")/free_hugepages"; }

# The mount point of a hugetlbfs of page size kb, or nothing.
mount_of() {
	local kb=$1 def
	def=$(default_kb)
	while read -r _ dir fstype opts _; do
		[ "$fstype" = hugetlbfs ] || continue
		local ps=$def o
		IFS=, read -ra o <<<"$opts"
		for opt in "${o[@]}"; do
			[[ $opt == pagesize=* ]] && ps=$(size_kb "${opt#pagesize=}")
		done
		if [ "$ps" = "$kb" ]; then
			echo "$dir"
			return
		fi
	done <"$PROC/mounts"
}

# Where we mount a size: /dev/hugepages for the kernel's default size (what systemd's
# dev-hugepages.mount uses), /dev/hugepages-1G and the like for the others.
mount_point_for() {
	if [ "$1" = "$(default_kb)" ]; then echo /dev/hugepages; else echo "/dev/hugepages-$(size_name "$1")"; fi
}

# ---- arguments --------------------------------------------------------------------------------

mode=reserve
dry=0
specs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--check) mode=check ;;
	--cmdline) mode=cmdline ;;
	--release) mode=release ;;
	--status) mode=status ;;
	--dry-run) dry=1 ;;
	-h | --help) usage ;;
	-*) die "unknown option '$1' (--help)" ;;
	*) specs+=("$1") ;;
	esac
	shift
done

# Parsed SPECs: parallel arrays of size (kB), count per node, node list.
S_KB=()
S_N=()
S_NODES=()
S_EXPLICIT=()
parse_specs() {
	local spec size count nodes kb
	for spec in "$@"; do
		[ "$spec" = none ] && continue
		[[ $spec =~ ^([0-9]+[kKmMgG][bB]?):([0-9]+)(@([0-9,all-]+))?$ ]] ||
			die "'$spec': expected SIZE:COUNT[@NODES], e.g. 2M:1024 or 1G:4@0"
		size=${BASH_REMATCH[1]}
		count=${BASH_REMATCH[2]}
		nodes=${BASH_REMATCH[4]:-all}
		kb=$(size_kb "$size")
		[ "$kb" = 2048 ] || [ "$kb" = 1048576 ] ||
			die "'$spec': page size $size: expected 2M or 1G (x86-64)"
		if [ "$nodes" = all ]; then
			S_EXPLICIT+=(0)
			nodes=$(numa_nodes)
		else
			S_EXPLICIT+=(1)
			nodes=$(expand_list "$nodes")
			for n in $nodes; do
				[ -d "$SYS/devices/system/node/node$n" ] || [ "$n" = 0 ] ||
					die "'$spec': there is no NUMA node $n (nodes with memory: $(numa_nodes))"
			done
		fi
		S_KB+=("$kb")
		S_N+=("$count")
		S_NODES+=("$nodes")
	done
}

need_root() {
	[ "$dry" = 1 ] || [ "$(id -u)" = 0 ] || die "$1 needs root (or --dry-run)"
}

# ---- modes ------------------------------------------------------------------------------------

do_cmdline() {
	local args=() fstab=() i kb node list sizes_done=" "
	for i in "${!S_KB[@]}"; do
		kb=${S_KB[$i]}
		if [ "${S_EXPLICIT[$i]}" = 1 ]; then
			list=
			for node in ${S_NODES[$i]}; do list+="${list:+,}$node:${S_N[$i]}"; done
			args+=("hugepagesz=$(size_name "$kb")" "hugepages=$list")
		else
			# the plain form is spread evenly over the nodes: ask for COUNT on each
			read -ra list <<<"${S_NODES[$i]}"
			args+=("hugepagesz=$(size_name "$kb")" "hugepages=$((S_N[i] * ${#list[@]}))")
		fi
		if [[ $sizes_done != *" $kb "* ]] && [ "$kb" != "$(default_kb)" ]; then
			sizes_done+="$kb "
			fstab+=("hugetlbfs $(mount_point_for "$kb") hugetlbfs pagesize=$(size_name "$kb") 0 0")
		fi
	done
	[ ${#args[@]} -gt 0 ] || die "--cmdline: no SPEC"
	echo "# kernel command line (add to GRUB_CMDLINE_LINUX in /etc/default/grub, then"
	echo "# update-grub and reboot; the node:count form needs Linux 5.16 or later):"
	echo "${args[*]}"
	echo "# /etc/fstab: systemd mounts the default size ($(size_name "$(default_kb)")) on /dev/hugepages;"
	echo "# the other sizes need a line each:"
	[ ${#fstab[@]} -eq 0 ] || printf '%s\n' "${fstab[@]}"
}

# Ensures a hugetlbfs of page size kb is mounted; check-only when $1 is "check".
ensure_mount() {
	local what=$1 kb=$2 dir
	dir=$(mount_of "$kb")
	if [ -n "$dir" ]; then
		say "ok    hugetlbfs $(size_name "$kb") mounted on $dir"
		return 0
	fi
	dir=$(mount_point_for "$kb")
	if [ "$what" = check ]; then
		say "MISSING hugetlbfs $(size_name "$kb") is not mounted (expected on $dir)"
		return 1
	fi
	if [ "$dry" = 1 ]; then
		say "would run: mkdir -p $dir && mount -t hugetlbfs -o pagesize=$(size_name "$kb") hugetlbfs $dir"
		return 0
	fi
	need_root "mounting hugetlbfs"
	mkdir -p "$dir"
	mount -t hugetlbfs -o "pagesize=$(size_name "$kb")" hugetlbfs "$dir"
	say "done  hugetlbfs $(size_name "$kb") mounted on $dir"
}

# Writes n to a nr_hugepages file and returns what the kernel actually reserved.
set_pages() {
	echo "$2" >"$1" 2>/dev/null || true
	cat "$1"
}

do_reserve() {
	local what=$1 rc=0 i kb node want f cur got sizes=" "
	[ ${#specs[@]} -gt 0 ] || die "no SPEC (e.g. 2M:1024@0; --help)"
	if [ ${#S_KB[@]} -eq 0 ]; then
		say "ok    nothing asked (none)"
		return 0
	fi
	for i in "${!S_KB[@]}"; do
		kb=${S_KB[$i]}
		want=${S_N[$i]}
		for node in ${S_NODES[$i]}; do
			f=$(nr_file "$kb" "$node")
			if [ -z "$f" ] || [ ! -e "$f" ]; then
				say "FAIL  node $node: this kernel or CPU has no $(size_name "$kb") pages ($SYS/kernel/mm/hugepages)"
				rc=1
				continue
			fi
			cur=$(cat "$f")
			if ((cur >= want)); then
				say "ok    node $node: $cur x $(size_name "$kb") reserved ($want wanted), $(free_of "$kb" "$node") free"
				continue
			fi
			if [ "$what" = check ]; then
				say "MISSING node $node: $cur x $(size_name "$kb") reserved, $want wanted"
				rc=1
				continue
			fi
			if [ "$dry" = 1 ]; then
				say "would write $want to $f (now $cur)"
				continue
			fi
			need_root "reserving hugepages"
			got=$(set_pages "$f" "$want")
			if ((got < want)) && [ -w "$PROC/sys/vm/compact_memory" ]; then
				# fragmented memory: compact once and try again
				echo 1 >"$PROC/sys/vm/compact_memory" 2>/dev/null || true
				got=$(set_pages "$f" "$want")
			fi
			if ((got < want)); then
				set_pages "$f" "$cur" >/dev/null
				say "FAIL  node $node: only $got of $want $(size_name "$kb") pages could be reserved at run time (memory is fragmented or short); left at $cur. Reserve them at boot: $prog --cmdline ${specs[*]}"
				rc=1
				continue
			fi
			say "done  node $node: $got x $(size_name "$kb") reserved (was $cur)"
		done
		if [[ $sizes != *" $kb "* ]]; then
			sizes+="$kb "
			ensure_mount "$what" "$kb" || rc=1
		fi
	done
	return $rc
}

do_release() {
	local rc=0 kb node f left sizes=()
	need_root "releasing hugepages"
	if [ ${#specs[@]} -eq 0 ]; then
		for d in "$SYS"/kernel/mm/hugepages/hugepages-*kB; do
			[ -d "$d" ] || continue
			kb=${d##*hugepages-}
			sizes+=("${kb%kB}")
		done
	else
		for s in "${specs[@]}"; do
			[[ ${s%%:*} =~ ^[0-9]+[kKmMgG][bB]?$ ]] || die "--release '$s': expected a SIZE (2M, 1G)"
			sizes+=("$(size_kb "${s%%:*}")")
		done
	fi
	for kb in "${sizes[@]}"; do
		for node in $(numa_nodes); do
			f=$(nr_file "$kb" "$node")
			if [ -z "$f" ] || [ ! -e "$f" ]; then continue; fi
			[ "$(cat "$f")" != 0 ] || continue
			if [ "$dry" = 1 ]; then
				say "would write 0 to $f (now $(cat "$f"))"
				continue
			fi
			left=$(set_pages "$f" 0)
			if [ "$left" != 0 ]; then
				say "FAIL  node $node: $left x $(size_name "$kb") pages still in use (a running DPDK process, or files left in hugetlbfs: $prog --status)"
				rc=1
			else
				say "done  node $node: $(size_name "$kb") pages released"
			fi
		done
	done
	return $rc
}

do_status() {
	local d kb node f dir
	echo "page size  node  reserved  free  surplus"
	for d in "$SYS"/kernel/mm/hugepages/hugepages-*kB; do
		[ -d "$d" ] || continue
		kb=${d##*hugepages-}
		kb=${kb%kB}
		for node in $(numa_nodes); do
			f=$(nr_file "$kb" "$node")
			if [ -z "$f" ] || [ ! -e "$f" ]; then continue; fi
			printf '%-10s %-5s %-9s %-5s %s\n' "$(size_name "$kb")" "$node" "$(cat "$f")" \
				"$(free_of "$kb" "$node")" "$(cat "$(dirname "$f")/surplus_hugepages")"
		done
		dir=$(mount_of "$kb")
		if [ -z "$dir" ]; then
			echo "  $(size_name "$kb"): no hugetlbfs mounted"
			continue
		fi
		echo "  $(size_name "$kb"): hugetlbfs on $dir"
		# Files a DPDK process left behind keep their pages until removed (or until the next
		# start with the same --file-prefix): floord runs with --in-memory to leave none.
		find "$dir" -maxdepth 1 -type f -printf '%f\n' 2>/dev/null | sed 's/map_[0-9]*$//' |
			sort | uniq -c | while read -r n prefix; do
				echo "    $n file(s) of prefix '$prefix' ($((n * kb / 1024)) MiB)"
			done
	done
	echo "transparent hugepages: $(cat "$SYS/kernel/mm/transparent_hugepage/enabled" 2>/dev/null || echo n/a)"
}

case "$mode" in
status) do_status ;;
cmdline)
	parse_specs "${specs[@]}"
	do_cmdline
	;;
release) do_release ;;
check)
	parse_specs "${specs[@]}"
	do_reserve check
	;;
reserve)
	parse_specs "${specs[@]}"
	do_reserve reserve
	;;
esac
