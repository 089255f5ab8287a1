#!/usr/bin/env python3
"""`meson install --destdir D` from the build directory, then floord run from D: the layout
(binaries, root's tools, /etc/floorcast examples and profiles, docs, the unit with its paths),
the installed demo floor file replaying a short capture from D's sysconfdir with exit 0 and a
report that counts every fix, and the production template accepted by the installed floord.

  test_install.py BUILDDIR"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from deploylib import Checks, harness, run, skip  # noqa: E402


def options(build):
    rc, out = run(["meson", "introspect", "--buildoptions", build])
    if rc != 0:
        raise AssertionError(out)
    return {o["name"]: o["value"] for o in json.loads(out)}


def main(argv):
    build = os.path.abspath(argv[1])
    if shutil.which("meson") is None:
        return skip("meson not found")
    ok = Checks()
    opt = options(build)
    prefix = opt["prefix"]
    d_of = lambda key: os.path.join(prefix, opt[key])  # noqa: E731 (absolute sysconfdir stays)
    with tempfile.TemporaryDirectory(prefix="fc-install-") as work:
        dest = os.path.join(work, "D")
        rc, out = run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild",
                       "--quiet"], timeout=170)
        ok(rc == 0, "meson install --destdir: exit 0", out[-1500:])
        bindir = dest + d_of("bindir")
        sbindir = dest + d_of("sbindir")
        confdir = dest + os.path.join(d_of("sysconfdir"), "floorcast")
        docdir = dest + os.path.join(d_of("datadir"), "doc", "floorcast")
        unit = dest + os.path.join(prefix, "lib", "systemd", "system", "floord.service")
        for f in ("floord", "floorgen", "floorctl", "floorcast-metrics"):
            ok(os.access(os.path.join(bindir, f), os.X_OK), f"bindir: {f}, executable")
        for f in ("floorcast-hugepages", "floorcast-bind-nic"):
            ok(os.access(os.path.join(sbindir, f), os.X_OK), f"sbindir: {f}, executable")
        for f in ("floor.ini.example", "floord.env.example", "floor-demo.ini", "roster-demo.csv",
                  "keys-demo.txt", "drivers-cfg/README.md"):
            ok(os.path.isfile(os.path.join(confdir, f)), f"sysconfdir/floorcast/{f}")
        shipped = sorted(f for f in os.listdir(os.path.join(harness.ROOT, "drivers-cfg"))
                         if f.endswith(".ini"))
        installed = sorted(f for f in os.listdir(os.path.join(confdir, "drivers-cfg"))
                           if f.endswith(".ini"))
        ok(shipped == installed, "every drivers-cfg profile is installed", (shipped, installed))
        for f in ("README.md", "operations.md", "tuning.md", "configuration.md", "protocol.md",
                  "drivers-cfg.md"):
            ok(os.path.isfile(os.path.join(docdir, f)), f"docdir: {f}")
        ok(not os.path.exists(os.path.join(confdir, "floor.ini"))
           and not os.path.exists(os.path.join(confdir, "floord.env")),
           "the operator's own floor.ini and floord.env are never installed (nor overwritten)")
        text = open(unit).read() if os.path.exists(unit) else ""
        ok(f"ExecStart={d_of('bindir')}/floord $FLOORD_EAL_ARGS -- --floor "
           f"{d_of('sysconfdir')}/floorcast/floor.ini $FLOORD_ARGS" in text
           and f"ExecStartPre=+{d_of('sbindir')}/floorcast-hugepages" in text,
           "the unit: lib/systemd/system/floord.service, paths of this install", text[:200])
        demo = open(os.path.join(confdir, "floor-demo.ini")).read()
        ok("profile = drivers-cfg/net_pcap.ini" in demo and "../../" not in demo,
           "the installed demo floor file finds its profile beside it")

        # A replay from the installed files: D's floord, D's floor file, roster and keys.
        floord = os.path.join(bindir, "floord")
        cap = os.path.join(work, "game.pcap")
        summ = os.path.join(work, "game.summary.json")
        rc = harness.mkcapture.main(["--out", cap, "--summary", summ, "--roster",
                                     os.path.join(confdir, "roster-demo.csv"), "--keys",
                                     os.path.join(confdir, "keys-demo.txt"), "--players", "40",
                                     "--gateways", "8", "--seconds", "2", "--seed", "3"])
        s = json.load(open(summ))
        report = os.path.join(work, "report.json")
        prefix = f"fcinst{os.getpid()}"
        try:
            p = subprocess.run([floord, "-l", "0", "--no-huge", "-m", "512", "--no-pci",
                                "--no-shconf", f"--file-prefix={prefix}", "--log-level=*:error",
                                f"--vdev=net_pcap0,rx_pcap={cap},tx_pcap={work}/out.pcap", "--",
                                "--floor", os.path.join(confdir, "floor-demo.ini"), "--replay",
                                "--report-json", report],
                               capture_output=True, text=True, timeout=120, cwd=work)
        finally:
            shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
        ok(p.returncode == 0 and "floord report" in p.stdout,
           "the installed floord replays with the installed demo floor file: exit 0, a report",
           (p.stdout + p.stderr)[-800:])
        rep = json.load(open(report)) if os.path.exists(report) else {}
        own = rep.get("owners", {})
        ok(own.get("applied", 0) + own.get("older", 0) == s["fixes"]
           and rep.get("drops", {}).get("total") == 0 and rep.get("players") == 400
           and rep.get("tx", {}).get("packets", 0) > 0,
           "the report: 400 players, every fix of the capture, no drop, deltas sent",
           (own, s["fixes"], rep.get("drops", {}).get("total")))
        summary, _ = harness.decode(os.path.join(work, "out.pcap"))
        ok(summary["problems"] == [] and summary["frames"] == rep.get("tx", {}).get("packets")
           and len(summary["final_state"]["positions"]) == 40,
           "its output decodes without a problem: the 40 players' positions",
           str(summary["problems"])[:300])

        # The production template, checked by the installed floord the way operations.md says
        # (floord -h -- --floor FILE: the floor file is loaded before the EAL; -h then exits 0).
        cfg = os.path.join(work, "etc")
        os.makedirs(cfg)
        tmpl = open(os.path.join(confdir, "floor.ini.example")).read()
        tmpl = tmpl.replace("/var/lib/floorcast/", cfg + "/").replace("/run/floorcast/", cfg + "/")
        with open(os.path.join(cfg, "floor.ini"), "w") as f:
            f.write(tmpl)
        os.symlink(os.path.join(confdir, "drivers-cfg"), os.path.join(cfg, "drivers-cfg"))
        shutil.copy(os.path.join(confdir, "roster-demo.csv"), os.path.join(cfg, "roster.csv"))
        shutil.copy(os.path.join(confdir, "keys-demo.txt"), os.path.join(cfg, "gateways.keys"))
        rc, out = run([floord, "-h", "--", "--floor", os.path.join(cfg, "floor.ini")])
        ok(rc == 0, "floor.ini.example, filled in, is accepted by the installed floord", out[-500:])
        with open(os.path.join(cfg, "floor.ini"), "w") as f:
            f.write(tmpl.replace("drivers-cfg/ixgbe.ini", "drivers-cfg/ixgbee.ini"))
        rc, out = run([floord, "-h", "--", "--floor", os.path.join(cfg, "floor.ini")])
        ok(rc == 3 and "[port] profile" in out and "ixgbee.ini" in out,
           "a mistake in it: exit 3 and one line naming the key and the file", out[-300:])

        env = open(os.path.join(confdir, "floord.env.example")).read().splitlines()
        keys = [ln.split("=", 1)[0] for ln in env if ln and not ln.startswith("#")]
        ok(sorted(keys) == ["FLOORD_ARGS", "FLOORD_EAL_ARGS", "FLOORD_HUGEPAGES"]
           and all(ln.split("=", 1)[1].startswith('"') and ln.endswith('"')
                   for ln in env if ln and not ln.startswith("#")),
           "floord.env.example: the three variables the unit uses, quoted", keys)
        rc, out = run([os.path.join(sbindir, "floorcast-hugepages"), "--cmdline", "1G:4@0"])
        ok(rc == 0 and "hugepagesz=1G hugepages=0:4" in out, "the installed floorcast-hugepages runs",
           out)
        rc, out = run([sys.executable, os.path.join(bindir, "floorcast-metrics"), "--help"])
        ok(rc == 0 and "--listen" in out, "the installed floorcast-metrics runs", out[-300:])
    return ok.exit()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
