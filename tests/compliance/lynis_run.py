"""Run Lynis on every host of an inventory in parallel and keep each report.

    python lynis_run.py ENV OUTDIR   -> OUTDIR/lynis/HOST.dat (+ .log)
"""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import inventory

TIMEOUT_S = 900


def run(node, out: Path) -> tuple[str, int]:
    if node.data.get("lynis_skip"):
        # Said in the report, with the inventory's reason: never silently left out.
        (out / f"{node.name}.dat").write_text("")
        (out / f"{node.name}.note").write_text(f"Not run: {node.data['lynis_skip']}")
        return node.name, "not run"
    ssh = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
    if node.data.get("ssh_key"):
        ssh += ["-i", node.data["ssh_key"]]
    if node.data.get("ssh_strict_host_key_checking") == "no":
        ssh += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
    target = f"{node.data.get('ssh_user', 'root')}@{node.address}"
    sudo = "sudo " if node.data.get("_sudo") else ""
    # Idle CPU and I/O priority: the audit runs on live hosts and must not
    # starve what it audits (keepalived's checks timed out under it in the lab).
    cmd = (f"{sudo}nice -n 19 ionice -c 3 lynis audit system --quiet --no-colors --report-file /root/lynis-report.dat"
           f" --logfile /root/lynis.log >/dev/null 2>&1; {sudo}cat /root/lynis-report.dat")
    try:
        r = subprocess.run(ssh + [target, cmd], capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # Never fail the whole report for one slow host (the software-emulated VM
        # is ~8x slower): the report shows this host without an index, and why.
        (out / f"{node.name}.dat").write_text("")
        (out / f"{node.name}.note").write_text(f"Lynis did not finish within {TIMEOUT_S} s on this host.")
        return node.name, "timeout"
    (out / f"{node.name}.dat").write_text(r.stdout)
    if r.returncode:
        (out / f"{node.name}.note").write_text(f"Lynis ended with exit code {r.returncode}: {r.stderr[-300:]}")
    return node.name, r.returncode


def main(env: str, outdir: str) -> int:
    inv = inventory.load(env)
    out = Path(outdir) / "lynis"
    out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=len(inv.nodes)) as pool:
        results = list(pool.map(lambda n: run(n, out), inv.nodes.values()))
    for name, rc in results:
        print(f"lynis {name}: exit {rc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
