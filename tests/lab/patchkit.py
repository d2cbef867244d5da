"""Helpers for the rolling patch drills (test_45_rolling_patch.py) and their
benchmark (benchmarks/bench_rolling_patch.py): a probe package the hosts can
really upgrade, served from a file repository on each host (the lab image is
already current, so Debian's archive offers nothing to upgrade), and runners for
ci/patch and ci/upgrade-app.

The probe package ships a service running its own binary; the upgrade replaces
the binary under the running process, so needrestart names the service and
the patch run must restart it: the same path a libssl or openssh update takes.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

import runbookkit
from labkit import REPO, on

PROBE = "mimamori-patch-probe"
REPO_DIR = "/srv/mimamori-patch-repo"
HOSTS = ("lb1", "lb2", "app1", "app2", "db1", "db2", "mon1", "backup1")
# The runbook's <env> in the drills: the lab without its emulated-CPU VM.
LAB_ENV = "lab --limit " + ",".join(HOSTS)
SERVICE = f"""[Unit]
Description=Rolling patch probe (lab only)
[Service]
ExecStart=/usr/lib/{PROBE}/probe infinity
[Install]
WantedBy=multi-user.target
"""


def build(version: str, fail_postinst: bool = False) -> Path:
    """A .deb of the probe at ``version``; with fail_postinst its configuration
    fails, so apt-get exits non-zero (a broken package on one host)."""
    root = Path(tempfile.mkdtemp(prefix="probe-"))
    pkg = root / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "usr" / "lib" / PROBE).mkdir(parents=True)
    (pkg / "lib" / "systemd" / "system").mkdir(parents=True)
    # A copy of sleep, made different per version so the file really changes.
    binary = pkg / "usr" / "lib" / PROBE / "probe"
    binary.write_bytes(Path("/bin/sleep").read_bytes() + version.encode())
    binary.chmod(0o755)
    (pkg / "lib" / "systemd" / "system" / f"{PROBE}.service").write_text(SERVICE)
    (pkg / "DEBIAN" / "control").write_text(
        f"Package: {PROBE}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: Mimamori lab <ops@mimamori.lab>\nDescription: rolling patch probe\n")
    post = "#!/bin/sh\nset -e\n" + ("echo 'probe: broken on purpose' >&2; exit 1\n" if fail_postinst
                                    else f"systemctl daemon-reload; systemctl enable --now {PROBE}.service\n")
    (pkg / "DEBIAN" / "postinst").write_text(post)
    (pkg / "DEBIAN" / "postinst").chmod(0o755)
    deb = root / f"{PROBE}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(pkg), str(deb)], check=True,
                   capture_output=True)
    return deb


def copy_to(host: str, local: Path, remote: str) -> None:
    subprocess.run(["bash", str(REPO / "ci" / "lab" / "lab"), "ssh", host,
                    f"mkdir -p {Path(remote).parent} && cat > {remote}"],
                   input=local.read_bytes(), check=True, timeout=60)


def publish(host: str, deb: Path) -> None:
    """Serve only ``deb`` from the host's probe repository (trusted file repo)."""
    on(host, f"rm -rf {REPO_DIR} && mkdir -p {REPO_DIR}")
    copy_to(host, deb, f"{REPO_DIR}/{deb.name}")
    on(host, f"cd {REPO_DIR} && apt-ftparchive packages . > Packages"
             f" && echo 'deb [trusted=yes] file:{REPO_DIR} ./' > /etc/apt/sources.list.d/mimamori-probe.list"
             " && apt-get -q update -o Dir::Etc::sourcelist=sources.list.d/mimamori-probe.list"
             " -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >/dev/null")


def install_v1(hosts=HOSTS) -> None:
    """Version 1 installed and running everywhere, version 2 offered (on every host)."""
    v1, v2 = build("1.0"), build("2.0")
    for h in hosts:
        on(h, "command -v apt-ftparchive >/dev/null || DEBIAN_FRONTEND=noninteractive "
              "apt-get install -y -q apt-utils >/dev/null")
        on(h, f"dpkg --purge {PROBE} >/dev/null 2>&1 || true")
        copy_to(h, v1, f"/tmp/{v1.name}")
        on(h, f"dpkg -i /tmp/{v1.name} >/dev/null")
        publish(h, v2)


def break_on(host: str) -> None:
    """``host`` is offered a version 2 whose configuration fails."""
    publish(host, build("2.0", fail_postinst=True))


def probe_version(host: str) -> str:
    return on(host, f"dpkg-query -W -f '${{Version}}' {PROBE}").strip()


def probe_pid(host: str) -> str:
    return on(host, f"systemctl show -p MainPID --value {PROBE}.service").strip()


def cleanup(hosts=HOSTS) -> None:
    for h in hosts:
        on(h, f"dpkg --configure -a >/dev/null 2>&1; dpkg --purge --force-all {PROBE} >/dev/null 2>&1;"
              f" rm -rf {REPO_DIR} /etc/apt/sources.list.d/mimamori-probe.list; true", check=False)


def _timed(argv: list[str], timeout: float, cwd: Path | None = None) -> tuple[int, str, float]:
    """Exit code, stdout+stderr and seconds taken of one command on this machine."""
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr, time.monotonic() - t0


def run_runbook(block_id: str, env: str, cwd: Path = REPO, timeout: float = 1800
                ) -> tuple[int, str, float]:
    """A runbooks/patching.md command block, as written, on this machine from
    ``cwd`` (the repository, or a throwaway worktree of it): exit code, output, seconds."""
    _, script = runbookkit.block(block_id).filled({"env": env})
    return _timed(["bash", "-c", script], timeout, cwd=cwd)


def run_orchestrator(*args: str, timeout: float = 1800) -> tuple[int, str, float]:
    """provisioning/patch.py on the lab without ci/patch's approval step."""
    return _timed(["/usr/bin/python3", "patch.py", "lab", *args], timeout, cwd=REPO / "provisioning")


def last_record(kind: str) -> dict:
    lines = Path("/var/log/mimamori-deploy/lab.jsonl").read_text().splitlines()
    return next(r for r in map(json.loads, reversed(lines)) if r.get("kind") == kind)
