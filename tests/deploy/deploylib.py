"""Shared by the tests of deploy/: paths, running a command, the replay harness's Checks, and the
hugepage sysfs files (read and restored by the tests that change them)."""

import glob
import os
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEPLOY = os.path.join(ROOT, "deploy")
sys.path.insert(0, os.path.join(ROOT, "tests", "replay"))

import harness  # noqa: E402,F401  (re-exported)
from harness import Checks  # noqa: E402,F401

SKIP = 77


def run(cmd, env=None, timeout=120, **kw):
    """Runs cmd; returns (returncode, stdout + stderr)."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e, **kw)
    return p.returncode, p.stdout + p.stderr


def skip(why):
    print(f"skipped: {why}")
    return SKIP


def hp_file(kb, node=0, what="nr_hugepages"):
    d = f"/sys/devices/system/node/node{node}/hugepages/hugepages-{kb}kB"
    if not os.path.isdir(d):
        d = f"/sys/kernel/mm/hugepages/hugepages-{kb}kB"
    return os.path.join(d, what)


def hp_read(kb, node=0, what="nr_hugepages"):
    with open(hp_file(kb, node, what)) as f:
        return int(f.read())


def hp_write(kb, n, node=0):
    with open(hp_file(kb, node), "w") as f:
        f.write(str(n))


def hugetlbfs_mounts():
    with open("/proc/mounts") as f:
        return [ln.split()[1] for ln in f if ln.split()[2] == "hugetlbfs"]


def numa_nodes():
    return sorted(int(os.path.basename(p)[4:]) for p in glob.glob("/sys/devices/system/node/node[0-9]*")) or [0]
