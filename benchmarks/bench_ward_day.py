"""Benchmark (not a test; lab only, kept out of CI): a ward's day through the
lab's VIP over TLS with Locust (issue 19 item 5), at 10x the ward's rate, and
the same during a rolling patch of every host with the database leader
switched over. Users and rates: benchmarks/ward_day_locustfile.py.

    .venv-ops/bin/python benchmarks/bench_ward_day.py [--seconds 300]
    .venv-ops/bin/python benchmarks/bench_ward_day.py --during-rolling-patch
    # against a local server (ward demo loaded with --alongside w):
    python3 benchmarks/bench_ward_day.py --url http://127.0.0.1:6543 --logins ward-logins.tsv

Locust comes from locks/bench.txt into .venv-bench/ (hash-checked), on this
machine only. In the lab, the ward's scale (500 facilities, 5,000 children,
102 caseworkers with a second factor) is added once beside the small demo the
lab tests use (``mimamori demo-data --scale setagaya --alongside w`` on app1,
against the primary); its logins are kept in /var/lib/mimamori/ward-logins.tsv.

Prints requests per second, p50/p95/p99 per page once every user has logged
in (Locust's --reset-stats; the start's failures still count), failures by
kind (with --during-rolling-patch split into inside and outside the database
switchover), and the RSS of each app process on app1/app2 at start and end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH_VENV = REPO / ".venv-bench"
LOCUSTFILE = REPO / "benchmarks" / "ward_day_locustfile.py"
APP_NODES = ("app1", "app2")
WARD_LOGINS = "/var/lib/mimamori/ward-logins.tsv"
# The role's way to run the app's command (roles/app): the service's user and
# secrets, and the owner-side login, which the bulk load needs for setval.
RUN_AS_SERVICE = ("systemd-run --quiet --wait --pipe --collect -p User=mimamori "
                  "-p EnvironmentFile=/etc/mimamori/secrets.env -p EnvironmentFile=/etc/mimamori/migrate.env "
                  "/opt/mimamori/current/venv/bin/mimamori -c /etc/mimamori/mimamori.ini")
# Failures this long after the orchestrator's switchover step ended still
# count as the switch's: the app's pool reconnecting to the new leader.
SWITCH_GRACE_S = 5.0
AIM_P95_MS = 300


def ensure_bench_venv() -> Path:
    """.venv-bench with Locust from the hash-pinned lock (as ci/lib.sh builds its venvs)."""
    locust = BENCH_VENV / "bin" / "locust"
    if not locust.exists():
        subprocess.run([sys.executable if sys.version_info >= (3, 10) else "python3", "-m", "venv",
                        str(BENCH_VENV)], check=True)
        subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                        "--require-hashes", "-r", str(REPO / "locks" / "bench.txt")], check=True)
    return locust


def lab_ward_logins(labkit) -> str:
    """The ward-scale logins, loading the ward beside the small demo the first time."""
    text = labkit.on("app1", f"cat {WARD_LOGINS} 2>/dev/null || true")
    if text.strip():
        return text
    print("loading the ward's scale beside the small demo on app1 (once)...", flush=True)
    # Not labkit.on: its 2 minutes are too short for the bulk load on a busy lab.
    subprocess.run(["bash", str(labkit.LAB), "ssh", "app1",
                    f"{RUN_AS_SERVICE} demo-data --scale setagaya --alongside w > {WARD_LOGINS}.new"
                    f" && chmod 600 {WARD_LOGINS}.new && mv {WARD_LOGINS}.new {WARD_LOGINS}"],
                   check=True, timeout=1200)
    return labkit.on("app1", f"cat {WARD_LOGINS}")


def app_memory(labkit) -> dict[str, list[tuple[str, int]]]:
    """(pid, RSS in MB) of each application process (waitress, `mimamori serve`) per app node."""
    found = {}
    for host in APP_NODES:
        out = labkit.on(host, "ps -u mimamori -o pid=,rss=,args= | grep '[m]imamori.* serve' || true",
                        check=False)
        found[host] = [(p[0], int(p[1]) // 1024) for p in (line.split(None, 2) for line in out.splitlines())
                       if len(p) == 3]
    return found


def run_locust(locust: Path, url: str, ca: str | None, logins: Path, seconds: float, out: Path,
               users: str | None) -> subprocess.Popen:
    env = {**os.environ, "WARD_DAY_LOGINS": str(logins), "WARD_DAY_FAILURES": str(out / "failures.jsonl"),
           "WARD_DAY_CA": ca or ""}
    if users:
        env["WARD_DAY_USERS"] = users
    total = sum(int(n) for n in (users or "20,30,100").split(","))
    # Two logins a second while the crowd arrives: argon2 on every login is the
    # app's most expensive request, and a real morning does not start at once.
    return subprocess.Popen(
        [str(locust), "-f", str(LOCUSTFILE), "--headless", "--host", url, "-u", str(total), "-r", "2",
         "-t", f"{int(seconds)}s", "--reset-stats", "--csv", str(out / "ward"), "--only-summary",
         "--stop-timeout", "10"],
        env=env, stdout=open(out / "locust.log", "w"), stderr=subprocess.STDOUT)


class Orchestrator(threading.Thread):
    """The rolling patch as bench_rolling_patch runs it, each output line timed."""

    def __init__(self, patchkit):
        super().__init__(daemon=True)
        self.patchkit, self.lines, self.rc = patchkit, [], None

    def run(self):
        p = subprocess.Popen(["/usr/bin/python3", "patch.py", "lab", "--limit", ",".join(self.patchkit.HOSTS)],
                             cwd=REPO / "provisioning", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        for line in p.stdout:
            self.lines.append((time.time(), line.rstrip()))
        self.rc = p.wait()

    def switch_windows(self) -> list[tuple[float, float]]:
        """From each "switchover to" line to the orchestrator's next line (the
        new leader confirmed and the old one streaming), plus the grace."""
        windows = []
        for i, (at, line) in enumerate(self.lines):
            if re.search(r"\] switchover to ", line):
                end = self.lines[i + 1][0] if i + 1 < len(self.lines) else time.time()
                windows.append((at, end + SWITCH_GRACE_S))
        return windows


def read_stats(out: Path) -> list[dict]:
    with open(out / "ward_stats.csv") as f:
        return list(csv.DictReader(f))


def read_failures(out: Path) -> list[dict]:
    path = out / "failures.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def print_report(out: Path, windows: list[tuple[float, float]] | None) -> bool:
    rows = read_stats(out)
    print(f"\n{'page':<52} {'reqs':>6} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6}  (ms, after the ramp)")
    worst = worst_reading = 0.0
    for r in rows:
        label = f"{r['Type']} {r['Name']}".strip()
        print(f"{label:<52} {r['Request Count']:>6} {r['Failure Count']:>5} {r['50%']:>6} {r['95%']:>6} "
              f"{r['99%']:>6}")
        if r["Name"] != "Aggregated" and r["95%"] not in ("N/A", ""):
            worst = max(worst, float(r["95%"]))
            # Logging in hashes the password with argon2 on purpose (S-AUTH): slow by design.
            if not r["Name"].startswith("/login"):
                worst_reading = max(worst_reading, float(r["95%"]))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(f"throughput {float(total['Requests/s']):.1f} requests/s after the ramp, "
          f"worst page p95 {worst:.0f} ms, without the login steps {worst_reading:.0f} ms "
          f"(aim < {AIM_P95_MS} ms)")
    failures = read_failures(out)
    print(f"failed requests, whole run including the ramp: {len(failures)}")
    if windows is None:
        for (page, kind), n in Counter((f["page"], f["kind"]) for f in failures).most_common():
            print(f"  {n:5} {kind:<28} {page}")
        return worst < AIM_P95_MS and not failures
    inside = [f for f in failures if any(a <= f["at"] <= b for a, b in windows)]
    outside = [f for f in failures if f not in inside]
    spans = ", ".join(f"{time.strftime('%H:%M:%S', time.gmtime(a))}-{time.strftime('%H:%M:%S', time.gmtime(b))}"
                      f" UTC ({b - a:.0f} s)" for a, b in windows)
    print(f"database switchover window(s): {spans or 'none seen'}")
    for label, group in (("inside the switchover", inside), ("outside it", outside)):
        print(f"  {label}: {len(group)}")
        for (page, kind), n in Counter((f["page"], f["kind"]) for f in group).most_common():
            print(f"    {n:5} {kind:<28} {page}")
    return worst < AIM_P95_MS and not outside


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=300, help="length of the plain run (default 300)")
    ap.add_argument("--during-rolling-patch", action="store_true",
                    help="run the rolling patch of every lab host meanwhile; the load lasts as long")
    ap.add_argument("--url", help="a local server instead of the lab's VIP (no memory, no patch)")
    ap.add_argument("--logins", type=Path, help="with --url: the `demo-data --alongside` output")
    ap.add_argument("--users", help="attendance,reports,caseworkers users (default 20,30,100)")
    a = ap.parse_args(argv)
    locust = ensure_bench_venv()
    out = Path(tempfile.mkdtemp(prefix="ward-day-"))
    labkit = patchkit = None
    if a.url:
        url, ca, logins = a.url, None, a.logins
    else:
        sys.path.insert(0, str(REPO / "tests" / "lab"))
        import labkit
        import patchkit
        url, ca = labkit.BASE, labkit.acme_root(out / "root.pem")
        logins = out / "ward-logins.tsv"
        logins.write_text(lab_ward_logins(labkit))
    if labkit:
        before = app_memory(labkit)
    windows = None
    if a.during_rolling_patch:
        patchkit.install_v1()
        try:
            proc = run_locust(locust, url, ca, logins, 3600, out, a.users)
            time.sleep(90)  # every user in (2 a second), before the first host is drained
            orchestrator = Orchestrator(patchkit)
            orchestrator.start()
            orchestrator.join()
            time.sleep(30)  # the last host back in rotation, under load
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        finally:
            patchkit.cleanup()
        print("\n".join(line for _at, line in orchestrator.lines[-12:]))
        print(f"rolling patch of {len(patchkit.HOSTS)} hosts: exit {orchestrator.rc}, "
              f"{orchestrator.lines[-1][0] - orchestrator.lines[0][0]:.0f} s" if orchestrator.lines else "")
        windows = orchestrator.switch_windows()
    else:
        proc = run_locust(locust, url, ca, logins, a.seconds, out, a.users)
        proc.wait(timeout=a.seconds + 300)
    ok = print_report(out, windows)
    if labkit:
        after = app_memory(labkit)
        for host in APP_NODES:
            print(f"RSS {host}: start {before[host]} end {after[host]} (pid, MB)")
    print(f"Locust's CSV files and log: {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
