"""The app-clock instants of the date sweep, and the instant a test run is pinned to.

Tests marked ``date_sensitive`` take "now" from the ``now`` fixture
(tests/conftest.py). Normally that is DEFAULT_NOW; ``--test-now=ISO`` or
``MIMAMORI_TEST_NOW=ISO`` pins it to another instant, and ``--date-sweep``
runs each marked test once per instant below (``ci/test`` does, on SQLite).

The same ``MIMAMORI_TEST_NOW`` starts the browser tests' servers on that
instant (``mimamori.clock = from:ISO``, see webapp.clock).

Times are JST, 08:30 on the morning of a school day unless the date itself is
the point. Checked against the ``holidays`` package (tests/unit/test_dates.py
re-checks every claim below, so a wrong comment fails the suite).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import NamedTuple

from webapp.clock import JST, parse_instant

ENVIRONMENT = "MIMAMORI_TEST_NOW"


class SweepDate(NamedTuple):
    id: str
    now: dt.datetime
    why: str


def _jst(year, month, day, hour=8, minute=30) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=JST)


SWEEP: tuple[SweepDate, ...] = (
    # --- the school year turns over (F-ROLLOVER): grades move up on 1 April ---
    SweepDate("2027-03-31", _jst(2027, 3, 31), "last day of the school year (Wed); March is the running month"),
    SweepDate("2027-04-01", _jst(2027, 4, 1), "first day of the school year (Thu); the new year's first month"),
    # --- 年末年始 12/29–1/3: every facility type closed, then the year changes ---
    SweepDate("2026-12-29", _jst(2026, 12, 29), "first day of the year-end break (Tue)"),
    SweepDate("2026-12-30", _jst(2026, 12, 30), "year-end break (Wed)"),
    SweepDate("2026-12-31", _jst(2026, 12, 31, 23, 30), "New Year's Eve, late: 14:30 UTC, still 2026 in JST and UTC"),
    SweepDate("2027-01-01", _jst(2027, 1, 1, 0, 30), "元日 just after midnight JST: still 31 Dec in UTC"),
    SweepDate("2027-01-02", _jst(2027, 1, 2), "year-end break, Saturday"),
    SweepDate("2027-01-03", _jst(2027, 1, 3), "last day of the break, Sunday"),
    SweepDate("2027-01-04", _jst(2027, 1, 4), "first school day of 2027 (Mon); the browser tests' second run"),
    # --- the report deadline: day 10 (mimamori.report_deadline_day) of the next month ---
    # periods.deadline() does not move a weekend or holiday 10th: December's
    # reports are due on Sunday 10 January 2027 itself, overdue from the 11th.
    SweepDate("2027-01-10", _jst(2027, 1, 10, 23, 59), "deadline day (a Sunday), one minute before midnight JST"),
    SweepDate("2027-01-11", _jst(2027, 1, 11, 0, 5), "day after the deadline, 00:05 JST (still the 10th in UTC); 成人の日"),
    SweepDate("2027-01-18", _jst(2027, 1, 18), "Monday after a holiday Monday (成人の日 11 Jan): a streak spans two closed weekends"),
    SweepDate("2027-01-29", _jst(2027, 1, 29), "Friday in a month with five Sundays (3, 10, 17, 24, 31 January 2027)"),
    # --- ゴールデンウィーク 2027: 昭和の日 Thu 29 Apr, then 3–5 May (Mon–Wed) ---
    SweepDate("2027-05-03", _jst(2027, 5, 3), "憲法記念日 (Mon), the first of three holidays in a row"),
    SweepDate("2027-05-06", _jst(2027, 5, 6), "first school day after Golden Week (Thu)"),
    # --- a leap day ---
    SweepDate("2028-02-29", _jst(2028, 2, 29), "29 February 2028 (Tue); January's deadline has passed"),
)


def sweep_ids() -> list[str]:
    return [date.id for date in SWEEP]


def pinned_now(option: str | None = None, environ=None) -> dt.datetime | None:
    """The instant a run is pinned to: the ``--test-now`` option, else MIMAMORI_TEST_NOW, else None."""
    environ = os.environ if environ is None else environ
    value = option or environ.get(ENVIRONMENT)
    if not value:
        return None
    return parse_instant(value)
