#!/usr/bin/env python3
"""deploy/hugepages.sh.

  test_hugepages.py logic        on a fake sysfs/proc tree: reserve per node, idempotence,
                                 --check, --cmdline, a kernel that grants fewer pages, usage
  test_hugepages.py live FLOORD  as root on this machine: 2 MB pages reserved, checked and
                                 mounted; 1 GB pages if the kernel gives one (skipped if not);
                                 floord replays a capture on real hugepages, then runs live with
                                 the unit's --in-memory and leaves nothing behind; the files a
                                 default run leaves are shown by --status; everything released
                                 and the machine put back as it was."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from deploylib import DEPLOY, Checks, harness, hp_read, hp_write, hugetlbfs_mounts, run, skip  # noqa: E402

SCRIPT = os.path.join(DEPLOY, "hugepages.sh")


def fake_tree(base):
    """Two NUMA nodes, 2 MB and 1 GB pages, both sizes mounted; returns (sys, proc)."""
    sysd, procd = os.path.join(base, "sys"), os.path.join(base, "proc")
    os.makedirs(os.path.join(sysd, "devices/system/node"))
    with open(os.path.join(sysd, "devices/system/node/has_memory"), "w") as f:
        f.write("0-1\n")
    for kb in (2048, 1048576):
        os.makedirs(os.path.join(sysd, f"kernel/mm/hugepages/hugepages-{kb}kB"))
        for node in (0, 1):
            d = os.path.join(sysd, f"devices/system/node/node{node}/hugepages/hugepages-{kb}kB")
            os.makedirs(d)
            for name in ("nr_hugepages", "free_hugepages", "surplus_hugepages"):
                with open(os.path.join(d, name), "w") as f:
                    f.write("0\n")
    os.makedirs(os.path.join(procd, "sys/vm"))
    with open(os.path.join(procd, "sys/vm/compact_memory"), "w") as f:
        f.write("")
    with open(os.path.join(procd, "meminfo"), "w") as f:
        f.write("MemTotal:       16000000 kB\nHugepagesize:       2048 kB\n")
    with open(os.path.join(procd, "mounts"), "w") as f:
        f.write("hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
                "none /dev/hugepages-1G hugetlbfs rw,relatime,pagesize=1024M 0 0\n")
    return sysd, procd


def nr(sysd, kb, node):
    with open(os.path.join(sysd, f"devices/system/node/node{node}/hugepages/hugepages-{kb}kB/nr_hugepages")) as f:
        return int(f.read())


def logic():
    ok = Checks()
    root = os.getuid() == 0
    with tempfile.TemporaryDirectory(prefix="fc-hp-logic-") as work:
        sysd, procd = fake_tree(work)
        env = {"FC_SYSFS": sysd, "FC_PROC": procd}

        rc, out = run(["bash", SCRIPT, "--check", "2M:512@1", "1G:2@0"], env)
        ok(rc == 1 and "MISSING node 1: 0 x 2M reserved, 512 wanted" in out,
           "--check: pages missing on the asked node: exit 1, says what is missing", out)
        ok("ok    hugetlbfs 1G mounted on /dev/hugepages-1G" in out,
           "--check: a hugetlbfs mount is recognised by its pagesize= (1024M = 1G)", out)
        rc, out = run(["bash", SCRIPT, "--cmdline", "2M:512@1", "1G:2@0,1", "2M:16"], env)
        ok(rc == 0 and "hugepagesz=2M hugepages=1:512 hugepagesz=1G hugepages=0:2,1:2 "
           "hugepagesz=2M hugepages=32" in out,
           "--cmdline: node:count form for named nodes, COUNT x nodes for all", out)
        ok("hugetlbfs /dev/hugepages-1G hugetlbfs pagesize=1G 0 0" in out,
           "--cmdline: an fstab line for the size systemd does not mount", out)
        for bad in (["3M:1"], ["2M"], ["2M:1@5"], ["--nope"], []):
            rc, out = run(["bash", SCRIPT, *bad], env)
            ok(rc == 2 and out.strip(), f"usage error {bad or '(no SPEC)'}: exit 2 with a message",
               out)
        rc, out = run(["bash", SCRIPT, "none"], env)
        ok(rc == 0, "'none' asks for nothing", out)

        if not root:
            print("not root: the reserve steps need root (the script refuses without it)")
            return ok.exit()
        rc, out = run(["bash", SCRIPT, "--dry-run", "2M:512@1"], env)
        ok(rc == 0 and "would write 512" in out and nr(sysd, 2048, 1) == 0,
           "--dry-run says what it would write and writes nothing", out)
        rc, out = run(["bash", SCRIPT, "2M:512@1", "1G:2@0"], env)
        ok(rc == 0 and nr(sysd, 2048, 1) == 512 and nr(sysd, 1048576, 0) == 2
           and nr(sysd, 2048, 0) == 0 and nr(sysd, 1048576, 1) == 0,
           "reserve: COUNT pages of SIZE on the named node only", out)
        rc, out = run(["bash", SCRIPT, "2M:512@1", "1G:2@0"], env)
        ok(rc == 0 and "done" not in out and out.count("ok    node") == 2,
           "reserve again: nothing to do, nothing written (idempotent)", out)
        rc, out = run(["bash", SCRIPT, "2M:100@1"], env)
        ok(rc == 0 and nr(sysd, 2048, 1) == 512, "reserve never takes pages away", out)
        rc, out = run(["bash", SCRIPT, "2M:8"], env)
        ok(rc == 0 and nr(sysd, 2048, 0) == 8 and nr(sysd, 2048, 1) == 512,
           "no @NODES: every node with memory gets at least COUNT", out)
        rc, out = run(["bash", SCRIPT, "--check", "2M:512@1", "1G:2@0"], env)
        ok(rc == 0, "--check after reserving: exit 0", out)

        # A kernel that grants fewer pages than asked: the node's nr_hugepages reads back a
        # number it will not change (a read-only sysfs file), so the reservation must fail,
        # say so, and point to the boot-time command line.
        ro = "/sys/devices/system/cpu/kernel_max"
        if os.path.exists(ro):
            with open(ro) as f:
                have = int(f.read())
            target = os.path.join(sysd, "devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages")
            os.unlink(target)
            os.symlink(ro, target)
            rc, out = run(["bash", SCRIPT, f"1G:{have + 1}@1"], env)
            ok(rc == 1 and f"only {have} of {have + 1} 1G pages" in out and "--cmdline" in out,
               "a shortfall fails (exit 1) and names the boot-time way", out)
        rc, out = run(["bash", SCRIPT, "--release", "2M"], env)
        ok(rc == 0 and nr(sysd, 2048, 0) == 0 and nr(sysd, 2048, 1) == 0
           and nr(sysd, 1048576, 0) == 2, "--release 2M: every node's 2 MB pages, only those", out)
    return ok.exit()


def wait_for(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def telemetry(prefix, cmd):
    tool = shutil.which("dpdk-telemetry.py")
    if tool is None:
        return None
    p = subprocess.run([tool, "-f", prefix], input=cmd + "\n", capture_output=True, text=True,
                       timeout=20)
    for line in p.stdout.splitlines():
        if line.startswith("{") and cmd.split(",")[0] in line:
            return json.loads(line)[cmd.split(",")[0]]
    return None


def live(floord):
    if os.getuid() != 0:
        return skip("needs root (sysfs hugepages, mount)")
    if not os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        return skip("this kernel has no 2 MB hugepages")
    ok = Checks()
    orig2 = hp_read(2048)
    orig1g = hp_read(1048576) if os.path.isdir("/sys/kernel/mm/hugepages/hugepages-1048576kB") else None
    mounts_before = set(hugetlbfs_mounts())
    dirs_before = {d for d in ("/dev/hugepages", "/dev/hugepages-1G", "/dev/hugepages-2M")
                   if os.path.isdir(d)}
    want = orig2 + 48
    prefix = f"fchp{os.getpid()}"
    work = tempfile.mkdtemp(prefix="fc-hp-live-")
    proc = None
    try:
        rc, out = run(["bash", SCRIPT, "--check", f"2M:{want}@0"])
        ok(rc == 1 and "MISSING node 0" in out, "--check before: the pages are missing (exit 1)", out)
        rc, out = run(["bash", SCRIPT, f"2M:{want}@0"])
        ok(rc == 0 and hp_read(2048) >= want, f"reserve {want} x 2 MB on node 0 at run time", out)
        ok(any(m for m in hugetlbfs_mounts()), "a hugetlbfs is mounted", hugetlbfs_mounts())
        rc, out = run(["bash", SCRIPT, f"2M:{want}@0"])
        ok(rc == 0 and "done" not in out, "the same reservation again changes nothing", out)
        rc, out = run(["bash", SCRIPT, "--check", f"2M:{want}@0"])
        ok(rc == 0, "--check after: in place (exit 0)", out)

        if orig1g is not None:
            rc, out = run(["bash", SCRIPT, f"1G:{orig1g + 1}@0"])
            if rc == 0:
                ok(hp_read(1048576) == orig1g + 1, "one more 1 GB page reserved at run time", out)
                rc, out = run(["bash", SCRIPT, "--check", f"1G:{orig1g + 1}@0"])
                ok(rc == 0, "--check 1G: in place", out)
            else:
                ok(hp_read(1048576) == orig1g, "1 GB page refused by the kernel: left as it was", out)
                print("1 GB pages: none could be reserved at run time here (skipped):", out.strip())
        else:
            print("1 GB pages: not offered by this CPU/kernel (skipped)")

        # floord on real hugepages: no --no-huge; the EAL finds the hugetlbfs mounts itself.
        cap, roster, keys, summ = harness.make_capture(work, "hp", players=20, gateways=2,
                                                       seconds=1.0)
        floor = os.path.join(work, "floor.ini")
        harness.write_floor(floor, roster, keys, "rx+owner/tx")
        report = os.path.join(work, "replay.json")
        free_before = hp_read(2048, what="free_hugepages")
        p = subprocess.run([floord, "-l", "0-1", "-m", "64", "--no-pci", f"--file-prefix={prefix}",
                            "--log-level=*:error",
                            f"--vdev=net_pcap0,rx_pcap={cap},tx_pcap={work}/out.pcap", "--",
                            "--floor", floor, "--replay", "--report-json", report],
                           capture_output=True, text=True, timeout=120)
        ok(p.returncode == 0, "floord replays on real hugepages: exit 0", p.stdout + p.stderr)
        rep = json.load(open(report)) if os.path.exists(report) else {}
        fixes = summ["fixes"]
        got = rep.get("owners", {}).get("applied", 0) + rep.get("owners", {}).get("older", 0)
        ok(rep.get("drops", {}).get("total") == 0 and got > 0 and got == fixes,
           "the report: every fix of the capture applied, nothing dropped",
           (got, fixes, rep.get("drops")))
        # The EAL's default leaves its page files in hugetlbfs after exit: proof that it ran on
        # hugepages, and what --status is for.
        rc, out = run(["bash", SCRIPT, "--status"])
        ok(f"of prefix '{prefix}'" in out and hp_read(2048, what="free_hugepages") < free_before,
           "--status shows the page files floord left (the EAL's default, without --in-memory)",
           out)
        for d in hugetlbfs_mounts():
            for f in os.listdir(d):
                if f.startswith(prefix):
                    os.unlink(os.path.join(d, f))
        ok(hp_read(2048, what="free_hugepages") == free_before,
           "removing the files gives the pages back")

        # The unit's way: --in-memory. Pages in use while it runs, all back after SIGTERM.
        floor2 = os.path.join(work, "floor-ring.ini")
        harness.write_floor(floor2, roster, keys, "rx+owner/tx",
                            profile=os.path.join(harness.ROOT, "drivers-cfg", "net_ring.ini"))
        free0 = hp_read(2048, what="free_hugepages")
        proc = subprocess.Popen([floord, "-l", "0-1", "-m", "64", "--in-memory", "--no-pci",
                                 f"--file-prefix={prefix}i", "--log-level=*:error",
                                 "--vdev=net_ring0", "--", "--floor", floor2],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sock = f"/var/run/dpdk/{prefix}i/dpdk_telemetry.v2"
        wait_for(lambda: os.path.exists(sock) or proc.poll() is not None)
        time.sleep(0.5)
        in_use = free0 - hp_read(2048, what="free_hugepages")
        ok(in_use >= 32, f"live --in-memory: {in_use} x 2 MB pages in use while it runs (-m 64)")
        heap = telemetry(f"{prefix}i", "/eal/heap_info,0")
        if heap is not None:
            ok(heap.get("Heap_size", 0) >= 64 << 20, "/eal/heap_info: the heap is the 64 MB asked",
               heap)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        ok(proc.returncode == 0, "SIGTERM: exit 0", out[-400:])
        ok(hp_read(2048, what="free_hugepages") == free0,
           "--in-memory leaves nothing behind: every page free again")
        leftovers = [f for d in hugetlbfs_mounts() for f in os.listdir(d) if f.startswith(prefix)]
        ok(not leftovers, "no page file left in hugetlbfs", leftovers)

        if orig2 == 0:
            rc, out = run(["bash", SCRIPT, "--release", "2M"])
            ok(rc == 0 and hp_read(2048) == 0, "--release 2M: every 2 MB page back", out)
        else:
            print(f"{orig2} x 2 MB pages were reserved before the test: --release not tried")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in (prefix, prefix + "i"):
            shutil.rmtree(f"/var/run/dpdk/{p}", ignore_errors=True)
        for d in hugetlbfs_mounts():
            for f in os.listdir(d):
                if f.startswith(prefix):
                    os.unlink(os.path.join(d, f))
        hp_write(2048, orig2)
        if orig1g is not None:
            hp_write(1048576, orig1g)
        for m in set(hugetlbfs_mounts()) - mounts_before:
            subprocess.run(["umount", m], check=False)
            if m not in dirs_before:
                try:
                    os.rmdir(m)  # the mount point the script made
                except OSError:
                    pass
        shutil.rmtree(work, ignore_errors=True)
    ok(hp_read(2048) == orig2 and set(hugetlbfs_mounts()) == mounts_before,
       "the machine is as it was: page counts and mounts restored")
    return ok.exit()


def main(argv):
    if argv[1] == "logic":
        return logic()
    return live(argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
