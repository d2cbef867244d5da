"""Rolling OS patch of one environment (issue 10, O-PATCH, O-CHANGE), run from
this folder by ci/patch:

    python3 patch.py ENV [--packages a,b] [--manifest ID] [--limit h1,h2] [--plan]
    python3 patch.py ENV --restart-app          # rolling app restart (ci/upgrade-app)
    python3 patch.py ENV --approve ID --results PATH --passed 0|1

Why an orchestrator and not one pyinfra deploy (runbooks/patching.md): each
host's step depends on the previous host's outcome and on other hosts (drain
app1 on both load balancers, switch the Patroni leader away from db1 before
touching it). pyinfra 3 runs different hosts' operations side by side and its
--serial still interleaves hosts operation by operation, so "stop at the first
failure, leave the rest untouched" would need barriers around every operation.
Here a small Python loop (lib/patching/rolling.py, unit-tested) walks the hosts
in order over SSH, using the same inventories and connection data as pyinfra.
"""

from __future__ import annotations

import argparse
import json
import runpy
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lib import locks, record  # noqa: E402
from lib.patching import order, packages  # noqa: E402
from lib.patching.rolling import APP, HostReport, Rolling, RunReport, Settings, Step  # noqa: E402


def manifest_dir() -> Path:
    return packages.manifest_dir()


class Environment:
    """Hosts, groups and data of one inventory, read the way pyinfra reads them."""

    def __init__(self, env: str):
        inv = runpy.run_path(str(HERE / "inventories" / f"{env}.py"))
        data = {k: v for k, v in runpy.run_path(str(HERE / "group_data" / "all.py")).items()
                if not k.startswith("_")}
        data.update({k: v for k, v in runpy.run_path(str(HERE / "group_data" / f"{env}.py")).items()
                     if not k.startswith("_")})
        self.env, self.data = env, data
        self.hosts: dict[str, dict] = {}
        self.groups: dict[str, list[str]] = {}
        for group, members in inv.items():
            if group.startswith("_") or not isinstance(members, list):
                continue
            if not all(isinstance(m, tuple) and len(m) == 2 for m in members):
                continue
            self.groups[group] = [name for name, _ in members]
            self.hosts.update({name: hd for name, hd in members})
        self.groups["all"] = list(self.groups.get(env, self.hosts))


class Ssh:
    """One command on one host over SSH, as root (sudo where the inventory says)."""

    def __init__(self, environment: Environment, timeout: float = 900):
        self.e, self.timeout = environment, timeout

    def argv(self, host: str, command: str) -> list[str]:
        d = self.e.hosts[host]
        # LogLevel=ERROR: ssh's "Permanently added ... to known hosts" on
        # stderr would otherwise land in output parsed as JSON.
        args = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]
        if d.get("ssh_key"):
            args += ["-i", d["ssh_key"]]
        if d.get("ssh_strict_host_key_checking") == "no":
            args += ["-o", "StrictHostKeyChecking=no"]
        if d.get("ssh_known_hosts_file"):
            args += ["-o", f"UserKnownHostsFile={d['ssh_known_hosts_file']}"]
        if d.get("ssh_port"):
            args += ["-p", str(d["ssh_port"])]
        remote = f"bash -c {shlex.quote(command)}"
        if d.get("_sudo"):
            remote = f"sudo -n {remote}"
        return args + [f"{d.get('ssh_user', 'root')}@{d['ssh_hostname']}", remote]

    def run(self, host: str, command: str) -> tuple[int, str]:
        try:
            p = subprocess.run(self.argv(host, command), capture_output=True, text=True,
                               timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return 124, f"timed out after {self.timeout} s"
        return p.returncode, p.stdout + p.stderr


def log(message: str) -> None:
    print(f"[{datetime.now(timezone.utc):%H:%M:%S}] {message}", flush=True)


def vip_holder(e: Environment, ssh: Ssh) -> str | None:
    for lb in e.groups.get("lb", []):
        rc, _ = ssh.run(lb, f"ip -o addr show | grep -q ' {e.data['vip']}/'")
        if rc == 0:
            return lb
    return None


def primary(e: Environment, ssh: Ssh) -> str | None:
    for db in e.groups.get("db", []):
        rc, out = ssh.run(db, "patronictl list -f json")
        if rc == 0:
            leaders = [m["Member"] for m in json.loads(out) if m.get("Role") == "Leader"]
            return leaders[0] if leaders else None
    return None


def settings(e: Environment, ssh: Ssh, pinned=None, only_packages=None) -> Settings:
    return Settings(
        lbs=e.groups.get("lb", []), app_port=e.data["app_port"], pinned=pinned,
        only_packages=only_packages,
        # A container shares the control machine's kernel and cannot reboot.
        can_reboot=lambda h: ssh.run(h, "systemd-detect-virt --container --quiet")[0] != 0,
    )


def patch_record(env: str, report: RunReport, seconds: float, kind: str, extra: dict) -> dict:
    status = "0" if report.failed is None else "1"
    return {**record.base(env, status, seconds), "kind": kind,
            "packages": {h.host: h.changes for h in report.done},
            "restarted": {h.host: h.restarted for h in report.done},
            "rebooted": [h.host for h in report.done if h.rebooted],
            "notes": {h.host: h.notes for h in report.done if h.notes},
            "failed": report.failed, "error": report.error, "untouched": report.untouched,
            **extra}


def write_on_hosts(ssh: Ssh, hosts: list[str], rec: dict) -> None:
    line = shlex.quote(json.dumps(rec, ensure_ascii=False))
    for h in hosts:
        ssh.run(h, f"mkdir -p /var/log/mimamori && echo {line} >> /var/log/mimamori/changes.jsonl"
                   f" && if command -v etckeeper >/dev/null && etckeeper unclean; then"
                   f" etckeeper commit 'mimamori patch {rec['id']}' >/dev/null; fi;"
                   # Upgraded programs are expected changes: renew the file
                   # integrity baseline under this record (as ci/deploy does).
                   f" if [ -x /usr/local/sbin/mimamori-aide ]; then"
                   f" /usr/local/sbin/mimamori-aide rebaseline {rec['id']}; fi; true")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Rolling OS patch (runbooks/patching.md)")
    p.add_argument("env")
    p.add_argument("--packages", help="only these packages (comma-separated): emergency fix")
    p.add_argument("--manifest", help="staging manifest id: install exactly its versions")
    p.add_argument("--limit", help="only these hosts (comma-separated), in the safe order")
    p.add_argument("--plan", action="store_true", help="print the order and stop")
    p.add_argument("--restart-app", action="store_true",
                   help="rolling restart of the app nodes with drain (after a deploy)")
    p.add_argument("--approve", metavar="ID", help="record the compliance result of a manifest")
    p.add_argument("--results")
    p.add_argument("--passed", choices=["0", "1"])
    a = p.parse_args(argv)

    if a.approve:
        path = manifest_dir() / f"{a.approve}.json"
        if not path.exists():
            log(f"no manifest {path}")
            return 2
        # The approval carries the locks' digest (production refuses other
        # locks) and the SBOM of what they install, next to the manifest.
        sbom = locks.write_sbom(path.with_name(f"{a.approve}.cdx.json"),
                                revision=record.git("rev-parse", "HEAD") or None)
        m = packages.approve(path, a.passed == "1", a.results or "",
                             datetime.now(timezone.utc).isoformat(timespec="seconds"),
                             locks_digest=locks.digest(), sbom=str(sbom))
        log(f"manifest {a.approve}: compliance {'passed' if m['compliance']['passed'] else 'FAILED'}"
            f"; locks {m['locks_digest']}; SBOM {sbom}")
        return 0

    pinned = None
    if a.env not in packages.STAGING_ENVIRONMENTS and not a.restart_app:
        # O-PATCH: production installs only a package set staging has passed.
        if not a.manifest:
            log("refusing: a production patch needs --manifest ID from a passed staging run "
                f"(ls {manifest_dir()})")
            return 2
        try:
            manifest = json.loads((manifest_dir() / f"{a.manifest}.json").read_text())
            pinned = packages.check_for_production(manifest)
        except (OSError, ValueError, packages.ManifestError) as exc:
            log(f"refusing: {exc}")
            return 2
        # Issue 17: the manifest's approval also names the dependency locks staging ran.
        try:
            locks.check_manifest(manifest, locks.digest())
        except locks.LockError as exc:
            if not locks.overridden():
                log(f"refusing: {exc}")
                return 2
            log(f"warning: {exc} ({locks.OVERRIDE}=1: going on)")

    e = Environment(a.env)
    ssh = Ssh(e)
    start = time.monotonic()
    rolling = Rolling(ssh, settings(e, ssh, pinned,
                                    a.packages.split(",") if a.packages else None), log=log)
    only = a.limit.split(",") if a.limit else None
    if a.restart_app:
        steps = [order.Step(h, APP) for h in e.groups.get("app", []) if not only or h in only]
        report = rolling_restart(rolling, steps)
        kind, extra = "app-restart", {}
    else:
        try:
            steps = order.plan(e.groups, vip_holder(e, ssh), primary(e, ssh), only)
        except order.PlanError as exc:
            log(f"refusing: {exc}")
            return 2
        for s in steps:
            log(f"plan: {s.host} ({s.kind})"
                + (f", switchover to {s.switchover_to} first" if s.switchover_to else "")
                + "".join(f"; {n}" for n in s.notes))
        if a.plan:
            # What each host would install now (simulation; package lists as
            # last refreshed by the apt timers).
            for s in steps:
                rc, out = ssh.run(s.host, packages.PREVIEW)
                new = packages.parse_upgradable(out) if rc == 0 else {}
                log(f"preview: {s.host}: " + (f"{len(new)} package(s): " + ", ".join(
                    f"{n} {v}" for n, v in sorted(new.items())) if rc == 0 else f"apt failed: {out[-200:]}"))
            return 0
        report = rolling.run(steps)
        kind, extra = "patch", {"manifest": a.manifest, "only_packages": a.packages}
    rec = patch_record(a.env, report, time.monotonic() - start, kind, extra)
    if kind == "patch" and a.env in packages.STAGING_ENVIRONMENTS and report.failed is None:
        try:
            merged = packages.merge({h: c for h, c in rec["packages"].items()})
            m = packages.write_manifest(manifest_dir() / f"{rec['id']}.json", rec, merged)
            rec["manifest"] = m["id"]
            log(f"manifest {m['id']}: {len(merged)} package(s); production may apply it "
                "once the compliance suite has passed (ci/patch does that)")
        except packages.ManifestError as exc:
            log(f"no manifest: {exc}")
    record.append(a.env, rec)
    write_on_hosts(ssh, [h.host for h in report.done], rec)
    print(json.dumps(rec, ensure_ascii=False))
    return 0 if report.failed is None else 1


def rolling_restart(rolling: Rolling, steps: list[Step]) -> RunReport:
    """Each app node: drain on every load balancer, restart into the release its
    `current` link names, wait for /healthz and every HAProxy's UP, put it back."""
    report = RunReport()
    for i, step in enumerate(steps):
        hr = HostReport(step.host)
        try:
            rolling.drain(step.host)
            rolling.must(step.host, "systemctl restart mimamori.service", "restart mimamori")
            hr.restarted.append("mimamori.service")
            rolling.back_in(step.host)
        except Exception as exc:  # noqa: BLE001 - any failure stops the run
            report.failed, report.error = step.host, str(exc)
            report.untouched = [s.host for s in steps[i + 1:]]
            report.done.append(hr)
            log(f"STOPPED at {step.host}: {exc}")
            return report
        report.done.append(hr)
    return report


if __name__ == "__main__":
    sys.exit(main())
