"""Signed checkpoints (S-AUDIT, SP17): tampering the plain chain cannot hide is named by ``audit verify``.

Each case is what someone who can drop the append-only triggers could do
(DROP TRIGGER), including recomputing every following hash with the
application's own ``record_hash``. Each test has a database of its own: a
SQLite file, or a fresh PostgreSQL database where MIMAMORI_TEST_DATABASE_URL
names a server (the shared test database is rolled back per test; these commit).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import stat
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from webapp import migrate
from webapp.audit import anchor
from webapp.audit.anchor import AnchorSettings, generate_key_pair, load_public_keys, verify_anchored, write_checkpoint
from webapp.audit.chain import _normalise, record_hash
from webapp.audit.models import AuditRecord
from webapp.audit.recorder import Actor, install_recorder
from webapp.db import create_engine
from webapp.organisations.models import Centre, CentreKind

pytestmark = pytest.mark.req("S-AUDIT")

UTC = dt.UTC
AT = dt.datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def own_database_url(tmp_path):
    """A migrated database only this test uses."""
    server = os.environ.get("MIMAMORI_TEST_DATABASE_URL")
    if not server:
        url = f"sqlite:///{tmp_path / 'anchor.sqlite'}"
        migrate.upgrade(url)
        yield url
        return
    name = f"anchor_{uuid.uuid4().hex[:12]}"
    base = sa.engine.make_url(server)
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def chain_db(own_database_url):
    """A database whose chain holds five committed records."""
    engine = create_engine(own_database_url)
    add_centres(engine, 5)
    yield engine
    engine.dispose()


def add_centres(engine, count, start=0):
    factory = sessionmaker(bind=engine)
    install_recorder(factory)
    session = factory()
    session.info["actor"] = Actor(actor="anchor-test")
    session.add_all([Centre(code=f"A{start + i}", name="検証", kind=CentreKind.SUPPORT_CENTRE) for i in range(count)])
    session.commit()
    session.close()


@pytest.fixture
def keys(tmp_path):
    key_dir, public_dir = tmp_path / "keys", tmp_path / "public"
    public_dir.mkdir()

    def new_key(publish=True):
        identifier, private_path, public_path = generate_key_pair(key_dir)
        if publish:
            shutil.copy(public_path, public_dir / public_path.name)
        return identifier, private_path

    new_key.public_dir = public_dir
    return new_key


@pytest.fixture
def signing(tmp_path, keys):
    _identifier, private_path = keys()
    return AnchorSettings(private_path, tmp_path / "checkpoints", keys.public_dir, HOUR)


def bypass_append_only(engine):
    """What a database superuser can do (the app's role cannot)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP TRIGGER audit_records_no_update_or_delete ON audit_records")
            connection.exec_driver_sql("DROP TRIGGER audit_records_no_truncate ON audit_records")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_records_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_records_no_delete")


def checkpoint_then_tamper(engine, signing, *statements):
    """Sign the head, then do what only someone past the append-only triggers can."""
    write_checkpoint(engine, signing, AT, "job")
    bypass_append_only(engine)
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def recompute_from(engine, first_id):
    """Rewrite prev_hash/hash from ``first_id`` on, exactly as the recorder would."""
    with engine.begin() as connection:
        rows = connection.execute(sa.select(AuditRecord.__table__).order_by(AuditRecord.id)).mappings().all()
        prev = None
        for row in rows:
            if row["id"] >= first_id:
                new_hash = record_hash(prev, _normalise(dict(row)))
                connection.execute(sa.update(AuditRecord).where(AuditRecord.id == row["id"])
                                   .values(prev_hash=prev, hash=new_hash))
                prev = new_hash
            else:
                prev = row["hash"]


def verify(engine, settings, at=AT + dt.timedelta(minutes=5)):
    with engine.connect() as connection:
        return verify_anchored(connection, settings.checkpoint_dir, load_public_keys(settings.public_key_dir),
                               at, settings.max_age)


def kinds(result):
    return [finding.kind for finding in result.findings]


def test_an_untouched_chain_verifies_against_its_checkpoint(chain_db, signing):
    checkpoint = write_checkpoint(chain_db, signing, AT, "job")
    assert (checkpoint.record_id, checkpoint.reason) == (5, "job")
    result = verify(chain_db, signing)
    assert result.ok and result.checked == 5 and result.checkpoints_verified == 1
    # One JSON line in the JST day's file.
    (path,) = signing.checkpoint_dir.glob("checkpoints-*.jsonl")
    assert path.name == "checkpoints-2026-11-26.jsonl"
    assert json.loads(path.read_text())["record_id"] == 5


def test_deleted_tail_is_named(chain_db, signing):
    checkpoint_then_tamper(chain_db, signing, "DELETE FROM audit_records WHERE id >= 4")
    result = verify(chain_db, signing)
    # The shorter chain verifies by itself; only the checkpoint shows it.
    assert result.chain_problems == []
    assert kinds(result) == [anchor.DELETED_TAIL]
    assert "4〜5 が削除" in result.findings[0].message


def test_a_changed_row_is_named_with_its_id(chain_db, signing):
    checkpoint_then_tamper(chain_db, signing, "UPDATE audit_records SET actor = 'someone else' WHERE id = 2")
    result = verify(chain_db, signing)
    assert [(p.record_id, "書き換え" in p.problem) for p in result.chain_problems] == [(2, True)]
    assert not result.ok


def test_a_recomputed_chain_is_named_at_the_checkpoint(chain_db, signing):
    checkpoint_then_tamper(chain_db, signing, "UPDATE audit_records SET actor = 'someone else' WHERE id = 2")
    recompute_from(chain_db, 2)
    result = verify(chain_db, signing)
    assert result.chain_problems == []  # what the plain chain alone would have said: OK
    assert kinds(result) == [anchor.RECOMPUTED]
    assert "記録 5" in result.findings[0].message


def test_deleting_rows_and_recomputing_then_adding_new_ones_is_named(chain_db, signing):
    checkpoint_then_tamper(chain_db, signing, "DELETE FROM audit_records WHERE id = 5",
                           "UPDATE audit_records SET actor = 'x' WHERE id = 3")
    recompute_from(chain_db, 3)
    # New records follow the rewritten head (SQLite hands out id 5 again): the chain is whole and as long as before.
    add_centres(chain_db, 2, start=10)
    result = verify(chain_db, signing)
    assert result.chain_problems == []
    assert kinds(result) == [anchor.RECOMPUTED]


def test_a_missing_checkpoint_is_named(chain_db, signing):
    write_checkpoint(chain_db, signing, AT, "job")
    assert verify(chain_db, signing, at=AT + 2 * HOUR).ok
    late = verify(chain_db, signing, at=AT + 2 * HOUR + dt.timedelta(minutes=1))
    assert kinds(late) == [anchor.MISSING]


def test_no_checkpoint_at_all_is_named(chain_db, signing):
    signing.checkpoint_dir.mkdir()
    assert kinds(verify(chain_db, signing)) == [anchor.MISSING]


def test_a_changed_checkpoint_does_not_verify(chain_db, signing):
    checkpoint_then_tamper(chain_db, signing, "DELETE FROM audit_records WHERE id >= 4")
    # The intruder also lowers the checkpoint to the new head: its signature no longer matches.
    (path,) = signing.checkpoint_dir.glob("*.jsonl")
    line = json.loads(path.read_text())
    with chain_db.connect() as connection:
        line["record_id"], line["hash"] = connection.execute(
            sa.text("SELECT id, hash FROM audit_records ORDER BY id DESC LIMIT 1")).one()
    path.write_text(json.dumps(line) + "\n")
    assert kinds(verify(chain_db, signing)) == [anchor.BAD_SIGNATURE, anchor.MISSING]


def test_an_unreadable_checkpoint_line_is_named(chain_db, signing):
    write_checkpoint(chain_db, signing, AT, "job")
    (path,) = signing.checkpoint_dir.glob("*.jsonl")
    with path.open("a") as handle:
        handle.write("{not json\n")
    assert kinds(verify(chain_db, signing)) == [anchor.UNREADABLE]


def test_a_checkpoint_signed_by_an_unknown_key_is_refused(chain_db, signing, keys):
    _identifier, stranger = keys(publish=False)
    write_checkpoint(chain_db, dataclasses.replace(signing, signing_key=stranger), AT, "job")
    result = verify(chain_db, signing)
    assert kinds(result) == [anchor.UNKNOWN_KEY, anchor.MISSING]
    assert result.checkpoints_verified == 0


def test_old_checkpoints_still_verify_after_a_key_rotation(chain_db, signing, keys):
    old_id = write_checkpoint(chain_db, signing, AT, "job").key_id
    add_centres(chain_db, 2, start=10)
    new_id, new_key = keys()
    rotated = dataclasses.replace(signing, signing_key=new_key)
    assert write_checkpoint(chain_db, rotated, AT + HOUR, "job").key_id == new_id != old_id
    result = verify(chain_db, rotated, at=AT + HOUR)
    assert result.ok and result.checkpoints_verified == 2 and result.latest.record_id == 7
    # Without the old public key, the old checkpoint is refused, not silently skipped.
    (signing.public_key_dir / f"{old_id}.pub").unlink()
    assert kinds(verify(chain_db, rotated, at=AT + HOUR)) == [anchor.UNKNOWN_KEY]


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path):
    identifier, private_path, public_path = generate_key_pair(tmp_path / "k")
    assert stat.S_IMODE(os.stat(private_path).st_mode) == 0o600
    assert private_path.name == f"{identifier}.key" and public_path.name == f"{identifier}.pub"
    assert load_public_keys(tmp_path / "k") == {identifier: bytes.fromhex(public_path.read_text())}


def test_the_job_signs_only_when_the_interval_is_up(chain_db, signing):
    settings = {"mimamori.audit_signing_key": str(signing.signing_key),
                "mimamori.audit_checkpoint_dir": str(signing.checkpoint_dir),
                "mimamori.audit_checkpoint_interval_minutes": "60"}
    assert "record 5" in anchor.checkpoint_job(chain_db, settings, AT)
    assert "not due" in anchor.checkpoint_job(chain_db, settings, AT + dt.timedelta(minutes=59))
    assert "record 5" in anchor.checkpoint_job(chain_db, settings, AT + HOUR)
    assert len(anchor.read_checkpoints(signing.checkpoint_dir)[0]) == 2
    assert "not configured" in anchor.checkpoint_job(chain_db, {}, AT)


def test_the_job_is_registered_last():
    from webapp.jobs import registry

    assert registry()[-1].name == "audit.checkpoint"


def test_a_bad_interval_setting_is_refused():
    with pytest.raises(anchor.AnchorError, match="interval"):
        AnchorSettings.from_settings({"mimamori.audit_checkpoint_interval_minutes": "0"})


@pytest.fixture
def settings(settings, tmp_path, keys):
    """The suite's app settings, with checkpoints switched on."""
    _identifier, private_path = keys()
    return {**settings, "mimamori.audit_signing_key": str(private_path),
            "mimamori.audit_checkpoint_dir": str(tmp_path / "export-checkpoints"),
            "mimamori.audit_public_key_dir": str(keys.public_dir)}


def test_a_log_export_signs_a_checkpoint_after_it_commits(app, make, chain_db, tmp_path, keys):
    from tests.conftest import login

    # The suite's requests commit only into the test's outer transaction, which
    # another connection cannot read: the hook signs a separate committed chain.
    app.app.registry["db.engine"] = chain_db
    login(app, make.account("auditor"))
    assert not (tmp_path / "export-checkpoints").exists()
    response = app.get("/logs/changes", {"format": "csv"})
    assert response.content_type == "text/csv"
    (checkpoint,), unreadable = anchor.read_checkpoints(tmp_path / "export-checkpoints")
    assert (checkpoint.reason, checkpoint.record_id, unreadable) == ("export", 5, [])
    good, findings = anchor.verify_signatures([checkpoint], load_public_keys(keys.public_dir))
    assert good == [checkpoint] and findings == []


def test_the_export_hook_signs_nothing_for_a_rolled_back_export_and_never_raises(chain_db, tmp_path, caplog):
    from webapp.clock import FixedClock

    settings = {"mimamori.audit_signing_key": str(tmp_path / "missing.key"),
                "mimamori.audit_checkpoint_dir": str(tmp_path / "hook")}
    anchor._after_commit(False, chain_db, settings, FixedClock(AT), "export")
    assert not (tmp_path / "hook").exists() and not caplog.records
    anchor._after_commit(True, chain_db, settings, FixedClock(AT), "export")  # the key is missing: logged only
    assert "audit checkpoint after export failed" in caplog.text
