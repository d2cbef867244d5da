"""Connects retried through a database switchover (issue 10: the lab's rolling
patch saw 503s in the 1.5 s between the old primary's demotion and the new
one's promotion)."""

from __future__ import annotations

import psycopg
import pytest

from webapp import db


def _connector(engine):
    """The do_connect listener webapp.db installed on a PostgreSQL engine."""
    listeners = list(engine.dialect.dispatch.do_connect)
    assert len(listeners) == 1
    return listeners[0]


def _failing(times: int, calls: list):
    def connect(*args, **kwargs):
        calls.append(args)
        if len(calls) <= times:
            raise psycopg.OperationalError("no server accepts writes yet")
        return "connection"
    return connect


@pytest.mark.req("O-247", "O-PATCH")
def test_a_connect_refused_during_a_switchover_is_tried_again(monkeypatch):
    engine = db.create_engine("postgresql+psycopg://app@db1,db2/mimamori")
    calls: list = []
    monkeypatch.setattr(engine.dialect, "connect", _failing(3, calls))
    conn = _connector(engine)(engine.dialect, None, ("dsn",), {})
    assert conn == "connection" and len(calls) == 4


def test_a_longer_outage_still_fails_after_the_wait(monkeypatch):
    engine = db.create_engine("postgresql+psycopg://app@db1/mimamori")
    calls: list = []
    monkeypatch.setattr(engine.dialect, "connect", _failing(10_000, calls))
    monkeypatch.setattr(db.time, "sleep", lambda s: None)
    clock = iter(x * 0.2 for x in range(10_000))
    monkeypatch.setattr(db.time, "monotonic", lambda: next(clock))
    with pytest.raises(psycopg.OperationalError):
        _connector(engine)(engine.dialect, None, ("dsn",), {})
    # 5 s of waiting at 0.2 s per try: about 25 tries, then the error goes up.
    assert 20 <= len(calls) <= 26


def test_other_errors_are_not_retried(monkeypatch):
    engine = db.create_engine("postgresql+psycopg://app@db1/mimamori")
    calls: list = []

    def bad_password(*args, **kwargs):
        calls.append(args)
        raise psycopg.ProgrammingError("invalid connection option")
    monkeypatch.setattr(engine.dialect, "connect", bad_password)
    with pytest.raises(psycopg.ProgrammingError):
        _connector(engine)(engine.dialect, None, ("dsn",), {})
    assert len(calls) == 1


def test_sqlite_engines_connect_once():
    engine = db.create_engine("sqlite://")
    assert list(engine.dialect.dispatch.do_connect) == []
