"""Helpers for the backup checks and drills (test_26_backup.py,
test_97_backup_drills.py): pgBackRest on the backup host, the database
primary, and the commands the deployed backup/ scripts offer."""

from __future__ import annotations

import json
import subprocess

import dbdrill
from labkit import LAB, on

BACKUP = "backup1"
STANZA = "mimamori"
PGBR = f"runuser -u pgbackrest -- pgbackrest --stanza={STANZA}"
DATA_DIR = "/var/lib/postgresql/15/mimamori"


def on_long(host: str, command: str, timeout: float = 900, check: bool = True) -> str:
    """labkit.on for what takes minutes (backups, restores, drills)."""
    r = subprocess.run(["bash", str(LAB), "ssh", host, command], capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode:
        raise AssertionError(f"{host}: {command!r} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r.stdout


def info() -> dict:
    out = on(BACKUP, f"{PGBR} --output=json info")
    return next(s for s in json.loads(out) if s["name"] == STANZA)


def full_labels() -> list[str]:
    return [b["label"] for b in info().get("backup", []) if b["type"] == "full"]


def backup(kind: str = "full") -> str:
    """Take one backup with the scheduled job's command; return its label."""
    on_long(BACKUP, f"/usr/local/sbin/mimamori-backup {kind} >/dev/null")
    return info()["backup"][-1]["label"]


def primary_sql(sql: str) -> str:
    return dbdrill.psql(dbdrill.healthy_cluster(), sql)


def archiver(node: str) -> dict:
    out = dbdrill.psql(node, "SELECT row_to_json(a) FROM pg_stat_archiver a", db="postgres")
    return json.loads(out)


def switch_wal_and_wait(node: str, timeout: float = 90) -> str:
    """Close the current WAL segment on ``node`` and wait until it is archived."""
    import labkit

    seg = dbdrill.psql(node, "SELECT pg_walfile_name(pg_switch_wal())", db="postgres").strip()
    ok = labkit.wait_for(lambda: (archiver(node).get("last_archived_wal") or "") >= seg,
                         timeout=timeout, interval=1)
    assert ok, (seg, archiver(node))
    return seg
