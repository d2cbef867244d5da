"""Reporting periods (months) and their deadlines.

A period is represented by the first day of its month (``datetime.date``),
as stored in ``MonthlyReport.period``. All functions are pure so the deadline
rules can be unit-tested without a clock or a database.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

# Periods outside this range are treated as unknown URLs (404), so a typo such
# as "20266-01" never reaches a date computation or the database.
MIN_YEAR = 2000
MAX_YEAR = 2100

_PERIOD = re.compile(r"(\d{4})-(\d{1,2})")


def parse_period(text) -> dt.date | None:
    """``"2026-04"`` -> ``date(2026, 4, 1)``; None for anything else (incl. month 13)."""
    if not isinstance(text, str):
        return None
    match = _PERIOD.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)


def format_period(period: dt.date) -> str:
    return f"{period.year:04d}-{period.month:02d}"


def add_months(period: dt.date, months: int) -> dt.date:
    index = period.year * 12 + (period.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def days_in_month(period: dt.date) -> int:
    return calendar.monthrange(period.year, period.month)[1]


def last_day(period: dt.date) -> dt.date:
    return period.replace(day=days_in_month(period))


def deadline_day_setting(settings) -> int:
    """``mimamori.report_deadline_day`` as a day that exists in every month (1..28)."""
    try:
        day = int(str(settings.get("mimamori.report_deadline_day", "10")).strip())
    except ValueError:
        day = 10
    return min(max(day, 1), 28)


def deadline(period: dt.date, deadline_day: int) -> dt.date:
    """The last day on which ``period``'s reports are on time: day N of the following month."""
    return add_months(period, 1).replace(day=deadline_day)


def is_overdue(period: dt.date, today: dt.date, deadline_day: int) -> bool:
    return today > deadline(period, deadline_day)


def current_period(today: dt.date, deadline_day: int) -> dt.date:
    """The period whose deadline comes next.

    Up to and including the deadline day that is last month (facilities are
    finishing it); after it, the running month.
    """
    this_month = today.replace(day=1)
    if today.day <= deadline_day:
        return add_months(this_month, -1)
    return this_month


def has_started(period: dt.date, today: dt.date) -> bool:
    """A month can be reported on from its first day, never before."""
    return period <= today


def months_ending(period: dt.date, count: int) -> list[dt.date]:
    """``count`` consecutive periods, oldest first, the last being ``period``."""
    return [add_months(period, offset) for offset in range(1 - count, 1)]
