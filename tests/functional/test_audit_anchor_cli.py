"""``mimamori audit keygen / checkpoint / verify / archive`` with signed checkpoints (S-AUDIT, SP17)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3

import pytest

from tests.conftest import DEFAULT_NOW
from tests.functional.test_audit_anchor import add_centres, bypass_append_only, own_database_url, recompute_from  # noqa: F401
from webapp.audit.anchor import read_checkpoints
from webapp.cli import main
from webapp.db import create_engine

pytestmark = pytest.mark.req("S-AUDIT")


@pytest.fixture
def server(tmp_path, monkeypatch, capsys, own_database_url):
    """A database with three records, a key made by ``keygen`` and an ini naming both."""
    monkeypatch.setenv("MIMAMORI_SESSION_SECRET", "s" * 40)
    monkeypatch.delenv("MIMAMORI_DATABASE_URL", raising=False)
    assert main(["audit", "keygen", "--key-dir", str(tmp_path / "keys")]) == 0
    key_id = capsys.readouterr().out.strip()
    public_dir = tmp_path / "public"
    public_dir.mkdir()
    shutil.copy(tmp_path / "keys" / f"{key_id}.pub", public_dir)
    url = own_database_url
    engine = create_engine(url)
    add_centres(engine, 3)
    ini = tmp_path / "server.ini"
    ini.write_text(f"[app:main]\nuse = egg:mimamori\nsqlalchemy.url = {url}\n"
                   f"mimamori.clock = fixed:{DEFAULT_NOW.isoformat()}\n"
                   f"mimamori.audit_signing_key = {tmp_path / 'keys' / f'{key_id}.key'}\n"
                   f"mimamori.audit_checkpoint_dir = {tmp_path / 'checkpoints'}\n"
                   f"mimamori.audit_public_key_dir = {public_dir}\n"
                   f"mimamori.log_archive_dir = {tmp_path / 'archive'}\n")
    yield {"ini": str(ini), "engine": engine, "key_id": key_id, "dir": tmp_path, "url": url}
    engine.dispose()


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().out


def test_checkpoint_then_verify_ok_then_deleted_tail_named(server, capsys):
    assert run(capsys, "-c", server["ini"], "audit", "checkpoint") == (
        0, f"checkpoint written: record 3, key {server['key_id']}\n")
    code, out = run(capsys, "-c", server["ini"], "audit", "verify")
    assert code == 0 and "checkpoints: 1 verified" in out and "audit chain OK: 3 records" in out
    bypass_append_only(server["engine"])
    with server["engine"].begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_records WHERE id = 3")
    code, out = run(capsys, "-c", server["ini"], "audit", "verify")
    assert code == 1 and "NG [deleted-tail]" in out and "audit chain BROKEN" in out


def test_a_changed_row_is_named_by_id(server, capsys):
    run(capsys, "-c", server["ini"], "audit", "checkpoint")
    bypass_append_only(server["engine"])
    with server["engine"].begin() as connection:
        connection.exec_driver_sql("UPDATE audit_records SET actor = 'x' WHERE id = 3")
    code, out = run(capsys, "-c", server["ini"], "audit", "verify")
    assert code == 1
    # The stored hash still matches the checkpoint; the row's own hash names it.
    assert "NG record 3: [changed-or-deleted-row] 内容が書き換えられています" in out


def test_an_auditor_verifies_a_database_copy_with_public_keys_only(server, capsys, tmp_path, monkeypatch):
    run(capsys, "-c", server["ini"], "audit", "checkpoint")
    bypass_append_only(server["engine"])
    with server["engine"].begin() as connection:
        connection.exec_driver_sql("UPDATE audit_records SET actor = 'x' WHERE id = 2")
    recompute_from(server["engine"], 2)
    copy_url = server["url"]  # PostgreSQL: the auditor is given access to (a copy of) the database
    if copy_url.startswith("sqlite"):
        copy = tmp_path / "copy.sqlite"
        with sqlite3.connect(tmp_path / "anchor.sqlite") as source, sqlite3.connect(copy) as target:
            source.backup(target)  # a consistent copy, write-ahead log included
        copy_url = f"sqlite:///{copy}"
    # No ini file, no key, no server secret: only what is on the command line.
    monkeypatch.delenv("MIMAMORI_SESSION_SECRET")
    monkeypatch.chdir(tmp_path)
    code, out = run(capsys, "audit", "verify", "--database-url", copy_url, "--interval-minutes", "60",
                    "--checkpoints", str(tmp_path / "checkpoints"), "--public-keys", str(tmp_path / "public"))
    assert code == 1 and "NG [recomputed-chain] 記録 3" in out
    assert "NG record" not in out  # the chain alone would have said OK


def test_verify_without_checkpoints_says_what_it_cannot_see(server, capsys, tmp_path):
    plain = tmp_path / "plain.ini"
    plain.write_text(f"[app:main]\nuse = egg:mimamori\nsqlalchemy.url = {server['url']}\n")
    code, out = run(capsys, "-c", str(plain), "audit", "verify")
    assert code == 0 and "checkpoints: not configured" in out


def test_checkpoint_without_a_key_fails_clearly(server, capsys, tmp_path):
    (tmp_path / "keys" / f"{server['key_id']}.key").unlink()
    code, out = run(capsys, "-c", server["ini"], "audit", "checkpoint")
    assert code == 1 and "CHECKPOINT FAILED: cannot read the checkpoint signing key" in out


def test_archive_writes_a_checkpoint(server, capsys, tmp_path):
    code, out = run(capsys, "-c", server["ini"], "audit", "archive")
    assert code == 0 and "checkpoint written: record 3" in out
    (checkpoint,), _unreadable = read_checkpoints(tmp_path / "checkpoints")
    assert (checkpoint.reason, checkpoint.at) == ("archive", DEFAULT_NOW.astimezone(dt.UTC))


def test_jobs_run_signs_a_checkpoint(server, capsys, tmp_path):
    code, out = run(capsys, "-c", server["ini"], "jobs", "run", "--only", "audit.checkpoint")
    assert code == 0 and "OK audit.checkpoint: checkpoint at record 3" in out
    line = json.loads(next((tmp_path / "checkpoints").glob("*.jsonl")).read_text())
    assert line["reason"] == "job" and line["key_id"] == server["key_id"]


def test_a_mistyped_directory_is_refused_not_reported_as_tampering(server, capsys, tmp_path):
    code, out = run(capsys, "-c", server["ini"], "audit", "verify", "--public-keys", str(tmp_path / "nope"))
    assert code == f"no such directory: {tmp_path / 'nope'}" and "NG" not in out
