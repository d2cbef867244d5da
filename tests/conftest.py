"""Test fixtures: one migrated database per run, one rolled-back transaction per test.

The database is SQLite unless MIMAMORI_TEST_DATABASE_URL names a PostgreSQL
server (``ci/test`` runs the suite once each way). Tests run against the
alembic migrations, never ``create_all``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

from tests.dates import SWEEP, pinned_now
from tests.factories import PASSWORD, Factory
from webapp import migrate
from webapp.clock import JST, FixedClock
from webapp.db import create_engine

TEST_SECRET = "test-secret-" + "x" * 40
# A Thursday in term time; deadlines (day 10) fall either side of tests' periods.
DEFAULT_NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=JST)


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("MIMAMORI_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


def reset_database(url: str) -> None:
    """Start each run from an empty database."""
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    url = database_url(tmp_path_factory)
    reset_database(url)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(db_url):
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    connection = engine.connect()
    outer = connection.begin()
    yield connection
    outer.rollback()
    connection.close()


@pytest.fixture
def session_factory(connection):
    # Every session (the test's and each request's) commits into a savepoint of
    # the test's outer transaction, which is rolled back afterwards.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def db(session_factory):
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def make(db):
    return Factory(db)


def pytest_addoption(parser):
    group = parser.getgroup("mimamori dates")
    group.addoption("--date-sweep", action="store_true",
                    help="run each date_sensitive test at every app-clock instant of tests/dates.py")
    group.addoption("--test-now", metavar="ISO",
                    help="run date_sensitive tests at this instant (default: $MIMAMORI_TEST_NOW, else DEFAULT_NOW)")


def pytest_generate_tests(metafunc):
    if metafunc.config.getoption("date_sweep", False) and "now" in metafunc.fixturenames \
            and metafunc.definition.get_closest_marker("date_sensitive"):
        metafunc.parametrize("now", [date.now for date in SWEEP], ids=[date.id for date in SWEEP], indirect=True)


@pytest.fixture
def now(request):
    """The app clock's starting instant.

    DEFAULT_NOW, whose fixtures and expected values many tests are written
    around. A test marked ``date_sensitive`` derives everything it needs from
    ``now`` instead, so it may run at any instant: ``--test-now=ISO`` (or
    MIMAMORI_TEST_NOW) pins it, ``--date-sweep`` runs it at each of tests/dates.py.
    """
    if request.node.get_closest_marker("date_sensitive") is None:
        return DEFAULT_NOW
    if hasattr(request, "param"):
        return request.param
    return pinned_now(request.config.getoption("test_now", None)) or DEFAULT_NOW


@pytest.fixture
def clock(now):
    return FixedClock(now)


@pytest.fixture
def settings(db_url, session_factory, clock):
    return {
        "sqlalchemy.url": db_url,
        "mimamori.session_secret": TEST_SECRET,
        "mimamori.db_session_factory": session_factory,
        "mimamori.secure_cookies": "true",
        "mimamori.argon2_time_cost": "1",
        "mimamori.argon2_memory_cost": "1024",
        # Rows written before the response, so a test can look at them at once.
        "mimamori.access_log_writer": "sync",
        # The test client's address (REMOTE_ADDR below) counts as the ward office.
        "mimamori.admin_cidrs": "192.0.2.0/28 127.0.0.0/8",
        # Most tests are about something else than the second factor; the
        # tests in test_second_factor.py run with the default (admins and
        # caseworkers must enrol) through the `strict_app` fixture there.
        "mimamori.second_factor_roles": "",
    }


@pytest.fixture
def wsgi_app(settings, clock):
    from webapp.config import configure
    from webapp.settings import build_settings

    config = configure(build_settings(settings, environ={}))
    config.registry["clock"] = clock
    return config.make_wsgi_app()


@pytest.fixture
def app(wsgi_app, db):
    """A WebTest client speaking HTTPS (the cookies are Secure)."""
    # Data made by the test's own session must be committed (to its savepoint)
    # before a request can see it.
    db.commit()
    # Browsers send Origin with every POST; Pyramid checks it over HTTPS.
    return TestApp(
        wsgi_app,
        extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "HTTP_ORIGIN": "https://localhost",
                       "REMOTE_ADDR": "192.0.2.10"},
    )


def login(app, account, password=PASSWORD):
    """Log ``account`` in through the real form; returns the response after redirects."""
    app.reset()
    form = app.get("/login").forms[0]
    form["login"] = account.login
    form["password"] = password
    response = form.submit()
    assert response.status_int == 303, response.text[:500]
    return response


@pytest.fixture
def login_as(app, db):
    def _login_as(account, password=PASSWORD):
        db.commit()
        return login(app, account, password)

    return _login_as


def csrf_token(app) -> str:
    """The CSRF token of the current client's session (webapp.csrf)."""
    page = app.get("/account/password")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def scratch_url(db_url, tmp_path):
    """An empty database of the same kind as the suite's, for tests that must really commit."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite'}"
        return
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(db_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
