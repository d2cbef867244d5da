"""Database access: the declarative base, the engine and ``request.db``.

``request.db`` is the only way request code reaches the database. The session is
joined to the request's transaction manager (pyramid_tm + zope.sqlalchemy), so a
view never commits: the transaction commits when the view returns normally and is
aborted on any exception. Scripts use ``with transaction.manager:`` and
:func:`session_for`.
"""

from __future__ import annotations

import datetime as dt
import functools
import time

import sqlalchemy as sa
import zope.sqlalchemy
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from webapp.sqlite_reads import BEGIN_OPTION, DEFERRED_KEY, begins_deferred, execution_policy, read_engine

# One naming convention for every constraint so that alembic migrations name
# them identically on SQLite and PostgreSQL (and downgrades can drop them).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Timezone-aware now in UTC; everything is stored in UTC and shown in JST."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite has no time zones, so values are stored naive-UTC there and
    re-labelled on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use webapp.db.utcnow()")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def enum_column(enum_class, length: int = 20) -> sa.Enum:
    """A StrEnum stored as its value in a VARCHAR, the same on SQLite and PostgreSQL.

    Not a native PostgreSQL enum: adding a value then needs no ALTER TYPE, and
    the stored text is the enum's value (``"submitted"``), not its name.
    """
    return sa.Enum(enum_class, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime}


class Model(Base):
    """Abstract base: an integer id and creation/update timestamps."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _enable_sqlite_foreign_keys_and_savepoints(engine: sa.Engine, busy_timeout_ms: int) -> None:
    """Make SQLite behave: enforce foreign keys, and let SQLAlchemy own BEGIN.

    pysqlite's own transaction handling breaks SAVEPOINT (used by the tests and
    by nested transactions), so we disable it and emit BEGIN ourselves — the
    recipe from SQLAlchemy's SQLite dialect documentation.

    BEGIN IMMEDIATE unless the connection says otherwise: a transaction that
    reads and then writes while another connection writes fails at once with
    "database is locked" (SQLite cannot wait in that case), so a transaction
    that may write takes the write lock at BEGIN and waits its turn
    (busy_timeout) instead. Requests with safe HTTP methods read through
    :func:`webapp.sqlite_reads.read_engine` and begin DEFERRED, taking no
    write lock at all (webapp/sqlite_reads.py says how their rare writes are
    made safe). Scripts, jobs and background writers begin IMMEDIATE.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # Writers queue for the write lock (BEGIN IMMEDIATE below); wait rather than fail.
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


# How long a SQLite writer waits for the write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 15000


def create_engine(url: str, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, **kwargs)
        _enable_sqlite_foreign_keys_and_savepoints(engine, sqlite_busy_timeout_ms)
        return engine
    # pool_pre_ping lets an app node survive a database failover without a
    # restart: a dead pooled connection is replaced before it is used.
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    engine = sa.create_engine(url, **kwargs)
    retry_connect_through_switchover(engine, CONNECT_RETRY_SECONDS)
    return engine


# A Patroni switchover leaves no writable node for a moment: the lab measured
# 1.5 s between the old primary's demotion and the new one's promotion, during
# which a rolling patch saw 15 requests answered 503. Connecting again for a
# few seconds turns that gap into a short wait. Longer outages (a failover
# waits for the leader key's 30 s TTL) still end in 503 after this wait.
CONNECT_RETRY_SECONDS = 5.0
CONNECT_RETRY_INTERVAL = 0.2


def retry_connect_through_switchover(engine: sa.Engine, seconds: float,
                                     interval: float = CONNECT_RETRY_INTERVAL) -> None:
    """Retry failed connects for up to ``seconds``. Always safe: nothing has
    been sent on a connection that failed to open. Reconnects after
    pool_pre_ping found a dead connection come through here too."""

    @event.listens_for(engine, "do_connect")
    def _connect_with_retry(dialect, _record, cargs, cparams):
        deadline = time.monotonic() + seconds
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError:
                if time.monotonic() + interval > deadline:
                    raise
                time.sleep(interval)


def session_for(session_factory, transaction_manager, actor=None, **session_options):
    """A session joined to ``transaction_manager`` (a request's or a script's).

    ``actor`` (a :class:`webapp.audit.recorder.Actor`) is who the change
    records name for scripts; requests name the logged-in account.
    """
    session = session_factory(**session_options)
    if actor is not None:
        session.info["actor"] = actor
    zope.sqlalchemy.register(session, transaction_manager=transaction_manager)
    return session


def read_session_factory(registry):
    """Sessions for reading outside a request's transaction (the rows of a streamed response).

    On SQLite they begin DEFERRED like a GET's: the default, IMMEDIATE, held the
    database's only write lock for as long as a CSV export streamed, so every
    other export, save and background write queued behind it (and some waited
    past the busy timeout: 503).
    """
    factory = registry["db.session_factory"]
    read_engine = registry.get("db.read_engine")  # SQLite only
    return factory if read_engine is None else functools.partial(factory, bind=read_engine)


def _request_db(request):
    options = {}
    read_engine = request.registry.get("db.read_engine")  # SQLite only
    if read_engine is not None and begins_deferred(request):
        options["bind"] = read_engine
        request.environ[DEFERRED_KEY] = True
    session = session_for(request.registry["db.session_factory"], request.tm, **options)
    # The change recorder (webapp.audit) reads who is acting from here.
    session.info["request"] = request

    def _close(_request):
        session.close()

    request.add_finished_callback(_close)
    return session


def includeme(config):
    settings = config.get_settings()
    factory = settings.get("mimamori.db_session_factory")
    if factory is None:
        # The tests pass a factory bound to one outer transaction per test.
        busy_ms = int(settings.get("mimamori.sqlite_busy_timeout_ms", SQLITE_BUSY_TIMEOUT_MS))
        engine = create_engine(settings["sqlalchemy.url"], sqlite_busy_timeout_ms=busy_ms)
        factory = sessionmaker(bind=engine)
        config.registry["db.engine"] = engine
        if engine.dialect.name == "sqlite":
            config.registry["db.read_engine"] = read_engine(engine)
            config.set_execution_policy(execution_policy)
    config.registry["db.session_factory"] = factory

    config.include("pyramid_tm")
    config.add_request_method(_request_db, "db", reify=True)
