"""Lockout, throttling, auth events, the admin address rule, proxy trust, the access log."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD
from webapp.audit.models import AccessLogEntry, AuthEvent


def attempt(app, login, password, **environ):
    form = app.get("/login", extra_environ=environ).forms[0]
    form["login"] = login
    form["password"] = password
    return form.submit(status="*", extra_environ=environ)


def events(db, **filters):
    return db.scalars(sa.select(AuthEvent).filter_by(**filters).order_by(AuthEvent.id)).all()


@pytest.mark.req("S-ACCESSLOG", "S-AUTH")
def test_every_failure_reason_is_recorded_but_the_message_is_always_the_same(app, make, db, clock):
    locked = make.account("facility", locked_until=clock.now() + dt.timedelta(minutes=5))
    disabled = make.account("facility", active=False)
    good = make.account("facility")
    admin = make.account("admin")
    cases = [
        ("nobody-here", PASSWORD, {}, "unknown_account"),
        (good.login, "wrong-password-1", {}, "wrong_password"),
        (locked.login, PASSWORD, {}, "locked"),
        (disabled.login, PASSWORD, {}, "disabled"),
        (admin.login, PASSWORD, {"REMOTE_ADDR": "198.51.100.1"}, "address_not_allowed"),
    ]
    for login, password, environ, reason in cases:
        response = attempt(app, login, password, **environ)
        assert response.status_int == 400
        assert "ログインIDまたはパスワードが正しくありません。" in response.text
        event = events(db, login=login)[-1]
        assert (event.event, event.reason) == ("login_failed", reason)
        assert event.client_address == environ.get("REMOTE_ADDR", "192.0.2.10")
    attempt(app, good.login, PASSWORD)
    assert events(db, login=good.login)[-1].event == "login_succeeded"


@pytest.mark.req("S-AUTH")
def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app, make, db, clock):
    account = make.account("caseworker")
    for _ in range(5):
        attempt(app, account.login, "wrong-password-1")
    db.refresh(account)
    assert account.locked_until == clock.now() + dt.timedelta(minutes=15)
    assert [e.event for e in events(db, account_id=account.id)][-1] == "account_locked"
    # The right password does not help while locked...
    assert attempt(app, account.login, PASSWORD).status_int == 400
    assert events(db, login=account.login)[-1].reason == "locked"
    # ...and works again once the lock has expired.
    clock.set(clock.now() + dt.timedelta(minutes=16))
    assert attempt(app, account.login, PASSWORD).status_int == 303


@pytest.fixture
def proxied_settings(settings):
    return dict(settings, **{"mimamori.trusted_proxies": "10.77.0.11 10.77.0.12",
                             "mimamori.admin_cidrs": "203.0.113.0/24"})


@pytest.fixture
def proxied_app(proxied_settings, clock, db):
    from webtest import TestApp

    from webapp.config import configure
    from webapp.settings import build_settings

    config = configure(build_settings(proxied_settings, environ={}))
    config.registry["clock"] = clock
    db.commit()
    return TestApp(config.make_wsgi_app(), extra_environ={
        "wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "HTTP_ORIGIN": "https://localhost",
        "REMOTE_ADDR": "192.0.2.10"})


@pytest.mark.req("S-ADMINIP")
def test_admin_login_only_from_the_ward_ranges_via_the_trusted_proxy(proxied_app, make, db):
    admin = make.account("admin")
    db.commit()
    via_lb = {"REMOTE_ADDR": "10.77.0.11", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    assert attempt(proxied_app, admin.login, PASSWORD, **via_lb).status_int == 303
    assert proxied_app.get("/admin", extra_environ=via_lb).status_int == 200
    # The same cookie from outside the ward's ranges gets nothing and is logged.
    outside = {"REMOTE_ADDR": "10.77.0.11", "HTTP_X_FORWARDED_FOR": "198.51.100.9"}
    assert proxied_app.get("/admin", extra_environ=outside).status_int == 303
    refused = events(db, event="address_refused")[-1]
    assert (refused.account_id, refused.client_address) == (admin.id, "198.51.100.9")


@pytest.mark.req("S-ADMINIP")
def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(proxied_app, make, db):
    admin = make.account("admin")
    db.commit()
    spoofed = {"REMOTE_ADDR": "198.51.100.9", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    assert attempt(proxied_app, admin.login, PASSWORD, **spoofed).status_int == 400
    event = events(db, login=admin.login)[-1]
    assert (event.reason, event.client_address) == ("address_not_allowed", "198.51.100.9")
    # Left-most forged hop through the real LB is ignored too.
    forged = {"REMOTE_ADDR": "10.77.0.12", "HTTP_X_FORWARDED_FOR": "203.0.113.5, 198.51.100.9"}
    assert attempt(proxied_app, admin.login, PASSWORD, **forged).status_int == 400


@pytest.mark.req("S-ADMINIP")
def test_admin_paths_refused_outside_the_ward_ranges_even_for_admins(app, make, db, settings):
    # The tests' ward range is 192.0.2.0/28, where the test client is.
    admin = make.account("admin")
    assert attempt(app, admin.login, PASSWORD).status_int == 303
    assert app.get("/admin").status_int == 200
    assert app.get("/admin", status="*", extra_environ={"REMOTE_ADDR": "198.51.100.20"}).status_int == 303


def test_the_default_admin_range_is_this_machine_only():
    from webapp.settings import DEFAULTS

    assert DEFAULTS["mimamori.admin_cidrs"] == "127.0.0.0/8 ::1"


@pytest.mark.req("S-TLS", "S-WEB")
def test_forwarded_proto_is_believed_only_from_trusted_proxies(proxied_app):
    plain = {"wsgi.url_scheme": "http", "HTTP_X_FORWARDED_PROTO": "https"}
    from_lb = proxied_app.get("/login", extra_environ=dict(plain, REMOTE_ADDR="10.77.0.11"))
    assert "Strict-Transport-Security" in from_lb.headers
    direct = proxied_app.get("/login", extra_environ=dict(plain, REMOTE_ADDR="198.51.100.9"))
    assert "Strict-Transport-Security" not in direct.headers


@pytest.mark.req("S-ACCESSLOG")
def test_every_request_is_in_the_access_log_and_on_stdout(app, make, db, caplog):
    account = make.account("facility")
    caplog.set_level(logging.INFO, logger="mimamori.access")
    attempt(app, account.login, PASSWORD)
    app.get("/account/password")
    app.get("/no-such-page", status=404)
    rows = db.scalars(sa.select(AccessLogEntry).order_by(AccessLogEntry.id)).all()
    last = rows[-2]
    assert (last.method, last.route, last.status, last.login, last.role) == (
        "GET", "account.password", 200, account.login, "facility")
    assert last.organisation == account.facility.name and last.client_address == "192.0.2.10"
    assert rows[-1].status == 404 and rows[-1].route is None
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "mimamori.access"]
    assert lines[-2]["route"] == "account.password" and lines[-2]["occurred_at_jst"].endswith("+09:00")
    assert {line["request_id"] for line in lines} >= {row.request_id for row in rows[-2:]}


@pytest.mark.req("S-ACCESSLOG")
def test_access_log_records_object_ids(app, make, db):
    account = make.account("facility")
    attempt(app, account.login, PASSWORD)
    app.get("/children/999999", status="*")
    row = db.scalars(sa.select(AccessLogEntry).order_by(AccessLogEntry.id.desc())).first()
    assert json.loads(row.object_ids) == {"child_id": "999999"}


@pytest.mark.req("S-ACCESSLOG")
def test_health_checks_go_to_stdout_only(app, db):
    before = db.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry))
    app.get("/healthz")
    assert db.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry)) == before


@pytest.mark.req("S-ACCESSLOG")
def test_the_batched_writer_commits_every_row_from_its_own_thread(scratch_url):
    """Production's writer: rows queued by many request threads all reach the database."""
    import threading

    from sqlalchemy.orm import sessionmaker

    from webapp import migrate
    from webapp.audit.access_writer import BatchedWriter
    from webapp.db import create_engine, utcnow

    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    writer = BatchedWriter(sessionmaker(bind=engine), max_batch=50, max_delay=0.05)

    def requests(n):
        for i in range(100):
            writer.submit({"occurred_at": utcnow(), "request_id": f"{n:02d}{i:030d}", "method": "GET",
                           "path": "/", "status": 200, "duration_ms": 1}, {})

    threads = [threading.Thread(target=requests, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.flush()
    with engine.connect() as conn:
        ids = conn.execute(sa.select(AccessLogEntry.request_id)).scalars().all()
    engine.dispose()
    assert len(ids) == len(set(ids)) == 400
