#!/usr/bin/env python3
"""deploy/systemd/floord.service, as meson configured it.

  test_unit.py verify UNIT          systemd-analyze verify: no error and no warning (an unknown
                                    or misspelt key is only a warning there); its security
                                    exposure stays "OK"; the settings ops rely on are there
  test_unit.py sandbox UNIT FLOORD  root and a running systemd: the unit itself started by
                                    systemd (only ExecStart's floor file and the env file swapped
                                    for a test's, net_ring and hugepages), with all of its
                                    hardening: floord runs, answers telemetry, has the bounding
                                    set, no_new_privs and seccomp asked for, stops on SIGTERM
                                    with exit 0 and its report; a configuration error (exit 3)
                                    is not restarted. FC_SYSTEMD_USER=1 uses a root user manager
                                    instead of PID 1 (a test bed: docs/operations.md)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from deploylib import DEPLOY, Checks, harness, hp_read, hp_write, hugetlbfs_mounts, run, skip  # noqa: E402

EXEC_RE = re.compile(r"^(Exec\w+=)([-+@!:]*)(\S+)(.*)$")


def with_stub_commands(unit_text, stub_dir):
    """The unit's commands are where `meson install` puts them, not here yet: point each Exec
    line at a stub of the same name, so that verify checks everything else."""
    out = []
    for line in unit_text.splitlines():
        m = EXEC_RE.match(line)
        if m:
            stub = os.path.join(stub_dir, os.path.basename(m.group(3)))
            if not os.path.exists(stub):
                with open(stub, "w") as f:
                    f.write("#!/bin/sh\nexit 0\n")
                os.chmod(stub, 0o755)
            line = m.group(1) + m.group(2) + stub + m.group(4)
        out.append(line)
    return "\n".join(out) + "\n"


def verify(unit):
    if shutil.which("systemd-analyze") is None:
        return skip("systemd-analyze not installed (Debian package systemd)")
    ok = Checks()
    text = open(unit).read()
    for want in ("LimitMEMLOCK=infinity", "Restart=on-failure", "RestartPreventExitStatus=2 3",
                 "CPUAffinity=", "KillSignal=SIGTERM", "MemoryDenyWriteExecute=yes",
                 "CapabilityBoundingSet=", "RuntimeDirectory=floorcast",
                 "StateDirectory=floorcast"):
        ok(want in text, f"the unit has {want}")
    m = re.search(r"^ExecStart=(\S+) (.*)$", text, re.M)
    ok(m is not None and m.group(1).endswith("/floord") and os.path.isabs(m.group(1))
       and "-- --floor /" in m.group(2) and m.group(2).split("--floor ")[1].split()[0].endswith(
           "/floorcast/floor.ini"),
       "ExecStart: the installed floord on <sysconfdir>/floorcast/floor.ini",
       m.group(0) if m else text)
    ok(re.search(r"@[A-Z]+@", text) is None, "every @PLACEHOLDER@ was filled in by meson")
    with tempfile.TemporaryDirectory(prefix="fc-unit-") as work:
        path = os.path.join(work, "floord.service")
        with open(path, "w") as f:
            f.write(with_stub_commands(text, work))
        rc, out = run(["systemd-analyze", "verify", "--man=no", path])
        if rc != 0 and ("Failed to initialize" in out or "Failed to set up" in out):
            return skip(f"systemd-analyze cannot run here: {out.strip()}")
        ok(rc == 0 and out.strip() == "", "systemd-analyze verify: no error, no warning", out)
        rc, out = run(["systemd-analyze", "security", "--offline=yes", path])
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", out)
        if rc != 0 and "offline" in out:
            print("systemd-analyze security --offline: not in this systemd (< 250): not checked")
        else:
            ok(m is not None and float(m.group(1)) <= 4.0,
               "systemd-analyze security: exposure at most 4.0 (\"OK\"), "
               "so that no hardening is dropped unnoticed", m.group(0) if m else out[-300:])
            if m:
                print(f"exposure: {m.group(1)} {m.group(2)}")
    return ok.exit()


def systemctl_scope():
    """["systemctl"] for PID 1, ["systemctl", "--user"] for a root user manager, or None."""
    if os.path.isdir("/run/systemd/system") and subprocess.run(
            ["systemctl", "is-system-running"], capture_output=True, text=True).stdout.strip() in (
            "running", "degraded", "starting"):
        if os.environ.get("FC_SYSTEMD_USER") != "1":
            return ["systemctl"]
    if os.environ.get("FC_SYSTEMD_USER") == "1" and subprocess.run(
            ["systemctl", "--user", "is-system-running"], capture_output=True,
            text=True).stdout.strip() in ("running", "degraded"):
        return ["systemctl", "--user"]
    return None


def sandbox(unit, floord):
    if os.getuid() != 0:
        return skip("needs root")
    sc = systemctl_scope()
    if sc is None:
        return skip("no systemd manager to start the unit with (PID 1 is not systemd; "
                    "FC_SYSTEMD_USER=1 uses a root user manager)")
    user = len(sc) == 2
    ok = Checks()
    name = f"fcunit{os.getpid()}"
    if user:
        unit_dir = os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/run/user/0"), "systemd/user")
        run_root = os.environ.get("XDG_RUNTIME_DIR", "/run/user/0")
        # systemd 252 puts a user manager's StateDirectory= in ~/.config ($XDG_CONFIG_HOME)
        state_root = os.environ.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config"))
    else:
        unit_dir, run_root, state_root = "/run/systemd/system", "/run", "/var/lib"
    # Outside /tmp and /home: the unit has PrivateTmp= and ProtectHome=.
    work = tempfile.mkdtemp(prefix=f"{name}-", dir="/var/lib")
    orig2 = hp_read(2048) if os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB") else None
    mounts_before = set(hugetlbfs_mounts())
    dirs_before = {d for d in ("/dev/hugepages", "/dev/hugepages-1G", "/dev/hugepages-2M")
                   if os.path.isdir(d)}
    try:
        shutil.copy(floord, work)
        shutil.copy(os.path.join(DEPLOY, "hugepages.sh"), work)
        fx = os.path.join(work, "fixtures")
        harness.mkcapture.main(["--write-fixtures", fx, "--players", "20", "--gateways", "2"])
        shutil.copy(os.path.join(harness.ROOT, "drivers-cfg", "net_ring.ini"), work)
        floor = os.path.join(work, "floor.ini")
        harness.write_floor(floor, os.path.join(fx, "roster.csv"), os.path.join(fx, "gateways.keys"),
                            "rx+owner/tx", profile=os.path.join(work, "net_ring.ini"))
        report = os.path.join(state_root, name, "report.json")
        huge = f"2M:{orig2 + 32}@0" if orig2 is not None else "none"
        mem = "-m 48 --in-memory" if orig2 is not None else "--no-huge -m 256"
        with open(os.path.join(work, "test.env"), "w") as f:
            f.write(f'FLOORD_EAL_ARGS="-l 0-1 {mem} --no-pci --vdev=net_ring0 '
                    f'--file-prefix={name} --log-level=*:error"\n'
                    f'FLOORD_ARGS="--report-json {report}"\nFLOORD_HUGEPAGES="{huge}"\n')
        os.makedirs(os.path.join(unit_dir, f"{name}.service.d"), exist_ok=True)
        shutil.copy(unit, os.path.join(unit_dir, f"{name}.service"))
        dropin = os.path.join(unit_dir, f"{name}.service.d", "test.conf")
        with open(dropin, "w") as f:
            f.write(f"""[Service]
EnvironmentFile=
EnvironmentFile={work}/test.env
ExecStartPre=
ExecStartPre=+{work}/hugepages.sh $FLOORD_HUGEPAGES
ExecStart=
ExecStart={work}/floord $FLOORD_EAL_ARGS -- --floor {floor} $FLOORD_ARGS
RuntimeDirectory=
RuntimeDirectory={name}
StateDirectory=
StateDirectory={name}
""")
            if user:
                # a root user manager cannot set these up for any command (not a floord
                # matter): everything else of the unit is in force
                f.write("ProtectHome=no\nProtectKernelTunables=no\nProtectKernelLogs=no\n")
        subprocess.run(sc + ["daemon-reload"], check=True)
        rc, out = run(sc + ["start", f"{name}.service"])
        ok(rc == 0, "systemd starts the unit (ExecStartPre reserves the hugepages)", out)
        sock_dir = os.path.join(run_root, name)
        sock = os.path.join(sock_dir, "dpdk", name, "dpdk_telemetry.v2")
        end = time.time() + 15
        while not os.path.exists(sock) and time.time() < end:
            time.sleep(0.2)
        ok(os.path.exists(sock), "the telemetry socket is in RuntimeDirectory (RUNTIME_DIRECTORY)",
           sock)
        time.sleep(1.0)
        rc, out = run([sys.executable, os.path.join(DEPLOY, "floorcast-metrics"), "--runtime-dir",
                       sock_dir, "-f", name])
        m = re.search(r"^floorcast_tx_ticks_total (\d+)", out, re.M)
        ok(rc == 0 and m is not None and int(m.group(1)) >= 10,
           "floord runs inside the sandbox: ticks advance, telemetry answers", out[-500:])
        pid = subprocess.run(sc + ["show", "-p", "MainPID", "--value", f"{name}.service"],
                             capture_output=True, text=True).stdout.strip()
        status = open(f"/proc/{pid}/status").read() if pid not in ("", "0") else ""
        fields = dict(ln.split(":\t", 1) for ln in status.splitlines() if ":\t" in ln)
        ok(int(fields.get("CapBnd", "0"), 16) == (1 << 12) | (1 << 13) | (1 << 14),
           "capabilities bounded to CAP_NET_ADMIN, CAP_NET_RAW, CAP_IPC_LOCK", fields.get("CapBnd"))
        ok(fields.get("NoNewPrivs", "").strip() == "1" and fields.get("Seccomp", "").strip() == "2",
           "no_new_privs and a seccomp filter (SystemCallFilter, MemoryDenyWriteExecute)")
        rc, out = run(sc + ["stop", f"{name}.service"])
        show = subprocess.run(sc + ["show", "-p", "ExecMainStatus", "-p", "Result",
                                    f"{name}.service"], capture_output=True, text=True).stdout
        ok("ExecMainStatus=0" in show and "Result=success" in show,
           "stop: SIGTERM, floord drains and exits 0", show)
        rep = json.load(open(report)) if os.path.exists(report) else {}
        ok(rep.get("mode") == "live" and rep.get("mempool", {}).get("in_use_at_exit") == 0,
           "the report is written to StateDirectory, every mbuf back", report)

        # A configuration error must not be restarted in a loop.
        with open(dropin, "a") as f:
            f.write(f"ExecStart=\nExecStart={work}/floord $FLOORD_EAL_ARGS -- --floor {work}/no.ini\n")
        subprocess.run(sc + ["daemon-reload"], check=True)
        run(sc + ["start", f"{name}.service"])
        time.sleep(RESTART_WAIT)
        show = subprocess.run(sc + ["show", "-p", "ExecMainStatus", "-p", "NRestarts", "-p",
                                    "ActiveState", f"{name}.service"],
                              capture_output=True, text=True).stdout
        ok("ExecMainStatus=3" in show and "NRestarts=0" in show and "ActiveState=failed" in show,
           "a configuration error (exit 3) is not restarted (RestartPreventExitStatus)", show)
    finally:
        subprocess.run(sc + ["stop", f"{name}.service"], capture_output=True)
        shutil.rmtree(os.path.join(unit_dir, f"{name}.service.d"), ignore_errors=True)
        try:
            os.unlink(os.path.join(unit_dir, f"{name}.service"))
        except FileNotFoundError:
            pass
        subprocess.run(sc + ["daemon-reload"], capture_output=True)
        subprocess.run(sc + ["reset-failed", f"{name}.service"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(os.path.join(state_root, name), ignore_errors=True)
        if orig2 is not None:
            hp_write(2048, orig2)
        for mnt in set(hugetlbfs_mounts()) - mounts_before:
            subprocess.run(["umount", mnt], check=False)
            if mnt not in dirs_before:
                try:
                    os.rmdir(mnt)  # the mount point the script made
                except OSError:
                    pass
    return ok.exit()


RESTART_WAIT = 4.0  # RestartSec=2: a restart would have happened by then


def main(argv):
    if argv[1] == "verify":
        return verify(argv[2])
    return sandbox(argv[2], argv[3])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
