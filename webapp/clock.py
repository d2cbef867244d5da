"""The clock, as an outside dependency: the real one, a fixed one, and one that starts elsewhere.

Deadlines and overdue highlighting depend on "today" in Japan; tests pin it.
The setting ``mimamori.clock`` (or the environment variable ``MIMAMORI_CLOCK``)
chooses one for the whole application, including ``mimamori demo-data`` and
``mimamori jobs run``:

``system``
    The real time (production).
``fixed:2026-11-26T09:00:00+09:00``
    Always that instant. Right for tests that drive the application in-process
    (they move it with ``FixedClock.set``), wrong for a running server: sessions
    never expire and nothing ever happens "later" — a report submitted a second
    after another has the same timestamp.
``from:2027-01-04T08:30:00+09:00``
    Starts at that instant when the process starts, then advances with real
    time. For a browser-test or demo server that must believe it is a given
    day: time passes normally, so ordering, idle timeouts and "just now" work.
    Each process (``demo-data``, ``jobs run``, ``serve``) starts its own clock,
    so a server started a minute after ``demo-data`` is still at the instant it
    names: data generated "up to now" never lies in the server's future.

The instant must carry its UTC offset (``+09:00`` for Japan); a naive time is
refused rather than guessed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().astimezone(JST).date()


class FixedClock(SystemClock):
    """A clock that tests can set and move."""

    def __init__(self, now: dt.datetime):
        self.current = now

    def now(self) -> dt.datetime:
        return self.current

    def set(self, now: dt.datetime) -> None:
        self.current = now


class StartingClock(SystemClock):
    """A clock that reads ``start`` when created, then runs at real speed."""

    def __init__(self, start: dt.datetime):
        self.offset = start - dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant with its UTC offset; ValueError for a naive or malformed one."""
    instant = dt.datetime.fromisoformat(text.strip())
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"clock instant {text!r} has no UTC offset (e.g. +09:00)")
    return instant


def parse_clock_setting(value: str) -> SystemClock:
    """``system``, ``fixed:ISO`` or ``from:ISO`` (see the module docstring)."""
    value = (value or "system").strip()
    if value.startswith("fixed:"):
        return FixedClock(parse_instant(value.removeprefix("fixed:")))
    if value.startswith("from:"):
        return StartingClock(parse_instant(value.removeprefix("from:")))
    if value != "system":
        raise ValueError(f"mimamori.clock must be system, fixed:ISO or from:ISO, not {value!r}")
    return SystemClock()


def includeme(config):
    clock = parse_clock_setting(config.get_settings()["mimamori.clock"])
    config.registry["clock"] = clock
    config.add_request_method(lambda request: request.registry["clock"], "clock", reify=True)
