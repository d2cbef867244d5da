"""The pure parts of backup/ (issue 8): the restore drill's audit chain check
agrees with the app's own chain, pgBackRest's info becomes the metrics the
alert rules read, and the erasure removes its targets and finds leftovers."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from webapp.audit.models import AuditRecord
from webapp.audit.recorder import append_records, system_actor

BACKUP = Path(__file__).resolve().parents[2] / "backup"
sys.path.insert(0, str(BACKUP))
import backuplib  # noqa: E402


def _script(name: str):
    loader = importlib.machinery.SourceFileLoader(f"backup_{name}", str(BACKUP / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _audit_lines(connection) -> list[str]:
    """The lines psql prints for backuplib.AUDIT_QUERY on the restored copy: the
    query itself on PostgreSQL, its equivalent built from the rows on SQLite."""
    if connection.dialect.name == "postgresql":
        return [r[0] if isinstance(r[0], str) else json.dumps(r[0])
                for r in connection.exec_driver_sql(backuplib.AUDIT_QUERY.replace("%", "%%"))]
    lines = []
    for row in connection.execute(sa.select(AuditRecord.__table__).order_by(AuditRecord.id)).mappings():
        values = dict(row)
        values["occurred_at"] = row["occurred_at"].strftime("%Y-%m-%dT%H:%M:%S.%f")
        lines.append(json.dumps(values, default=str))
    return lines


def _append(connection, n: int) -> None:
    for i in range(n):
        append_records(connection, system_actor("backup-test"), [{
            "action": "update", "entity": "children", "entity_id": str(i), "child_id": None,
            # Text the JSON line must carry intact: newlines, tabs, Japanese.
            "before": json.dumps({"名前": "改行\nと\tタブ"}, ensure_ascii=False), "after": "{}"}])


@pytest.mark.req("O-RESTORE", "S-AUDIT")
def test_drill_verifies_the_chain_the_app_wrote(connection):
    _append(connection, 3)
    rows = [backuplib.parse_audit_line(line) for line in _audit_lines(connection)]
    assert [r["id"] for r in rows][-3:] == [rows[-1]["id"] - 2, rows[-1]["id"] - 1, rows[-1]["id"]]
    assert backuplib.verify_audit_rows(rows) == []


@pytest.mark.req("O-RESTORE", "S-AUDIT")
def test_drill_finds_a_changed_or_missing_record(connection):
    _append(connection, 3)
    rows = [backuplib.parse_audit_line(line) for line in _audit_lines(connection)]
    changed = [dict(r) for r in rows]
    changed[-2]["after"] = '{"x": 1}'
    assert any("does not match its hash" in p for p in backuplib.verify_audit_rows(changed))
    missing = rows[:-2] + rows[-1:]
    problems = backuplib.verify_audit_rows(missing)
    assert any("missing" in p for p in problems) and any("not linked" in p for p in problems)


INFO = [{
    "name": "mimamori", "status": {"code": 0, "message": "ok"},
    "backup": [
        {"type": "full", "error": False, "label": "F1", "timestamp": {"start": 100, "stop": 160}},
        {"type": "diff", "error": False, "label": "D1", "timestamp": {"start": 200, "stop": 230}},
        {"type": "full", "error": False, "label": "F2", "timestamp": {"start": 300, "stop": 350}},
        # A backup pgBackRest marked as failed verification never counts as good.
        {"type": "incr", "error": True, "label": "I1", "timestamp": {"start": 400, "stop": 410}},
    ],
}]


@pytest.mark.req("O-BACKUP10")
def test_metrics_come_from_what_the_repository_holds():
    m = backuplib.info_metrics(INFO)
    assert m["mimamori_backup_generations"] == 2
    assert m["mimamori_backup_last_success_timestamp_seconds"] == 350
    assert m["mimamori_backup_last_full_timestamp_seconds"] == 350
    assert m["mimamori_backup_stanza_ok"] == 1
    broken = [{**INFO[0], "status": {"code": 2, "message": "no valid backups"}, "backup": []}]
    assert backuplib.info_metrics(broken) == {"mimamori_backup_generations": 0,
                                               "mimamori_backup_stanza_ok": 0}
    with pytest.raises(ValueError):
        backuplib.info_metrics(INFO, stanza="other")


@pytest.mark.req("O-BACKUP10", "O-RESTORE")
def test_metric_names_are_the_ones_the_alert_rules_read(tmp_path, monkeypatch):
    rules = (BACKUP.parent / "monitoring" / "rules" / "backup.yml.j2").read_text()
    for name in ("mimamori_backup_last_success_timestamp_seconds",
                 "mimamori_restore_drill_last_run_timestamp_seconds",
                 "mimamori_restore_drill_success"):
        assert name in rules
        assert name in backuplib.HELP
    monkeypatch.setattr(backuplib, "TEXTFILE_DIR", tmp_path)
    backuplib.write_metrics("drill", {"mimamori_restore_drill_success": 1.0,
                                      "mimamori_restore_drill_last_success_timestamp_seconds": 1795720000.0})
    # A failed drill later keeps the time of the last success.
    path = backuplib.write_metrics("drill", {"mimamori_restore_drill_success": 0.0}, keep=True)
    text = path.read_text()
    assert "mimamori_restore_drill_success 0\n" in text
    assert "mimamori_restore_drill_last_success_timestamp_seconds 1795720000\n" in text
    assert "# TYPE mimamori_restore_drill_success gauge" in text


def test_scratch_copy_never_archives_or_listens():
    conf = _script("drill").scratch_conf(55439, Path("/x/sock"))
    assert "archive_mode = off" in conf and "listen_addresses = ''" in conf


def _tree(root: Path, files: list[str]) -> None:
    for f in files:
        p = root / f.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("data of a child\n")


@pytest.mark.req("O-ERASE")
def test_erasure_removes_every_target_and_reports(tmp_path):
    erase = _script("erase")
    _tree(tmp_path, ["/var/lib/postgresql/15/mimamori/PG_VERSION", "/etc/pgbackrest/pgbackrest.conf",
                     "/var/lib/pgbackrest/backup/mimamori/backup.info", "/var/log/syslog.1",
                     "/etc/.git/HEAD", "/etc/hostname"])
    report = erase.erase_host(str(tmp_path), "山田", "契約終了 R8-123", services=False)
    assert report["result"] == "erased", report
    assert {t["path"] for t in report["targets"]} >= {
        "/var/lib/postgresql", "/etc/pgbackrest", "/var/lib/pgbackrest", "/var/log/syslog.1", "/etc/.git"}
    assert all(t["bytes"] > 0 and t["removed"] for t in report["targets"])
    assert report["operator"] == "山田" and report["started"] <= report["finished"]
    assert not (tmp_path / "var/lib/postgresql").exists()
    assert (tmp_path / "etc/hostname").exists()  # only the data, not the system


@pytest.mark.req("O-ERASE")
def test_erasure_reports_a_copy_left_elsewhere(tmp_path):
    erase = _script("erase")
    _tree(tmp_path, ["/var/lib/postgresql/15/main/PG_VERSION", "/srv/old-copy/PG_VERSION"])
    report = erase.erase_host(str(tmp_path), "山田", "契約終了", services=False)
    assert report["result"] == "INCOMPLETE"
    assert report["verification"] == ["copy found: /srv/old-copy/PG_VERSION"]


@pytest.mark.req("O-ERASE")
def test_erasure_needs_the_host_named(capsys):
    assert _script("erase").main(["host", "--operator", "x", "--reason", "y", "--confirm", "wrong"]) == 2
    assert "refusing" in capsys.readouterr().err


@pytest.mark.req("O-RESTORE")
def test_drill_compares_with_the_last_good_drill_of_the_latest_backup(tmp_path, monkeypatch):
    drill = _script("drill")
    monkeypatch.setattr(backuplib, "LOG_DIR", tmp_path)
    assert drill.previous_ok() is None
    backuplib.log("drill", {"result": "ok", "target_time": "latest", "started": "a",
                            "latest_report": "2026-11-20 08:00:00"})
    backuplib.log("drill", {"result": "ok", "target_time": "2026-11-01 00:00:00+09", "started": "b",
                            "latest_report": "2026-10-31 08:00:00"})
    backuplib.log("drill", {"result": "failed", "target_time": "latest", "started": "c"})
    # Point-in-time drills and failed drills are not the reference.
    assert drill.previous_ok()["started"] == "a"


@pytest.mark.req("O-ERASE")
def test_erasure_of_an_environment_keeps_its_keys_while_a_host_is_not_erased(tmp_path, monkeypatch):
    """A host that cannot be reached leaves the run INCOMPLETE and the secrets
    in place, so the operator can run it again once the host answers."""
    erase = _script("erase")
    secrets = tmp_path / "secrets"
    (secrets / "lab" / "internal-ca").mkdir(parents=True)
    (secrets / "lab" / "internal-ca" / "ca.key").write_text("key")
    monkeypatch.setenv("MIMAMORI_SECRETS_DIR", str(secrets))
    # Port 9 on loopback: nothing listens, ssh fails at once.
    monkeypatch.setattr(erase, "_inventory", lambda env: [
        ("unreachable1", {"ssh_hostname": "127.0.0.1", "ssh_port": 9, "ssh_user": "nobody",
                          "ssh_strict_host_key_checking": "no", "ssh_known_hosts_file": "/dev/null"})])
    args = erase.argparse.Namespace(env="lab", operator="山田", reason="契約終了")
    report = erase.erase_all(args)
    assert report["result"] == "INCOMPLETE"
    assert report["hosts"]["unreachable1"]["result"] == "INCOMPLETE"
    assert report["hosts"]["unreachable1"]["error"]
    assert (secrets / "lab" / "internal-ca" / "ca.key").read_text() == "key"
    assert report["control_machine"]["removed"] is False and "kept" in report["control_machine"]


def test_erasure_connects_with_the_inventory_ssh_settings():
    erase = _script("erase")
    cmd = erase._ssh_command({"ssh_hostname": "10.0.0.5", "ssh_user": "root", "ssh_port": 2222,
                              "ssh_key": "/k", "ssh_known_hosts_file": "/dev/null",
                              "ssh_strict_host_key_checking": "no"})
    assert cmd[-1] == "root@10.0.0.5"
    assert ["-p", "2222"] == cmd[cmd.index("-p"):cmd.index("-p") + 2]
    assert "UserKnownHostsFile=/dev/null" in cmd and "StrictHostKeyChecking=no" in cmd
    assert ["-i", "/k"] == cmd[cmd.index("-i"):cmd.index("-i") + 2]
