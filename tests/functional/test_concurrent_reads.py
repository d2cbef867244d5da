"""Reads without the write lock, view records in batches (issue 19 item 1; S-AUDIT).

These tests run real applications on their own databases, committing for
real: the request transactions and the background writer must meet other
connections. The lock tests are about SQLite's write lock, so they always use
a SQLite file; the chain and concurrency tests use the suite's database kind
(``scratch_url``), so on PostgreSQL they exercise the chain's advisory lock.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

from tests.conftest import DEFAULT_NOW, TEST_SECRET, login
from tests.factories import PASSWORD, Factory
from webapp import migrate
from webapp.accounts.models import LoginSession
from webapp.attendance.models import AttendanceEntry
from webapp.audit.chain import verify_chain
from webapp.audit.models import AccessLogEntry, AuditRecord
from webapp.clock import FixedClock
from webapp.db import create_engine

DAY = "2026-11-25"  # the day before DEFAULT_NOW: open for entry
DAY_URL = "/attendance/facilities/{}/" + DAY
BUSY_MS = 5000  # small, so a test that waited for it fails in seconds, not hangs


def build_world(url: str, facilities: int = 1, children: int = 5) -> list[tuple[int, object, int]]:
    """Facilities, each with one staff account and ``children`` children; committed.

    One (facility id, staff account, a child's id) per facility.
    """
    migrate.upgrade(url)
    engine = create_engine(url)
    # Not expired on commit: the tests read the accounts' logins afterwards.
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    make = Factory(session)
    world = []
    for _ in range(facilities):
        facility = make.facility()
        staff = make.account("facility", facility=facility)
        kids = [make.child(facility=facility) for _ in range(children)]
        world.append((facility, staff, kids[0]))
    session.commit()
    result = [(facility.id, staff, child.id) for facility, staff, child in world]
    session.close()
    engine.dispose()
    return result


def make_app(url: str, clock: FixedClock, **settings):
    from webapp.config import configure
    from webapp.settings import build_settings

    base = {
        "sqlalchemy.url": url,
        "mimamori.session_secret": TEST_SECRET,
        "mimamori.secure_cookies": "true",
        "mimamori.argon2_time_cost": "1",
        "mimamori.argon2_memory_cost": "1024",
        "mimamori.admin_cidrs": "192.0.2.0/28 127.0.0.0/8",
        "mimamori.second_factor_roles": "",
        # Production's batched writer, flushing quickly.
        "mimamori.access_log_max_delay": "0.05",
    }
    config = configure(build_settings({**base, **settings}, environ={}))
    config.registry["clock"] = clock
    return config.make_wsgi_app()


def client(wsgi_app) -> TestApp:
    return TestApp(wsgi_app, extra_environ={
        "wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "HTTP_ORIGIN": "https://localhost",
        "REMOTE_ADDR": "192.0.2.10"})


def chain_state(url: str):
    engine = create_engine(url)
    with engine.connect() as conn:
        checked, problems = verify_chain(conn)
        views = conn.execute(
            sa.select(AuditRecord.actor, AuditRecord.child_id).where(AuditRecord.action == "view")).all()
        ids = conn.execute(sa.select(AuditRecord.id).order_by(AuditRecord.id)).scalars().all()
    engine.dispose()
    assert ids == list(range(1, len(ids) + 1))
    return checked, problems, views


class WriteLock:
    """A second connection holding SQLite's write lock, as a long POST or job would."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()

    def release_after(self, seconds: float) -> threading.Thread:
        thread = threading.Thread(target=lambda: (time.sleep(seconds), self.release()))
        thread.start()
        return thread


@pytest.fixture
def sqlite_world(tmp_path):
    path = tmp_path / "reads.sqlite"
    url = f"sqlite:///{path}"
    (facility_id, staff, _child_id), = build_world(url, children=35)
    clock = FixedClock(DEFAULT_NOW)
    wsgi_app = make_app(url, clock, **{"mimamori.sqlite_busy_timeout_ms": str(BUSY_MS)})
    yield path, url, facility_id, staff, clock, wsgi_app
    wsgi_app.registry["access_log.writer"].flush()
    wsgi_app.registry["db.engine"].dispose()


@pytest.mark.req("S-AUDIT")
def test_a_read_page_is_served_while_another_connection_holds_the_write_lock(sqlite_world):
    path, url, facility_id, staff, _clock, wsgi_app = sqlite_world
    app = client(wsgi_app)
    login(app, staff)
    lock = WriteLock(path)
    try:
        started = time.monotonic()
        page = app.get(DAY_URL.format(facility_id), status=200)
        elapsed = time.monotonic() - started
    finally:
        lock.release()
    # Before, the GET queued for the write lock and got a 503 after the busy timeout.
    assert elapsed < BUSY_MS / 1000
    assert len(page.html.select("tbody th[scope=row]")) == 35
    # Its 35 view records were written after the lock was released, by the background writer.
    wsgi_app.registry["access_log.writer"].flush()
    _checked, problems, views = chain_state(url)
    assert problems == []
    assert len([v for v in views if v.actor == staff.login]) == 35


class ReleaseOnRetry(logging.Handler):
    """Releases the lock when the application says it runs the GET again as a writer."""

    def __init__(self, lock: WriteLock):
        super().__init__(logging.INFO)
        self.retries = 0
        self.write_lock = lock  # not self.lock: logging.Handler's own

    def emit(self, record):
        if "retrying as a writer" in record.getMessage():
            self.retries += 1
            self.write_lock.release()


@pytest.mark.req("S-AUDIT")
def test_a_read_that_must_write_runs_again_as_a_writer_and_leaves_one_trace(sqlite_world):
    path, url, facility_id, staff, clock, wsgi_app = sqlite_world
    app = client(wsgi_app)
    login(app, staff)
    # Past the session's touch interval: this GET writes last_seen_at.
    clock.set(DEFAULT_NOW + dt.timedelta(minutes=5))
    lock = WriteLock(path)
    views_log = logging.getLogger("webapp.views")
    handler, level = ReleaseOnRetry(lock), views_log.level
    views_log.addHandler(handler)
    views_log.setLevel(logging.INFO)
    try:
        app.get(DAY_URL.format(facility_id), status=200)
    finally:
        views_log.removeHandler(handler)
        views_log.setLevel(level)
    # The first attempt could not start writing beside the lock and was run again, as a writer.
    assert handler.retries == 1
    wsgi_app.registry["access_log.writer"].flush()
    engine = create_engine(url)
    with engine.connect() as conn:
        seen = conn.execute(sa.select(LoginSession.last_seen_at)).scalars().all()
        rows = conn.execute(sa.select(AccessLogEntry.status).where(
            AccessLogEntry.route == "attendance.day")).scalars().all()
    engine.dispose()
    assert DEFAULT_NOW + dt.timedelta(minutes=5) in seen
    # One request, one access-log row: the discarded attempt left no 503 behind.
    assert rows == [200]
    _checked, problems, views = chain_state(url)
    assert problems == [] and len(views) == 35


@pytest.mark.req("F-DAILY")
def test_a_post_waits_for_the_write_lock_or_fails_cleanly_and_succeeds_once_it_is_free(sqlite_world):
    path, url, facility_id, staff, _clock, wsgi_app = sqlite_world
    app = client(wsgi_app)
    login(app, staff)
    form = app.get(DAY_URL.format(facility_id)).forms["attendance-form"]

    # Held longer than the busy timeout: a clean 503 asking to retry, nothing saved.
    lock = WriteLock(path)
    try:
        refused = form.submit("action", value="all_present", status=503)
    finally:
        lock.release()
    assert refused.headers["Retry-After"] == "30"

    # Held for a moment: the POST waits its turn and saves.
    lock = WriteLock(path)
    releaser = lock.release_after(0.5)
    form.submit("action", value="all_present", status=303)
    releaser.join()
    engine = create_engine(url)
    with engine.connect() as conn:
        saved = conn.scalar(sa.select(sa.func.count()).select_from(AttendanceEntry))
    engine.dispose()
    assert saved == 35


@pytest.mark.req("F-EXPORT")
def test_a_streamed_export_does_not_hold_the_write_lock_while_it_streams(tmp_path):
    path = tmp_path / "export.sqlite"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = create_engine(url)
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    make = Factory(session)
    centre = make.centre()
    facility = make.facility(centre=centre)
    for _ in range(3):
        make.report(make.child(facility=facility), dt.date(2026, 10, 1))
    caseworker = make.account("caseworker", centre=centre)
    session.commit()
    session.close()
    engine.dispose()
    wsgi_app = make_app(url, FixedClock(DEFAULT_NOW), **{"mimamori.sqlite_busy_timeout_ms": str(BUSY_MS)})
    lock_taken_mid_stream = []

    def try_write_lock() -> bool:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:  # "database is locked"
            return False
        finally:
            conn.close()

    def stream_then_try_the_lock(environ, start_response):
        app_iter = wsgi_app(environ, start_response)
        if environ["PATH_INFO"] != "/export/reports.csv":
            return app_iter
        chunks = iter(app_iter)
        first = next(chunks)  # the rows' query has run; the stream's session is open
        lock_taken_mid_stream.append(try_write_lock())
        app_iter.close()
        return [first]

    app = client(stream_then_try_the_lock)
    login(app, caseworker)
    response = app.get("/export/reports.csv", {"from": "2026-10", "to": "2026-10"})
    wsgi_app.registry["access_log.writer"].flush()
    wsgi_app.registry["db.engine"].dispose()
    assert response.body.count(b"\r\n") == 4  # the first chunk: the header and the three reports
    # Before, the stream's own session began IMMEDIATE and held SQLite's only write lock until
    # its last chunk: saves, the writer thread and other exports queued behind it (503 at 16 users).
    assert lock_taken_mid_stream == [True]


def _run_threads(target, count: int) -> list:
    errors: list = []

    def guarded(n):
        try:
            target(n)
        except Exception as exc:  # noqa: BLE001 — collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.req("S-AUDIT")
def test_view_records_of_concurrent_reads_all_reach_one_valid_chain(scratch_url):
    """Two applications, as two app nodes: each its own engine and writer thread, one chain."""
    world = build_world(scratch_url, facilities=8, children=10)
    nodes = [make_app(scratch_url, FixedClock(DEFAULT_NOW)) for _ in range(2)]
    clients = []
    for n, (facility_id, staff, _child_id) in enumerate(world):
        app = client(nodes[n % 2])
        login(app, staff)
        clients.append((app, facility_id))

    def reader(n):
        app, facility_id = clients[n]
        for _ in range(5):
            app.get(DAY_URL.format(facility_id), status=200)

    assert _run_threads(reader, len(clients)) == []
    for node in nodes:
        node.registry["access_log.writer"].flush()
        node.registry["db.engine"].dispose()
    checked, problems, views = chain_state(scratch_url)
    assert problems == []
    assert len(views) == 8 * 5 * 10
    for _facility_id, staff, _child_id in world:
        assert len([v for v in views if v.actor == staff.login]) == 5 * 10


@pytest.mark.req("S-AUDIT")
def test_sixteen_users_reading_and_saving_at_once_get_no_errors(scratch_url):
    world = build_world(scratch_url, facilities=16, children=8)
    wsgi_app = make_app(scratch_url, FixedClock(DEFAULT_NOW))
    clients = []
    for facility_id, staff, child_id in world:
        app = client(wsgi_app)
        login(app, staff)
        clients.append((app, facility_id, child_id))
    saves = [0] * len(clients)

    def user(n):
        app, facility_id, child_id = clients[n]
        for round_ in range(4):
            page = app.get(DAY_URL.format(facility_id), status=200)
            if n % 4 == 0:  # every fourth user saves the day and opens a child's page
                form = page.forms["attendance-form"]
                for name in form.fields:
                    if name.startswith("status-"):
                        form[name] = "present" if round_ % 2 == 0 else "late"
                form.submit("action", value="save", status=303)
                saves[n] += 1
                app.get(f"/attendance/children/{child_id}", status=200)

    assert _run_threads(user, len(clients)) == []
    wsgi_app.registry["access_log.writer"].flush()
    wsgi_app.registry["db.engine"].dispose()
    _checked, problems, views = chain_state(scratch_url)
    assert problems == []
    assert sum(saves) == 4 * 4
    # Every page view is in the chain: 8 children per day page, 1 per child page.
    assert len(views) == 16 * 4 * 8 + sum(saves)


# --- A clean stop flushes the queue ------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.req("S-AUDIT")
def test_a_clean_stop_writes_every_queued_view_record(scratch_url, tmp_path):
    """``mimamori serve`` stopped by SIGTERM: the view records queued for a long batch delay are written."""
    (facility_id, staff, _child_id), = build_world(scratch_url, children=12)
    port = _free_port()
    ini = tmp_path / "serve.ini"
    ini.write_text(
        "[app:main]\nuse = egg:mimamori\n"
        f"sqlalchemy.url = {scratch_url.replace('%', '%%')}\n"
        "mimamori.secure_cookies = false\n"
        "mimamori.second_factor_roles =\n"
        "mimamori.argon2_time_cost = 1\nmimamori.argon2_memory_cost = 1024\n"
        "mimamori.clock = fixed:2026-11-26T10:00:00+09:00\n"
        # Unsafe requests must come from this origin (webapp/csrf.py).
        f"mimamori.public_url = http://127.0.0.1:{port}\n"
        # Nothing is written by the timer during the test: only the stop can write it.
        "mimamori.access_log_max_delay = 3600\n"
        f"\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\nthreads = 4\n",
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    env["MIMAMORI_SESSION_SECRET"] = TEST_SECRET
    server = subprocess.Popen([sys.executable, "-m", "webapp.cli", "-c", str(ini), "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        deadline = time.monotonic() + 60
        while True:
            try:
                login_page = opener.open(f"{base}/login", timeout=5).read().decode()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.2)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        opener.open(urllib.request.Request(f"{base}/login", urllib.parse.urlencode(
            {"csrf_token": token, "login": staff.login, "password": PASSWORD}).encode(),
            headers={"Origin": base}), timeout=10)
        page = opener.open(base + DAY_URL.format(facility_id), timeout=10)
        assert page.status == 200
        assert chain_state(scratch_url)[2] == []  # still queued
    finally:
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)
    assert exit_code == 0, server.stderr.read().decode()[-2000:]
    _checked, problems, views = chain_state(scratch_url)
    assert problems == []
    assert len([v for v in views if v.actor == staff.login]) == 12


@pytest.mark.req("S-AUDIT")
def test_a_batch_that_fails_is_tried_again_not_dropped(scratch_url):
    """A commit failing once (a database switchover) does not lose the queued view records."""
    from webapp.audit.access_writer import BatchedWriter
    from webapp.audit.recorder import view_entry
    from webapp.audit.view_records import VIEW_RECORDS_KEY
    from webapp.db import utcnow

    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    real = sessionmaker(bind=engine)
    failures = ["switchover"]

    def flaky_factory():
        session = real()
        if failures:
            reason = failures.pop()

            def commit():
                raise sa.exc.OperationalError("COMMIT", {}, Exception(reason))

            session.commit = commit
        return session

    writer = BatchedWriter(flaky_factory, max_delay=0.01)
    who = {"occurred_at": utcnow(), "account_id": None, "actor": "fac1", "role": "facility",
           "organisation": None, "client_address": "192.0.2.10"}
    writer.submit(None, {VIEW_RECORDS_KEY: [{**who, **view_entry("children", n, n)} for n in range(1, 6)]})
    writer.flush()
    engine.dispose()
    assert failures == []  # the first attempt did fail
    _checked, problems, views = chain_state(scratch_url)
    assert problems == [] and sorted(v.child_id for v in views) == [1, 2, 3, 4, 5]
