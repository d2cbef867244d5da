"""Change records (S-AUDIT): written with every change, append-only, hash-chained, verifiable."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa
import transaction
from sqlalchemy.orm import sessionmaker

from tests.conftest import login
from webapp import migrate
from webapp.audit.chain import verify_chain
from webapp.audit.models import AuditRecord
from webapp.audit.recorder import Actor, install_recorder, record_view
from webapp.db import create_engine

pytestmark = pytest.mark.req("S-AUDIT")


@pytest.fixture
def recorded_db(session_factory):
    install_recorder(session_factory)
    session = session_factory()
    session.info["actor"] = Actor(actor="tester", account_id=None, role="admin", client_address="192.0.2.1")
    yield session
    session.close()


def records(db, **filters):
    return db.scalars(sa.select(AuditRecord).filter_by(**filters).order_by(AuditRecord.id)).all()


def test_create_update_delete_are_recorded_with_before_and_after(recorded_db, make):
    make.db = recorded_db
    centre = make.centre(name="北沢子ども家庭支援センター")
    centre.name = "北沢センター"
    recorded_db.flush()
    recorded_db.delete(centre)
    recorded_db.flush()

    create, update, delete = records(recorded_db, entity="centres")
    assert (create.action, update.action, delete.action) == ("create", "update", "delete")
    assert json.loads(create.after)["name"] == "北沢子ども家庭支援センター"
    assert json.loads(update.before)["name"] == "北沢子ども家庭支援センター"
    assert json.loads(update.after)["name"] == "北沢センター"
    assert json.loads(delete.before)["name"] == "北沢センター" and delete.after is None
    assert create.actor == "tester" and create.client_address == "192.0.2.1"
    assert create.entity_id == str(centre.id)


def test_child_records_name_the_child_and_hide_password_hashes(recorded_db, make):
    make.db = recorded_db
    child = make.child()
    account = make.account("facility")
    (child_record,) = records(recorded_db, entity="children")
    assert child_record.child_id == child.id
    (account_record,) = records(recorded_db, entity="accounts")
    assert json.loads(account_record.after)["password_hash"] == "[保護]"
    assert account.password_hash not in account_record.after


def test_records_refuse_update_and_delete(recorded_db, make):
    make.db = recorded_db
    make.centre()
    for statement in ("UPDATE audit_records SET actor = 'x'", "DELETE FROM audit_records"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with recorded_db.begin_nested():
                recorded_db.execute(sa.text(statement))
    assert records(recorded_db)[0].actor == "tester"


def _bypass_append_only(db):
    """What someone with database superuser rights could do; verify must notice."""
    if db.bind.dialect.name == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_records DISABLE TRIGGER USER"))
    else:
        db.execute(sa.text("DROP TRIGGER audit_records_no_update"))
        db.execute(sa.text("DROP TRIGGER audit_records_no_delete"))


@pytest.fixture
def chain_of_five(recorded_db, make):
    make.db = recorded_db
    for _ in range(5):
        make.centre()
    checked, problems = verify_chain(recorded_db.connection())
    assert (checked, problems) == (5, [])
    _bypass_append_only(recorded_db)
    return recorded_db


def test_verify_detects_an_edited_record(chain_of_five):
    chain_of_five.execute(sa.text("UPDATE audit_records SET after = replace(after, 'テスト', '改ざん') WHERE id = 3"))
    _checked, problems = verify_chain(chain_of_five.connection())
    assert [(p.record_id, "書き換え" in p.problem) for p in problems] == [(3, True)]


def test_verify_detects_a_removed_record(chain_of_five):
    chain_of_five.execute(sa.text("DELETE FROM audit_records WHERE id = 4"))
    _checked, problems = verify_chain(chain_of_five.connection())
    assert problems and problems[0].record_id == 4 and "削除" in problems[0].problem


def test_verify_detects_removed_last_records_only_by_count_so_tip_is_reported(chain_of_five):
    # Removing the newest record leaves a valid shorter chain; the count shows it.
    chain_of_five.execute(sa.text("DELETE FROM audit_records WHERE id = 5"))
    checked, problems = verify_chain(chain_of_five.connection())
    assert checked == 4 and problems == []


def test_verify_detects_reordered_records(chain_of_five):
    db = chain_of_five
    db.execute(sa.text("UPDATE audit_records SET id = 100 WHERE id = 2"))
    db.execute(sa.text("UPDATE audit_records SET id = 2 WHERE id = 3"))
    db.execute(sa.text("UPDATE audit_records SET id = 3 WHERE id = 100"))
    _checked, problems = verify_chain(db.connection())
    assert {p.record_id for p in problems} >= {2, 3}


def test_a_change_through_the_app_names_the_logged_in_account(app, make, db):
    account = make.account("facility")
    login(app, account)
    form = app.get("/account/password").forms["password-form"]
    form["current_password"] = "correct-horse-battery-42"
    form["new_password"] = "another-long-pass-77"
    form["confirm_password"] = "another-long-pass-77"
    form.submit()
    (record,) = records(db, entity="accounts", action="update")
    assert record.actor == account.login and record.account_id == account.id
    assert record.role == "facility" and record.client_address
    assert json.loads(record.after) ["password_hash"] == "[変更]"


def test_view_records_say_who_saw_which_child(recorded_db, make):
    make.db = recorded_db
    child = make.child()
    record_view(recorded_db, Actor(actor="cw1", account_id=7, role="caseworker"), "children", child.id, child.id)
    view = records(recorded_db, action="view")[0]
    assert (view.actor, view.child_id, view.entity_id) == ("cw1", child.id, str(child.id))


def test_concurrent_writers_keep_one_unbroken_chain(scratch_url):
    """Eight threads writing at once, each committing: the chain must stay linear."""
    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    factory = sessionmaker(bind=engine)
    install_recorder(factory)
    from webapp.organisations.models import Centre, CentreKind

    errors = []

    def writer(n):
        try:
            for i in range(10):
                session = factory()
                session.info["actor"] = Actor(actor=f"writer{n}")
                session.add(Centre(code=f"W{n}-{i}", name="並行", kind=CentreKind.SUPPORT_CENTRE))
                session.commit()
                session.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        checked, problems = verify_chain(conn)
    engine.dispose()
    assert (checked, problems) == (80, [])


def test_cli_verify_exits_non_zero_on_tampering(tmp_path, monkeypatch, capsys):
    from webapp.cli import main

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    ini = tmp_path / "test.ini"
    ini.write_text(f"[app:main]\nuse = egg:mimamori\nsqlalchemy.url = {url}\n")
    monkeypatch.setenv("MIMAMORI_SESSION_SECRET", "s" * 40)
    migrate.upgrade(url)
    engine = create_engine(url)
    factory = sessionmaker(bind=engine)
    install_recorder(factory)
    from webapp.organisations.models import Centre, CentreKind

    with transaction.manager:
        pass
    session = factory()
    session.info["actor"] = Actor(actor="cli-test")
    session.add_all([Centre(code=f"K{i}", name="検証", kind=CentreKind.SUPPORT_CENTRE) for i in range(3)])
    session.commit()
    assert main(["-c", str(ini), "audit", "verify"]) == 0
    assert "audit chain OK: 3 records" in capsys.readouterr().out

    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_records_no_update")
        conn.exec_driver_sql("UPDATE audit_records SET actor = 'someone else' WHERE id = 2")
    engine.dispose()
    with pytest.raises(SystemExit) as exit_info:
        main(["-c", str(ini), "audit", "verify"])
    assert exit_info.value.code == 1
    assert "NG record 2" in capsys.readouterr().out
