"""The clock, as an outside dependency with a real and a fixed implementation.

Deadlines and overdue highlighting depend on "today" in Japan; tests pin it.
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


def parse_clock_setting(value: str) -> SystemClock:
    """``system`` or ``fixed:2026-11-26T09:00:00+09:00``."""
    if value.startswith("fixed:"):
        return FixedClock(dt.datetime.fromisoformat(value.removeprefix("fixed:")))
    return SystemClock()


def includeme(config):
    clock = parse_clock_setting(config.get_settings()["mimamori.clock"])
    config.registry["clock"] = clock
    config.add_request_method(lambda request: request.registry["clock"], "clock", reify=True)
