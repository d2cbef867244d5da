"""Destructive backup drills (issue 8: O-BACKUP10, O-RESTORE, O-ERASE), last
of all: twelve backups leave exactly the latest ten; the database cluster is
destroyed and restored from backup1 (data lost and restore time printed); a
damaged or wrong-key repository fails the restore loudly and leaves the
running database alone; and the scheduled drill records its metrics. The
erasure of every host (O-ERASE) is the last drill of all, test_99_erasure.py."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import dbdrill
import runbookkit
from backupkit import (BACKUP, DATA_DIR, archiver, backup, full_labels, info, on_long,
                       switch_wal_and_wait)
from labkit import on, wait_for

req = pytest.mark.req
TABLE = "backup_drill"


@req("O-BACKUP10")
def test_twelve_backups_leave_exactly_the_latest_ten():
    taken, first_wal = [], {}
    for i in range(12):
        taken.append(backup("full"))
        first_wal[taken[-1]] = info()["backup"][-1]["archive"]["start"]
        if i == 10:
            # While the 11th full is being made, and after, ten are kept.
            assert len(full_labels()) == 10
    labels = full_labels()
    print(f"fulls kept: {labels}")
    assert labels == taken[-10:]
    st = info()
    oldest = st["backup"][0]
    assert oldest["label"] == taken[2]
    # WAL of the expired generations went with them.
    assert st["archive"][0]["min"] > first_wal[taken[1]]
    metrics = on(BACKUP, "cat /var/lib/prometheus/node-exporter/mimamori-backup.prom")
    assert "mimamori_backup_generations 10\n" in metrics


def _destroy_cluster() -> None:
    """Both nodes crash at once (SIGKILL to Patroni and PostgreSQL): no orderly
    shutdown, no promotion that would archive the last partial segment, so what
    was not archived yet is lost, as in a real disaster."""
    with ThreadPoolExecutor(len(dbdrill.DB_NODES)) as pool:
        list(pool.map(lambda node: on(node, "systemctl kill --signal=KILL patroni.service;"
                                            " systemctl stop patroni.service"), dbdrill.DB_NODES))
    for node in dbdrill.DB_NODES:
        on(node, f"rm -rf {DATA_DIR}")


def _restore_cluster(leader: str) -> None:
    """runbooks/backup.md "Restore after losing the database cluster", its
    command blocks run as written, in order, on the hosts they name (a step
    that no longer works fails here). Between them, what the operator is told
    to see before going on: db1 the leader, then a streaming replica."""
    runbookkit.run("restore.stop-writers")
    runbookkit.run("restore.stop-replica", replica=dbdrill.other(leader))
    runbookkit.run("restore.stop-leader", leader=leader)
    runbookkit.run("restore.forget-cluster", env="lab")
    runbookkit.run("restore.restore-db1")
    assert wait_for(lambda: dbdrill.rest("db1", "/primary") == 200, timeout=180, interval=1)
    runbookkit.run("restore.rejoin-db2")
    dbdrill.healthy_cluster(timeout=300)
    runbookkit.run("restore.start-writers")
    out = runbookkit.run("restore.verify-audit")
    print(f"after restore: {out['app1'].strip()}")
    runbookkit.run("restore.full-backup")


@req("O-RESTORE")
def test_cluster_destroyed_and_restored_keeps_every_archived_commit():
    lead = dbdrill.healthy_cluster()
    dbdrill.psql(lead, f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (id bigint PRIMARY KEY,"
                       " at timestamptz NOT NULL DEFAULT clock_timestamp(),"
                       " lsn pg_lsn NOT NULL DEFAULT pg_current_wal_insert_lsn());"
                       f" ALTER TABLE {TABLE} OWNER TO {dbdrill.OWNER}")
    # Rows committed one by one (~0.15 s apart) on the primary itself. The
    # first 150 are then closed into a segment that is archived (what
    # archive_timeout does every 30 s in the lab, forced here so the drill does
    # not depend on when the timer fires); the next 150 follow, some of them
    # only in the open segment: those are the data a destroyed cluster loses.
    insert = (f"sudo -u postgres psql -X -q -d mimamori -c"
              f" \"INSERT INTO {TABLE} (id) VALUES ($i)\"; sleep 0.1")
    on(lead, f"for i in $(seq 1 150); do {insert}; done")
    switched = switch_wal_and_wait(lead)
    safe = {int(x) for x in dbdrill.psql(lead, f"SELECT id FROM {TABLE}").split()}
    on(lead, f"for i in $(seq 151 300); do {insert}; done")
    committed = {int(x) for x in dbdrill.psql(lead, f"SELECT id FROM {TABLE}").split()}
    last_archived = archiver(lead)["last_archived_wal"]
    # Rows whose segment was archived meanwhile by archive_timeout are safe too.
    safe |= {int(x) for x in dbdrill.psql(
        lead, f"SELECT id FROM {TABLE} WHERE pg_walfile_name(lsn) < '{last_archived}'").split()}
    last_commit = float(dbdrill.psql(lead, f"SELECT extract(epoch FROM max(at)) FROM {TABLE}"))
    print(f"{len(committed)} rows committed, {len(safe)} in segments before the last archived"
          f" one ({last_archived}; forced switch at {switched})")

    _destroy_cluster()
    t0 = time.monotonic()
    _restore_cluster(lead)
    restore_s = time.monotonic() - t0

    lead = dbdrill.healthy_cluster()
    restored = {int(x) for x in dbdrill.psql(lead, f"SELECT id FROM {TABLE}").split()}
    last_restored = float(dbdrill.psql(lead, f"SELECT coalesce(extract(epoch FROM max(at)), 0)"
                                             f" FROM {TABLE}"))
    lost_s = last_commit - last_restored
    print(f"restore drill: runbook from stopping the app to the new full backup {restore_s:.1f} s;"
          f" data lost {lost_s:.1f} s"
          f" ({len(committed) - len(restored)} of {len(committed)} rows)")
    assert safe, "no row reached an archived segment: the drill proves nothing"
    assert safe - restored == set(), sorted(safe - restored)[:20]
    assert restored <= committed
    # The app writes again through its multi-host connection.
    dbdrill.prepare_table()
    with dbdrill.Writer("after-restore", 5, int(time.time() * 1000)) as w:
        pass
    assert w.result.acked, w.result.errors[-5:]


def _drill(extra: str = "") -> tuple[int, dict, str]:
    """Run the drill by hand: exit code, its JSON result (stdout), what it said (stderr)."""
    out = on_long(BACKUP, f"/usr/local/sbin/mimamori-restore-drill {extra} 2>/tmp/drill-stderr.txt;"
                          " echo rc=$?", check=False)
    rc = int(out.rsplit("rc=", 1)[1])
    return rc, json.loads(out.rsplit("rc=", 1)[0]), on(BACKUP, "cat /tmp/drill-stderr.txt")


@req("O-RESTORE")
def test_damaged_or_wrong_key_repository_fails_loudly_and_leaves_the_database():
    lead = dbdrill.healthy_cluster()
    before = dbdrill.psql(lead, f"SELECT count(*) FROM {TABLE}").strip()
    on(BACKUP, "sed 's/^repo1-cipher-pass=.*/repo1-cipher-pass=not-the-key/' /etc/pgbackrest/drill.conf"
               " > /etc/pgbackrest/wrong-key.conf && chgrp pgbackrest /etc/pgbackrest/wrong-key.conf"
               " && chmod 0640 /etc/pgbackrest/wrong-key.conf")
    rc, entry, out = _drill("--no-metrics --config /etc/pgbackrest/wrong-key.conf")
    assert rc == 1 and "RESTORE DRILL FAILED" in out and entry["result"] == "failed", out
    # For the key's reason: backup.info decrypts to garbage (not, say, a
    # permission). pgBackRest's closing hint; the error is kept to its last
    # 800 characters, and the garbage it quotes before can fill them.
    assert "backup.info cannot be opened" in entry["error"], entry["error"]
    print(f"wrong key: {entry['error'][-240:]}")
    # A damaged copy of the repository: one file of the latest backup overwritten.
    on(BACKUP, "rm -rf /var/lib/pgbackrest-damaged && cp -a /var/lib/pgbackrest /var/lib/pgbackrest-damaged"
               " && f=$(ls -S $(ls -d /var/lib/pgbackrest-damaged/backup/mimamori/*F | tail -1)/bundle/* | head -1)"
               " && dd if=/dev/urandom of=$f bs=1k count=4 seek=1 conv=notrunc status=none"
               " && sed 's#^repo1-path=.*#repo1-path=/var/lib/pgbackrest-damaged#' /etc/pgbackrest/drill.conf"
               " > /etc/pgbackrest/damaged.conf && chgrp pgbackrest /etc/pgbackrest/damaged.conf"
               " && chmod 0640 /etc/pgbackrest/damaged.conf")
    try:
        rc, entry, out = _drill("--no-metrics --config /etc/pgbackrest/damaged.conf")
    finally:
        on(BACKUP, "rm -rf /var/lib/pgbackrest-damaged /etc/pgbackrest/damaged.conf"
                   " /etc/pgbackrest/wrong-key.conf")
    assert rc == 1 and "RESTORE DRILL FAILED" in out and entry["result"] == "failed", out
    # The repository is encrypted: where the overwritten bytes land decides
    # whether decryption (CryptoError) or decompression ("Data corruption
    # detected") or the checksum notices first. Each is the damage, not a permission.
    assert any(sign in entry["error"] for sign in ("CryptoError", "corruption", "checksum")), \
        entry["error"]
    print(f"damaged repository: {entry['error'][-240:]}")
    # The running cluster saw nothing of it.
    assert dbdrill.healthy_cluster() == lead
    assert dbdrill.psql(lead, f"SELECT count(*) FROM {TABLE}").strip() == before
    assert info()["status"]["code"] == 0


@req("O-RESTORE")
def test_scheduled_drill_passes_and_records_its_metrics():
    on_long(BACKUP, "systemctl start mimamori-restore-drill.service")
    log = on(BACKUP, "tail -1 /var/log/mimamori-backup/drill.jsonl")
    entry = json.loads(log)
    print(f"drill: {entry['result']} in {entry['duration_seconds']} s, counts {entry.get('counts')}")
    assert entry["result"] == "ok", entry
    assert entry["counts"]["accounts"] > 0 and entry["audit_records_verified"] >= 0
    metrics = on(BACKUP, "cat /var/lib/prometheus/node-exporter/mimamori-restore-drill.prom")
    assert "mimamori_restore_drill_success 1\n" in metrics
    assert "mimamori_restore_drill_duration_seconds" in metrics
    assert on(BACKUP, "test -e /var/lib/pgbackrest-drill && echo left || echo gone").strip() == "gone"
