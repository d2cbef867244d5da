"""The audit tamper drill (S-AUDIT, issue #20): someone with PostgreSQL superuser
on the Patroni primary drops the append-only triggers, rewrites one change
record and recomputes the following hashes with the app's own record_hash, and
deletes the tail. The SHA-256 chain alone still verifies; the signed
checkpoints do not:

- the scheduled verification on app1 (mimamori-audit-verify) fails, naming the
  recomputed record and the deleted tail;
- monitoring mails AuditChainBroken for app1 within the alerting target;
- the restore drill, restoring the tampered database and the checkpoints from
  the file backups, fails naming the same.

Then the original rows and the triggers go back, the verification passes again
and the alert resolves: the lab stays valid for the drills after this one.

Destructive (rewrites the change records, stops the periodic jobs for a few
minutes): numbered >= 50, before the backup drills (97) and the erasure (99).
"""

from __future__ import annotations

import base64
import json
import time

import pytest

import dbdrill
from backupkit import BACKUP, on_long, switch_wal_and_wait
from labkit import on, wait_for
from test_60_alerting import LIMIT, notice

req = pytest.mark.req

APP = "app1"
APP_NODES = ("app1", "app2")
SAVED = "audit_tamper_drill_saved"
AS_SERVICE = ("systemd-run --quiet --wait --pipe --collect -p User=mimamori "
              "-p EnvironmentFile=/etc/mimamori/secrets.env ")
MIMAMORI = "/opt/mimamori/current/venv/bin/mimamori -c /etc/mimamori/mimamori.ini"
PYTHON = "/opt/mimamori/current/venv/bin/python"

# Runs on app1 with the app's code and its database login: new records through
# the app's recorder, or the tampered values computed with the app's record_hash.
APPEND = """
import os, sys
from webapp.audit.recorder import append_records, system_actor
from webapp.db import create_engine
engine = create_engine(os.environ["MIMAMORI_DATABASE_URL"])
with engine.begin() as connection:
    for i in range(int(sys.argv[1])):
        append_records(connection, system_actor("audit-tamper-drill"), [{
            "action": "update", "entity": "drill", "entity_id": str(i), "child_id": None,
            "before": "{}", "after": "{}"}])
with engine.connect() as connection:
    print(connection.exec_driver_sql("SELECT max(id) FROM audit_records").scalar())
"""
RECOMPUTE = """
import json, os, sys
import sqlalchemy as sa
from webapp.audit.chain import _normalise, record_hash
from webapp.audit.models import AuditRecord
from webapp.db import create_engine
first, keep_to = int(sys.argv[1]), int(sys.argv[2])
engine = create_engine(os.environ["MIMAMORI_DATABASE_URL"])
with engine.connect() as connection:
    rows = connection.execute(sa.select(AuditRecord.__table__).where(AuditRecord.id >= first - 1)
                              .order_by(AuditRecord.id)).mappings().all()
prev, out = rows[0]["hash"], []
for row in rows[1:]:
    if row["id"] > keep_to:
        break
    values = dict(row)
    if row["id"] == first:
        values["after"] = json.dumps({"drill": "rewritten"})
    new_hash = record_hash(prev, _normalise(values))
    out.append({"id": row["id"], "after": values["after"], "prev_hash": prev, "hash": new_hash})
    prev = new_hash
print(json.dumps(out))
"""


def app_python(script: str, *args: str) -> str:
    encoded = base64.b64encode(script.encode()).decode()
    on(APP, f"echo {encoded} | base64 -d > /run/audit-tamper-drill.py && chmod 0644 /run/audit-tamper-drill.py")
    try:
        return on(APP, AS_SERVICE + f"{PYTHON} /run/audit-tamper-drill.py {' '.join(args)}")
    finally:
        on(APP, "rm -f /run/audit-tamper-drill.py", check=False)


def superuser_sql(primary: str, sql: str) -> str:
    """As PostgreSQL's superuser on the primary (peer login of the postgres OS user)."""
    encoded = base64.b64encode(sql.encode()).decode()
    return on(primary, f"echo {encoded} | base64 -d | sudo -u postgres psql -X -At -v ON_ERROR_STOP=1 -d mimamori")


def sign_checkpoint() -> None:
    on(APP, AS_SERVICE + f"{MIMAMORI} audit checkpoint")


def verify_on_app() -> tuple[int, str]:
    """The scheduled verification, started as the timer starts it; its report and exit."""
    out = on(APP, "systemctl start mimamori-audit-verify.service; echo rc=$?; "
                  "cat \"$(ls -1t /var/log/mimamori/audit-verify/verify-*.txt | head -n 1)\"", check=False)
    rc = int(out.split("rc=", 1)[1].split()[0])
    return rc, out


def metric(name: str) -> str:
    return on(APP, f"grep '^{name} ' /var/lib/prometheus/node-exporter/mimamori_audit_verify.prom").split()[1]


def restore_drill() -> str:
    return on_long(BACKUP, "/usr/local/sbin/mimamori-restore-drill --no-metrics 2>&1; echo rc=$?",
                   check=False)


def triggers_of(primary: str) -> list[str]:
    out = superuser_sql(primary, "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                                 "WHERE tgrelid = 'audit_records'::regclass AND NOT tgisinternal ORDER BY tgname")
    return [line for line in out.splitlines() if line.strip()]


@req("S-AUDIT")
def test_a_superuser_rewrite_is_named_by_verify_alerted_and_caught_by_the_restore_drill():
    # Nothing else writes change records or checkpoints while the chain is tampered:
    # a checkpoint of the tampered head would outlive the repair.
    for node in APP_NODES:
        on(node, "systemctl stop mimamori-jobs.timer; "
                 "while systemctl is-active --quiet mimamori-jobs.service; do sleep 1; done")
    primary = dbdrill.healthy_cluster()
    triggers = triggers_of(primary)
    assert len(triggers) == 2, triggers
    try:
        # Checkpoints that pin record R and, later, the head H = R + 2.
        rewritten = int(app_python(APPEND, "1").strip())
        sign_checkpoint()
        head = int(app_python(APPEND, "2").strip())
        assert head == rewritten + 2
        sign_checkpoint()
        rc, report = verify_on_app()
        assert rc == 0 and "audit chain OK" in report, report
        # The checkpoints leave app1 in the file backup too (the restore drill reads it).
        on_long(APP, "/usr/local/sbin/mimamori-files-backup")

        changes = json.loads(app_python(RECOMPUTE, str(rewritten), str(head - 1)).strip())
        assert [c["id"] for c in changes] == [rewritten, rewritten + 1]
        superuser_sql(primary, f"CREATE TABLE {SAVED} AS SELECT * FROM audit_records WHERE id >= {rewritten}")
        tampered_at = time.time()
        superuser_sql(primary, "\n".join([
            "BEGIN;",
            "DROP TRIGGER audit_records_no_update_or_delete ON audit_records;",
            "DROP TRIGGER audit_records_no_truncate ON audit_records;",
            *(f"UPDATE audit_records SET after = '{c['after']}', prev_hash = '{c['prev_hash']}', "
              f"hash = '{c['hash']}' WHERE id = {c['id']};" for c in changes),
            f"DELETE FROM audit_records WHERE id >= {head};",
            "COMMIT;"]))

        # The scheduled verification names both: the recomputed record and the deleted tail.
        rc, report = verify_on_app()
        assert rc != 0, report
        assert "[recomputed-chain]" in report and f"記録 {rewritten} " in report, report
        assert "[deleted-tail]" in report and f"記録は {head - 1} までです" in report, report
        assert metric("mimamori_audit_verify_success") == "0"
        assert int(metric("mimamori_audit_verify_findings")) >= 2
        # The verdict reached the log host too (auth facility, roles/logging).
        assert wait_for(lambda: "audit verify FAILED" in on(
            "mon1", f"cat /var/log/remote/{APP}/auth.log 2>/dev/null | tail -n 50", check=False),
            timeout=60, interval=2)

        fired = wait_for(notice(("FIRING", "AuditChainBroken", APP), tampered_at), timeout=LIMIT, interval=3)
        assert fired, f"no AuditChainBroken email within {LIMIT} s of the tampering"
        print(f"\ntampered -> alert email after {fired['received'] - tampered_at:.0f} s")

        # The restore drill restores the tampered database and the file backups'
        # checkpoints: it fails, naming the same.
        switch_wal_and_wait(primary)
        out = restore_drill()
        assert "rc=1" in out, out[-3000:]
        entry = json.loads(out[out.index("{"):out.rindex("}") + 1])
        assert entry["result"] == "failed", entry
        assert "signed checkpoints" in entry["error"] and "deleted tail" in entry["error"], entry
        assert f"record {rewritten} differs from its signed hash" in entry["error"], entry
    finally:
        # Put the original rows and the triggers back.
        present = superuser_sql(primary, f"SELECT to_regclass('{SAVED}') IS NOT NULL").strip()
        if present == "t":
            remaining = set(triggers_of(primary))
            superuser_sql(primary, "\n".join([
                "BEGIN;",
                *(f"DROP TRIGGER {name} ON audit_records;" for name in
                  ("audit_records_no_update_or_delete", "audit_records_no_truncate")
                  if any(f"TRIGGER {name} " in t for t in remaining)),
                f"DELETE FROM audit_records WHERE id >= (SELECT min(id) FROM {SAVED});",
                f"INSERT INTO audit_records SELECT * FROM {SAVED};",
                *(f"{t};" for t in triggers),
                f"DROP TABLE {SAVED};",
                "COMMIT;"]))
        for node in APP_NODES:
            on(node, "systemctl start mimamori-jobs.timer")

    assert triggers_of(primary) == triggers
    repaired_at = time.time()
    rc, report = verify_on_app()
    assert rc == 0 and "audit chain OK" in report, report
    assert metric("mimamori_audit_verify_success") == "1"
    resolved = wait_for(notice(("RESOLVED", "AuditChainBroken", APP), repaired_at), timeout=LIMIT + 120,
                        interval=3)
    assert resolved, "AuditChainBroken did not resolve after the repair"
    print(f"repaired -> resolved email after {resolved['received'] - repaired_at:.0f} s")
    switch_wal_and_wait(primary)
    out = restore_drill()
    assert out.rstrip().endswith("rc=0"), out[-3000:]
    entry = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert entry["audit_checkpoints_verified"] >= 2, entry
