#!/usr/bin/env python3
"""deploy/bind-nic.sh without binding anything: its status and refusals on this machine's real
PCI devices (the management NIC, a device that is not a NIC, one that does not exist), and every
check and the dry-run commands on fake sysfs trees (a NIC ready for vfio-pci, one sharing its
IOMMU group, one without an IOMMU, with vfio's no-IOMMU mode, a ConnectX, an interface that is
the host's default route)."""

import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from deploylib import DEPLOY, Checks, run  # noqa: E402

SCRIPT = os.path.join(DEPLOY, "bind-nic.sh")


def default_route_iface():
    p = subprocess.run(["ip", "-o", "route", "show", "default"], capture_output=True, text=True)
    f = p.stdout.split()
    return f[f.index("dev") + 1] if "dev" in f else None


class FakeSys:
    """A sysfs tree with PCI devices, IOMMU groups, net interfaces and drivers."""

    def __init__(self, base):
        self.sys = os.path.join(base, "sys")
        os.makedirs(os.path.join(self.sys, "bus/pci/drivers/vfio-pci"))
        os.makedirs(os.path.join(self.sys, "class/net"))
        os.makedirs(os.path.join(self.sys, "kernel/iommu_groups"))

    def nic(self, bdf, vendor="0x8086", device="0x10fb", driver="ixgbe", iface=None, group=None,
            cls="0x020000"):
        d = os.path.join(self.sys, "bus/pci/devices", bdf)
        os.makedirs(d)
        for k, v in (("class", cls), ("vendor", vendor), ("device", device), ("numa_node", "1")):
            with open(os.path.join(d, k), "w") as f:
                f.write(v + "\n")
        if driver:
            os.makedirs(os.path.join(self.sys, "bus/pci/drivers", driver), exist_ok=True)
            os.symlink(os.path.join(self.sys, "bus/pci/drivers", driver), os.path.join(d, "driver"))
        if group is not None:
            g = os.path.join(self.sys, "kernel/iommu_groups", str(group))
            os.makedirs(os.path.join(g, "devices"), exist_ok=True)
            os.symlink(d, os.path.join(g, "devices", bdf))
            os.symlink(g, os.path.join(d, "iommu_group"))
        if iface:
            os.makedirs(os.path.join(self.sys, "class/net", iface))
            os.symlink(d, os.path.join(self.sys, "class/net", iface, "device"))

    def noiommu(self):
        p = os.path.join(self.sys, "module/vfio/parameters")
        os.makedirs(p)
        with open(os.path.join(p, "enable_unsafe_noiommu_mode"), "w") as f:
            f.write("Y\n")


def main():
    ok = Checks()
    env0 = {"SSH_CONNECTION": ""}

    # ---- this machine, read only ----
    rc, out = run(["bash", SCRIPT, "status"], env0)
    ok(rc == 0 and out.startswith("PCI "), "status lists the NICs (exit 0)", out)
    rc, out = run(["bash", SCRIPT, "check", "0000:ff:1f.7"], env0)
    ok(rc == 1 and "no such PCI device or interface" in out, "an unknown device: exit 1", out)
    for args in ([], ["check"], ["frobnicate", "x"], ["bind", "a", "b"]):
        rc, out = run(["bash", SCRIPT, *args], env0)
        ok(rc == 2, f"usage {args}: exit 2", out)
    mgmt = default_route_iface()
    if mgmt and os.path.exists(f"/sys/class/net/{mgmt}/device"):
        for force in ([], ["--force"]):
            rc, out = run(["bash", SCRIPT, "bind", mgmt, "--dry-run", *force], env0)
            ok(rc == 1 and "is the management interface: it carries the default route" in out
               and "would run" not in out,
               f"this host's default-route NIC ({mgmt}) is refused, {force or 'without --force'}",
               out)
    else:
        print("no PCI NIC carries the default route here: that refusal is checked on a fake tree")
    for d in sorted(os.listdir("/sys/bus/pci/devices")):
        with open(f"/sys/bus/pci/devices/{d}/class") as f:
            if not f.read().startswith("0x02"):
                rc, out = run(["bash", SCRIPT, "check", d], env0)
                ok(rc == 1 and "is not a network controller" in out,
                   f"{d}, not a NIC, is refused", out)
                break

    # ---- fake trees ----
    with tempfile.TemporaryDirectory(prefix="fc-bind-") as work:
        fs = FakeSys(os.path.join(work, "a"))
        fs.nic("0000:aa:00.0", iface="fcfake0", group=7)
        fs.nic("0000:aa:00.1", iface="fcfake1", group=8)
        fs.nic("0000:aa:00.2", group=8, driver="e1000e", device="0x10d3")
        fs.nic("0000:bb:00.0", iface="fcfake2")
        fs.nic("0000:cc:00.0", vendor="0x15b3", device="0x1017", driver="mlx5_core", group=9)
        if mgmt:
            fs.nic("0000:dd:00.0", iface=mgmt, group=10)
        state = os.path.join(work, "state")
        env = dict(env0, FC_SYSFS=fs.sys, FC_STATE=state, FC_DEVBIND="true")

        rc, out = run(["bash", SCRIPT, "check", "aa:00.0"], env)
        ok(rc == 0 and "IOMMU on: 0000:aa:00.0 is in IOMMU group 7" in out
           and "fcfake0 (0000:aa:00.0) carries no address and no route" in out
           and "vfio-pci is loaded" in out and "FAIL" not in out,
           "a NIC with its own IOMMU group, no address, vfio-pci loaded: may be bound", out)
        rc, out = run(["bash", SCRIPT, "check", "fcfake0"], env)
        ok(rc == 0 and "0000:aa:00.0" in out, "an interface name resolves to its PCI address", out)
        rc, out = run(["bash", SCRIPT, "bind", "0000:aa:00.0", "--dry-run"], env)
        ok(rc == 0 and "would run: true --bind=vfio-pci 0000:aa:00.0" in out
           and "would remember ixgbe" in out and not os.path.exists(state),
           "bind --dry-run: the dpdk-devbind.py command, and nothing done", out)
        rc, out = run(["bash", SCRIPT, "check", "0000:aa:00.1"], env)
        ok(rc == 1 and "IOMMU group 8 also holds 0000:aa:00.2 (e1000e)" in out,
           "a NIC sharing its IOMMU group with a device in use is refused", out)
        rc, out = run(["bash", SCRIPT, "check", "0000:bb:00.0"], env)
        ok(rc == 1 and "no IOMMU for 0000:bb:00.0" in out and "intel_iommu=on" in out,
           "no IOMMU: refused, with what to turn on", out)
        rc, out = run(["bash", SCRIPT, "check", "0000:cc:00.0"], env)
        ok(rc == 1 and "do not bind it" in out, "a ConnectX (mlx5, bifurcated) is never bound", out)
        if mgmt:
            rc, out = run(["bash", SCRIPT, "bind", "0000:dd:00.0", "--dry-run", "--force"], env)
            ok(rc == 1 and "is the management interface" in out,
               f"a NIC whose interface ({mgmt}) has the default route: refused even with --force",
               out)
        os.makedirs(state)
        with open(os.path.join(state, "0000:aa:00.0"), "w") as f:
            f.write("ixgbe\n")
        rc, out = run(["bash", SCRIPT, "unbind", "0000:aa:00.0", "--dry-run"], env)
        ok(rc == 0 and "already bound to ixgbe" in out, "unbind of a NIC on its kernel driver: done",
           out)
        rc, out = run(["bash", SCRIPT, "unbind", "0000:bb:00.0", "--dry-run", "--driver", "i40e"],
                      env)
        ok(rc == 0 and "would run: true --bind=i40e 0000:bb:00.0" in out,
           "unbind --driver: gives the NIC to the named kernel driver", out)
        rc, out = run(["bash", SCRIPT, "status"], env)
        ok(rc == 0 and "0000:aa:00.0" in out and "ixgbe.ini" in out
           and "mlx5.ini (no binding)" in out and "0000:aa:00.2" in out,
           "status: every NIC with its profile", out)

        fs2 = FakeSys(os.path.join(work, "b"))
        fs2.nic("0000:00:04.0", vendor="0x1af4", device="0x1041", driver="virtio-pci",
                iface="fcfake3")
        fs2.noiommu()
        rc, out = run(["bash", SCRIPT, "check", "0000:00:04.0"], dict(env, FC_SYSFS=fs2.sys))
        ok(rc == 0 and "unsafe no-IOMMU mode" in out,
           "vfio's no-IOMMU mode (a VM without vIOMMU): allowed, with a warning", out)
    return ok.exit()


if __name__ == "__main__":
    sys.exit(main())
