#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Binds the floor NIC to vfio-pci for floord (and back), around Debian's dpdk-devbind.py
# (package dpdk), with the checks dpdk-devbind.py leaves to you: the IOMMU is on, vfio-pci
# is there, the device's IOMMU group can be handed over whole, and the NIC is not the host's
# management interface (the one with the default route, or the SSH session you are typing in).
# Installed as floorcast-bind-nic.
#
#   bind-nic.sh status                  every NIC: driver, interface, NUMA node, IOMMU group,
#                                       management or not, the drivers-cfg profile it takes
#   bind-nic.sh check DEV               the checks for binding DEV; exit 0 if it may be bound
#   bind-nic.sh bind DEV [--dry-run] [--force]
#                                       check, load vfio-pci, bind; the kernel driver it had is
#                                       remembered in /run/floorcast/bind-nic/ for unbind
#   bind-nic.sh unbind DEV [--driver DRV] [--dry-run]
#                                       give DEV back to its kernel driver (remembered, or DRV)
#
# DEV is a PCI address (0000:3b:00.0 or 3b:00.0) or a kernel interface name (enp59s0f0).
# --force lets through an interface that is up with addresses or routes (dpdk-devbind.py's
# "*Active*"); nothing lets through the default route's interface or the SSH session's.
# NVIDIA ConnectX (mlx5) is never bound: its PMD runs beside the kernel driver (drivers-cfg/
# mlx5.ini). Binding is lost at reboot: for boot, list the NIC in /etc/dpdk/interfaces
# ("pci 0000:3b:00.0 vfio-pci", read by Debian's dpdk.service), see docs/operations.md.
#
# Exit status: 0 done / may be bound, 1 refused or failed, 2 usage.
# FC_SYSFS (default /sys), FC_STATE (default /run/floorcast/bind-nic) are for the tests only.
set -euo pipefail

SYS=${FC_SYSFS:-/sys}
STATE=${FC_STATE:-/run/floorcast/bind-nic}
DEVBIND=${FC_DEVBIND:-dpdk-devbind.py}
prog=$(basename "$0")

die() {
	echo "$prog: $*" >&2
	exit 2
}
ok() { echo "ok    $*"; }
warn() { echo "warn  $*"; }
fail() {
	echo "FAIL  $*"
	FAILED=1
}
FAILED=0

usage() {
	sed -n '/^#   bind-nic.sh status/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# ---- what the system says about a device ------------------------------------------------------

# "3b:00.0" -> "0000:3b:00.0"; an interface name -> its PCI address; nothing if unknown.
resolve() {
	local d=$1 p
	[[ $d =~ ^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] && d="0000:$d"
	if [ -e "$SYS/bus/pci/devices/$d" ]; then
		echo "${d,,}"
		return
	fi
	if [ -e "$SYS/class/net/$d/device" ]; then
		# virtio's netdev hangs off a virtioN child of the PCI device: walk up to the PCI one
		p=$(readlink -f "$SYS/class/net/$d/device")
		while [ "$p" != / ] && [ -n "$p" ]; do
			if [[ $(basename "$p") =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]]; then
				basename "$p"
				return
			fi
			p=$(dirname "$p")
		done
	fi
}

dev_path() { echo "$SYS/bus/pci/devices/$1"; }
driver_of() {
	local l
	l=$(readlink "$(dev_path "$1")/driver" 2>/dev/null) || return 0
	basename "$l"
}
attr() { cat "$(dev_path "$1")/$2" 2>/dev/null || echo "?"; }

# The kernel interfaces of a PCI device (directly, or under a virtio child).
ifaces_of() {
	local bdf=$1 real n
	real=$(readlink -f "$(dev_path "$bdf")")
	for n in "$SYS"/class/net/*; do
		[ -e "$n/device" ] || continue
		case "$(readlink -f "$n/device")" in
		"$real" | "$real"/*) basename "$n" ;;
		esac
	done
}

iommu_group_of() {
	local l
	l=$(readlink "$(dev_path "$1")/iommu_group" 2>/dev/null) || return 0
	basename "$l"
}

noiommu_mode() {
	[ "$(cat "$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode" 2>/dev/null)" = Y ]
}

vfio_loaded() { [ -d "$SYS/bus/pci/drivers/vfio-pci" ]; }
vfio_available() { vfio_loaded || modprobe -n vfio-pci >/dev/null 2>&1; }

# Why an interface is the management interface, or nothing. Hard reasons cannot be forced.
mgmt_hard() {
	local ifc=$1 ssh_ip
	if ip -o route show default 2>/dev/null | grep -qw "dev $ifc" ||
		ip -o -6 route show default 2>/dev/null | grep -qw "dev $ifc"; then
		echo "it carries the default route"
		return
	fi
	if [ -n "${SSH_CONNECTION:-}" ]; then
		ssh_ip=$(awk '{print $3}' <<<"$SSH_CONNECTION")
		if ip -o addr show dev "$ifc" 2>/dev/null | grep -qw "${ssh_ip%%%*}"; then
			echo "this SSH session ($ssh_ip) runs over it"
		fi
	fi
}
mgmt_soft() {
	local ifc=$1 addrs
	addrs=$(ip -o addr show dev "$ifc" scope global 2>/dev/null | awk '{print $4}' | paste -sd, -)
	if [ -n "$addrs" ]; then
		echo "it has addresses ($addrs)"
		return
	fi
	if [ -n "$(ip -o route show dev "$ifc" 2>/dev/null)" ]; then
		echo "it has routes"
	fi
}

profile_for() {
	case "$1" in
	ixgbe | ixgbevf) echo ixgbe.ini ;;
	i40e) echo i40e.ini ;;
	ice) echo ice.ini ;;
	virtio-pci) echo virtio.ini ;;
	mlx5_core) echo "mlx5.ini (no binding)" ;;
	*) echo "-" ;;
	esac
}

# ---- checks -----------------------------------------------------------------------------------

# Runs every check for binding $1; sets FAILED. $2 = 1 when --force.
checks() {
	local bdf=$1 force=$2 drv class grp ifc why other others=()
	drv=$(driver_of "$bdf")
	class=$(attr "$bdf" class)
	if [[ $class != 0x02* ]]; then
		fail "$bdf is not a network controller (PCI class $class)"
		return
	fi
	ok "$bdf: network controller $(attr "$bdf" vendor):$(attr "$bdf" device), driver ${drv:-none}, NUMA node $(attr "$bdf" numa_node)"
	if [ "$drv" = mlx5_core ] || [ "$(attr "$bdf" vendor)" = 0x15b3 ]; then
		fail "$bdf is an NVIDIA/Mellanox NIC: its PMD (mlx5) works beside mlx5_core; do not bind it (drivers-cfg/mlx5.ini)"
		return
	fi
	if [ "$drv" = vfio-pci ]; then
		ok "$bdf is already bound to vfio-pci"
	fi
	for ifc in $(ifaces_of "$bdf"); do
		why=$(mgmt_hard "$ifc")
		if [ -n "$why" ]; then
			fail "$ifc ($bdf) is the management interface: $why. floord needs a NIC of its own"
			continue
		fi
		why=$(mgmt_soft "$ifc")
		if [ -n "$why" ] && [ "$force" = 1 ]; then
			warn "$ifc ($bdf) is in use by the kernel: $why; going on (--force)"
		elif [ -n "$why" ]; then
			fail "$ifc ($bdf) is in use by the kernel: $why. Take it down first, or --force"
		else
			ok "$ifc ($bdf) carries no address and no route"
		fi
	done
	grp=$(iommu_group_of "$bdf")
	if [ -n "$grp" ]; then
		ok "IOMMU on: $bdf is in IOMMU group $grp"
		for other in "$SYS/kernel/iommu_groups/$grp/devices"/*; do
			other=$(basename "$other")
			[ "$other" = "$bdf" ] && continue
			case "$(driver_of "$other")" in
			"" | vfio-pci | pcieport) ;;
			*) others+=("$other ($(driver_of "$other"))") ;;
			esac
		done
		if [ ${#others[@]} -gt 0 ]; then
			fail "IOMMU group $grp also holds ${others[*]}: vfio-pci takes a group whole; bind those too, or put the NIC in a slot with its own group (ACS)"
		fi
	elif noiommu_mode; then
		warn "no IOMMU, vfio in unsafe no-IOMMU mode: works (VMs without a vIOMMU), but DMA is unprotected and floord needs CAP_SYS_RAWIO and physical addresses (docs/operations.md)"
	else
		fail "no IOMMU for $bdf: enable VT-d / AMD-Vi in the firmware and boot with intel_iommu=on iommu=pt (docs/tuning.md); in a VM without a vIOMMU: modprobe vfio enable_unsafe_noiommu_mode=1"
	fi
	if vfio_loaded; then
		ok "vfio-pci is loaded"
	elif vfio_available; then
		ok "vfio-pci is available (bind loads it)"
	else
		fail "the vfio-pci module is not available in this kernel (/lib/modules/$(uname -r))"
	fi
	if ! command -v "$DEVBIND" >/dev/null 2>&1; then
		fail "$DEVBIND not found: apt-get install dpdk"
	fi
}

# ---- commands ---------------------------------------------------------------------------------

do_status() {
	local d bdf drv ifc why grp n=0
	printf '%-13s %-10s %-11s %-16s %-5s %-6s %-28s %s\n' PCI vendor:dev driver interface node iommu management profile
	for d in "$SYS"/bus/pci/devices/*; do
		bdf=$(basename "$d")
		[[ $(attr "$bdf" class) == 0x02* ]] || continue
		n=$((n + 1))
		drv=$(driver_of "$bdf")
		ifc=$(ifaces_of "$bdf" | paste -sd, -)
		why=
		for i in ${ifc//,/ }; do why=$(mgmt_hard "$i"); done
		grp=$(iommu_group_of "$bdf")
		printf '%-13s %-10s %-11s %-16s %-5s %-6s %-28s %s\n' "$bdf" \
			"$(attr "$bdf" vendor | sed 's/0x//'):$(attr "$bdf" device | sed 's/0x//')" \
			"${drv:-none}" "${ifc:--}" "$(attr "$bdf" numa_node)" "${grp:--}" \
			"${why:+yes: $why}" "$(profile_for "${drv:-$(cat "$STATE/$bdf" 2>/dev/null || true)}")"
	done
	[ "$n" -gt 0 ] || echo "(no network controller on the PCI bus)"
	echo
	if [ -n "$(ls -A "$SYS/kernel/iommu_groups" 2>/dev/null)" ]; then
		ok "IOMMU on ($(find "$SYS/kernel/iommu_groups" -mindepth 1 -maxdepth 1 | wc -l) groups)"
	elif noiommu_mode; then
		warn "no IOMMU; vfio in unsafe no-IOMMU mode"
	else
		warn "no IOMMU: vfio-pci cannot be used (VT-d / AMD-Vi off, or intel_iommu=on missing)"
	fi
	if vfio_loaded; then ok "vfio-pci loaded"; elif vfio_available; then ok "vfio-pci available"; else warn "vfio-pci not available"; fi
	if command -v "$DEVBIND" >/dev/null 2>&1; then
		echo
		"$DEVBIND" --status-dev net 2>&1 | grep -v 'libkmod' || true
	fi
}

do_bind() {
	local bdf=$1 dry=$2 force=$3 drv
	checks "$bdf" "$force"
	if [ "$FAILED" = 1 ]; then
		echo "$prog: not binding $bdf" >&2
		exit 1
	fi
	drv=$(driver_of "$bdf")
	[ "$drv" = vfio-pci ] && exit 0
	if [ "$dry" = 1 ]; then
		vfio_loaded || echo "would run: modprobe vfio-pci"
		echo "would run: $DEVBIND --bind=vfio-pci $bdf"
		echo "would remember ${drv:-none} in $STATE/$bdf"
		exit 0
	fi
	[ "$(id -u)" = 0 ] || die "bind needs root (or --dry-run)"
	vfio_loaded || modprobe vfio-pci
	mkdir -p "$STATE"
	[ -z "$drv" ] || echo "$drv" >"$STATE/$bdf"
	"$DEVBIND" --bind=vfio-pci "$bdf"
	# dpdk-devbind.py prints its errors but exits 0: look at the result
	if [ "$(driver_of "$bdf")" != vfio-pci ]; then
		echo "$prog: $bdf is not bound to vfio-pci after $DEVBIND (see its message above)" >&2
		exit 1
	fi
	ok "$bdf bound to vfio-pci (was ${drv:-none}); floord takes it with -a $bdf"
}

do_unbind() {
	local bdf=$1 dry=$2 want=$3 drv
	drv=$(driver_of "$bdf")
	[ -n "$want" ] || want=$(cat "$STATE/$bdf" 2>/dev/null || true)
	[ -n "$want" ] || die "$bdf: no kernel driver remembered; give one with --driver (e.g. ixgbe, i40e, ice, virtio-pci)"
	if [ "$drv" = "$want" ]; then
		ok "$bdf is already bound to $want"
		exit 0
	fi
	if [ "$dry" = 1 ]; then
		echo "would run: $DEVBIND --bind=$want $bdf"
		exit 0
	fi
	[ "$(id -u)" = 0 ] || die "unbind needs root (or --dry-run)"
	"$DEVBIND" --bind="$want" "$bdf"
	if [ "$(driver_of "$bdf")" != "$want" ]; then
		echo "$prog: $bdf is not bound to $want after $DEVBIND" >&2
		exit 1
	fi
	rm -f "$STATE/$bdf"
	ok "$bdf given back to $want"
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
dry=0
force=0
driver=
dev=
while [ $# -gt 0 ]; do
	case "$1" in
	--dry-run) dry=1 ;;
	--force) force=1 ;;
	--driver)
		[ $# -ge 2 ] || die "--driver needs a value"
		driver=$2
		shift
		;;
	--driver=*) driver=${1#--driver=} ;;
	-h | --help) usage ;;
	-*) die "unknown option '$1' (--help)" ;;
	*)
		[ -z "$dev" ] || die "one device at a time ('$dev', then '$1')"
		dev=$1
		;;
	esac
	shift
done

case "$cmd" in
status) do_status ;;
check | bind | unbind)
	[ -n "$dev" ] || die "$cmd: which device? (a PCI address or an interface name)"
	bdf=$(resolve "$dev")
	[ -n "$bdf" ] || {
		echo "$prog: $dev: no such PCI device or interface ($prog status lists the NICs)" >&2
		exit 1
	}
	case "$cmd" in
	check)
		checks "$bdf" "$force"
		exit "$FAILED"
		;;
	bind) do_bind "$bdf" "$dry" "$force" ;;
	unbind) do_unbind "$bdf" "$dry" "$driver" ;;
	esac
	;;
-h | --help) usage ;;
*) die "unknown command '$cmd' (status, check, bind, unbind)" ;;
esac
