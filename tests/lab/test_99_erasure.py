"""End-of-contract erasure of the whole lab (O-ERASE, T-SP 29/31), the very
last drill of a run: `backup/erase all lab` from the control machine erases
every host of the inventory and then the environment's secrets here. Beside
the script's own verification, the test looks for itself on every host: a
canary value written into the database beforehand (found in plain text in the
database node's files first, so the search can fail) must be nowhere, no data
directory or key file may remain, and each host keeps its report.

After this file nothing of the lab's data is left: ci/lab-test takes the lab
down; a lab kept up needs `ci/lab/lab up` and `ci/deploy lab` afresh."""

from __future__ import annotations

import json
import os
import runpy
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import dbdrill
from backupkit import on_long, switch_wal_and_wait
from labkit import LAB, REPO, lab, on, wait_for

req = pytest.mark.req
HOSTS = [name for name, _ in runpy.run_path(str(REPO / "provisioning" / "inventories" / "lab.py"))["lab"]]
SECRETS_DIR = Path(os.environ.get("MIMAMORI_SECRETS_DIR", REPO / "provisioning" / "secrets")) / "lab"
# Where data could be copied to on a host; /usr holds only packages.
SEARCHED = "/var /etc /root /home /opt /srv /tmp"
# Data, archives and keys of the appliance's roles (backup/erase TARGETS names more).
MUST_BE_GONE = ("/var/lib/postgresql /var/lib/pgbackrest /var/lib/mimamori-restic /var/lib/etcd"
                " /var/lib/mimamori /etc/mimamori /etc/patroni /etc/pgbackrest /etc/mimamori-backup"
                " /var/log/remote /var/log/mimamori-backup")


def _canary_files(host: str, canary: str) -> list[str]:
    # Minutes on the emulated VM: on_long.
    out = on_long(host, f"grep -rlsF {canary} {SEARCHED}; true")
    return out.split()


def _left_over(host: str, canary: str) -> dict:
    return {
        "canary": _canary_files(host, canary),
        "paths": on(host, f"ls -d {MUST_BE_GONE} 2>/dev/null; true").split(),
        "signatures": on_long(host, "find / -xdev \\( -name PG_VERSION -o -name backup.info -o -name"
                               " archive.info -o -name backup.manifest \\) -not -path '/usr/*'"
                               " -print").split(),
        "report": json.loads(on(host, "cat $(ls -t /var/log/mimamori-erasure/erasure-*.json"
                                      " | head -1)")),
    }


def _answers(host: str) -> bool:
    return subprocess.run(["bash", str(LAB), "ssh", host, "true"], capture_output=True,
                          timeout=60).returncode == 0


def _every_host_up() -> None:
    """Earlier drills leave hosts stopped (test_90 stops lb1); the erasure must
    reach every one (a host it cannot reach leaves the run INCOMPLETE)."""
    for host in HOSTS:
        if not _answers(host):
            lab("start", host)
    assert wait_for(lambda: all(_answers(h) for h in HOSTS), timeout=180, interval=2)


@req("O-ERASE")
def test_erasing_the_lab_leaves_nothing_readable_on_any_host():
    _every_host_up()
    canary = f"mimamori-erasure-canary-{secrets.token_hex(8)}"
    lead = dbdrill.healthy_cluster()
    dbdrill.psql(lead, "CREATE TABLE IF NOT EXISTS erasure_canary (value text NOT NULL);"
                       f" ALTER TABLE erasure_canary OWNER TO {dbdrill.OWNER};"
                       f" INSERT INTO erasure_canary VALUES ('{canary}')")
    # Into the WAL archive on backup1 too (encrypted there, found by path).
    switch_wal_and_wait(lead)
    assert any(f.startswith("/var/lib/postgresql/") for f in _canary_files(lead, canary)), \
        "the search does not find the canary even where it is stored"
    assert SECRETS_DIR.is_dir()

    run = subprocess.run(
        [sys.executable, str(REPO / "backup" / "erase"), "all", "lab", "--operator", "lab-drill",
         "--reason", "erasure drill (end of contract)", "--confirm", "lab"],
        capture_output=True, text=True, timeout=3600)
    report = json.loads(run.stdout)
    hosts = report["hosts"]
    for name, host in sorted(hosts.items()):
        targets = host.get("targets", [])
        print(f"erasure {name}: {host.get('result')} {host.get('started')}..{host.get('finished')},"
              f" {len(targets)} targets, {sum(t['bytes'] for t in targets)} bytes")
    assert run.returncode == 0 and report["result"] == "erased", run.stderr[-2000:]
    assert sorted(hosts) == sorted(HOSTS)
    for name, host in hosts.items():
        assert host["result"] == "erased" and host["verification"] == [], (name, host)
        assert host["operator"] == "lab-drill" and host["started"] <= host["finished"]
    assert report["control_machine"]["removed"] and not SECRETS_DIR.exists()
    saved = json.loads(Path(report["report_file"]).read_text())
    assert saved["result"] == "erased" and saved["operator"] == "lab-drill"

    # What the script says, checked from outside on every host at once.
    with ThreadPoolExecutor(len(HOSTS)) as pool:
        found = dict(zip(HOSTS, pool.map(lambda h: _left_over(h, canary), HOSTS)))
    for name, left in found.items():
        assert left["canary"] == [] and left["paths"] == [] and left["signatures"] == [], (name, left)
        assert left["report"]["host"] == name and left["report"]["result"] == "erased"
