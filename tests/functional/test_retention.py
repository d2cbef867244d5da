"""Retention (S-ACCESSLOG, O-LOGKEEP): old log rows go to verified archive files before they leave the database."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
import sqlalchemy as sa

from tests.conftest import DEFAULT_NOW
from webapp import migrate
from webapp.audit.chain import verify_chain
from webapp.audit.models import AccessLogEntry, AuditRecord, AuthEvent
from webapp.audit.retention import (
    DEFAULT_RETENTION_DAYS,
    Archiver,
    ArchiveError,
    RetentionSettings,
    cutoff,
    verify_archive,
)
from webapp.clock import JST
from webapp.db import create_engine

pytestmark = pytest.mark.req("S-ACCESSLOG", "O-LOGKEEP")

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=JST)
# 400 days before 2026-11-26 is 2025-10-22, so everything before 2025-10-01 00:00 JST goes.
KEPT_FROM = dt.datetime(2025, 9, 30, 15, 0, tzinfo=UTC)


def add_access(connection, occurred_at, login="u"):
    connection.execute(sa.insert(AccessLogEntry), [{
        "occurred_at": occurred_at, "request_id": f"r{occurred_at:%Y%m%d%H%M%S%f}", "login": login, "method": "GET",
        "path": "/x", "status": 200, "duration_ms": 1, "organisation": "北沢小学校"}])


@pytest.fixture
def logs_db(scratch_url):
    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    with engine.begin() as c:
        add_access(c, dt.datetime(2025, 8, 15, 3, 0, tzinfo=UTC), "august")
        add_access(c, dt.datetime(2025, 8, 31, 15, 30, tzinfo=UTC), "sept-first-jst")  # 1 Sep 00:30 JST
        add_access(c, dt.datetime(2025, 9, 30, 14, 59, 59, 999999, tzinfo=UTC), "sept-last-jst")
        add_access(c, KEPT_FROM, "october-kept")
        add_access(c, dt.datetime(2026, 11, 26, 1, 0, tzinfo=UTC), "today-kept")
        c.execute(sa.insert(AuthEvent), [
            {"occurred_at": dt.datetime(2025, 7, 1, 0, 0, tzinfo=UTC), "event": "login_failed",
             "reason": "wrong_password", "login": "july"},
            {"occurred_at": dt.datetime(2026, 11, 1, 0, 0, tzinfo=UTC), "event": "login_succeeded", "reason": None,
             "login": "kept"},
        ])
    yield engine
    engine.dispose()


def logins(engine, model):
    with engine.connect() as c:
        return sorted(c.execute(sa.select(model.login)).scalars())


def archived_logins(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line)["login"] for line in f]


def test_cutoff_is_the_first_of_a_jst_month():
    assert cutoff(NOW, 400) == KEPT_FROM
    assert DEFAULT_RETENTION_DAYS == 400


def test_archive_writes_month_files_with_manifests_then_deletes(logs_db, tmp_path):
    lines = []
    archiver = Archiver(logs_db, RetentionSettings(400, tmp_path / "archive"), NOW, report=lines.append)
    results = archiver.run()

    assert [(r.table, r.month, r.rows, r.deleted) for r in results] == [
        ("access_log", "2025-08", 1, 1), ("access_log", "2025-09", 2, 2), ("auth_events", "2025-07", 1, 1)]
    archive = tmp_path / "archive"
    assert archived_logins(archive / "access_log-2025-09.jsonl.gz") == ["sept-first-jst", "sept-last-jst"]
    assert archived_logins(archive / "auth_events-2025-07.jsonl.gz") == ["july"]
    manifest = json.loads((archive / "access_log-2025-09.jsonl.gz.manifest.json").read_text())
    assert manifest["rows"] == 2 and manifest["table"] == "access_log" and len(manifest["sha256"]) == 64
    sums = (archive / "SHA256SUMS").read_text().splitlines()
    assert f"{manifest['sha256']}  access_log-2025-09.jsonl.gz" in sums and len(sums) == 3
    for result in results:
        assert verify_archive(result.file) == []
    # Only rows inside the retention period remain.
    assert logins(logs_db, AccessLogEntry) == ["october-kept", "today-kept"]
    assert logins(logs_db, AuthEvent) == ["kept"]
    # Each archive's hash joins the change-record chain, which still verifies.
    with logs_db.connect() as c:
        records = c.execute(sa.select(AuditRecord).where(AuditRecord.action == "archive")).all()
        assert {(r.entity, r.entity_id) for r in records} == {
            ("access_log", "2025-08"), ("access_log", "2025-09"), ("auth_events", "2025-07")}
        assert verify_chain(c) == (3, [])
    # Never silent: each month is reported.
    assert any("verified access_log-2025-09.jsonl.gz" in line and "deleted 2 rows" in line for line in lines)


def test_a_second_run_changes_nothing(logs_db, tmp_path):
    settings = RetentionSettings(400, tmp_path)
    Archiver(logs_db, settings, NOW, report=lambda _: None).run()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert Archiver(logs_db, settings, NOW, report=lambda _: None).run() == []
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_nothing_is_deleted_when_verification_fails(logs_db, tmp_path, monkeypatch):
    import webapp.audit.retention as retention

    monkeypatch.setattr(retention, "verify_archive", lambda path: ["simulated damage"])
    with pytest.raises(ArchiveError, match="nothing deleted"):
        Archiver(logs_db, RetentionSettings(400, tmp_path), NOW, report=lambda _: None).run()
    assert len(logins(logs_db, AccessLogEntry)) == 5


def test_an_interrupted_run_is_finished_without_a_second_file(logs_db, tmp_path, monkeypatch):
    settings = RetentionSettings(400, tmp_path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut after the file was written")

    monkeypatch.setattr(Archiver, "_delete", crash)
    with pytest.raises(KeyboardInterrupt):
        Archiver(logs_db, settings, NOW, report=lambda _: None).run()
    assert len(logins(logs_db, AccessLogEntry)) == 5  # written, verified, but nothing deleted
    monkeypatch.undo()

    results = Archiver(logs_db, settings, NOW, report=lambda _: None).run()
    assert results[0].reused and results[0].deleted == 1
    assert sorted(p.name for p in tmp_path.glob("*.jsonl.gz")) == [
        "access_log-2025-08.jsonl.gz", "access_log-2025-09.jsonl.gz", "auth_events-2025-07.jsonl.gz"]
    assert logins(logs_db, AccessLogEntry) == ["october-kept", "today-kept"]


def test_rows_arriving_later_for_an_archived_month_go_to_a_second_part(logs_db, tmp_path):
    settings = RetentionSettings(400, tmp_path)
    Archiver(logs_db, settings, NOW, report=lambda _: None).run()
    with logs_db.begin() as c:  # e.g. restored from a backup of a node's spool
        add_access(c, dt.datetime(2025, 8, 20, 0, 0, tzinfo=UTC), "late")
    (result,) = Archiver(logs_db, settings, NOW, report=lambda _: None).run()
    assert result.file.name == "access_log-2025-08-2.jsonl.gz"
    assert archived_logins(result.file) == ["late"]


def test_verify_archive_detects_a_modified_file(logs_db, tmp_path):
    Archiver(logs_db, RetentionSettings(400, tmp_path), NOW, report=lambda _: None).run()
    path = tmp_path / "access_log-2025-09.jsonl.gz"
    assert verify_archive(path) == []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        content = f.read()
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(content.replace("sept-last-jst", "someone-else"))
    problems = verify_archive(path)
    assert len(problems) == 1 and "SHA-256" in problems[0]

    removed = tmp_path / "access_log-2025-08.jsonl.gz"
    with gzip.open(removed, "wb") as f:
        f.write(b"")
    assert any("0 rows" in p for p in verify_archive(removed))
    truncated = tmp_path / "auth_events-2025-07.jsonl.gz"
    truncated.write_bytes(truncated.read_bytes()[:-9])
    assert any("unreadable" in p for p in verify_archive(truncated))
    assert "manifest not found" in verify_archive(tmp_path / "SHA256SUMS")[0]


@pytest.mark.parametrize("value", ["30", "abc", "-400", "１００"])
def test_retention_setting_must_be_a_sane_number_of_days(value):
    with pytest.raises(ArchiveError, match="log_retention_days"):
        RetentionSettings.from_settings({"mimamori.log_retention_days": value})
    default = RetentionSettings.from_settings({})
    assert (default.retention_days, str(default.archive_dir)) == (400, "var/log-archive")


def test_cli_archive_dry_run_archive_and_verify_archive(scratch_url, tmp_path, monkeypatch, capsys):
    from webapp.cli import main

    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    with engine.begin() as c:
        add_access(c, dt.datetime(2020, 5, 10, 0, 0, tzinfo=UTC), "old")
        add_access(c, DEFAULT_NOW, "new")
    archive_dir = tmp_path / "archive"
    ini = tmp_path / "test.ini"
    ini.write_text(f"[app:main]\nuse = egg:mimamori\nsqlalchemy.url = {scratch_url}\n"
                   f"mimamori.log_archive_dir = {archive_dir}\n"
                   # The command's clock, not the real one: "new" stays within the retention period.
                   f"mimamori.clock = fixed:{DEFAULT_NOW.isoformat()}\n")
    monkeypatch.setenv("MIMAMORI_SESSION_SECRET", "s" * 40)
    monkeypatch.delenv("MIMAMORI_DATABASE_URL", raising=False)

    assert main(["-c", str(ini), "audit", "archive", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would archive access_log 2020-05: 1 rows" in out and not archive_dir.exists()

    assert main(["-c", str(ini), "audit", "archive"]) == 0
    out = capsys.readouterr().out
    assert "deleted 1 rows" in out and "archived and deleted 1 rows into 1 file(s)" in out
    assert logins(engine, AccessLogEntry) == ["new"]

    assert main(["-c", str(ini), "audit", "archive"]) == 0
    assert "nothing to archive" in capsys.readouterr().out

    path = archive_dir / "access_log-2020-05.jsonl.gz"
    assert main(["-c", str(ini), "audit", "verify-archive", str(path)]) == 0
    assert capsys.readouterr().out.startswith("OK ")
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(SystemExit) as exit_info:
        main(["-c", str(ini), "audit", "verify-archive", str(path)])
    assert exit_info.value.code == 1 and "NG" in capsys.readouterr().out
    engine.dispose()
