"""When a planned stop (計画停止) of the service is allowed (O-247, F-NOTICE). Pure functions.

The tender (世田谷区 proposal notice, 「システムの管理・運用」) says: planned
stops are in principle on Sundays and national holidays, or on weekdays and
Saturdays from 20:00 to 6:00, and the ward is told at least 10 days ahead.
Read precisely, as implemented here:

- Every instant of the stop ``[start, end)`` must be allowed. The end is
  exclusive: a stop ending at 06:00 is allowed, one ending at 06:01 is not; a
  stop starting at 20:00 is allowed, one starting at 19:59 is not.
- An instant is allowed when its Japan-time calendar day is a Sunday or a
  national holiday (祝日, 振替休日 and 国民の休日, from the ``holidays``
  package), whole day; or, on any other day (Monday to Saturday), when its time
  of day is before 06:00 or from 20:00. So a stop may cross midnight from an
  allowed evening into the next morning until 06:00, whatever that morning is
  (Sunday 22:00 → Monday 05:00 is allowed; Monday 22:00 → Tuesday 06:30 is not).
- 年末年始 (12/29–1/3) is not a national holiday: only 1 January (元日) is,
  plus whatever falls on a Sunday or is a substitute holiday.
- Announcement: the notice must be visible at least 10 days (240 hours) before
  the stop starts, counting from when it is published — the later of "now"
  and the notice's publish-from time. 240 hours is the strict reading of
  「10日前までに」: it also satisfies the calendar-day reading.

Japan has no daylight saving time, so JST is a fixed UTC+9 and "20:00 JST"
is always 11:00 UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from webapp.clock import JST

NOTICE_LEAD = dt.timedelta(days=10)
NIGHT_STARTS = dt.time(20, 0)
NIGHT_ENDS = dt.time(6, 0)


class HolidayLookup:
    """Adapter over a ``HolidaySource`` (``holidays_in(year)``) for one-day questions."""

    def __init__(self, source) -> None:
        self._source = source

    def is_holiday(self, day: dt.date) -> bool:
        return day in self._source.holidays_in(day.year)


class Problem(enum.Enum):
    END_NOT_AFTER_START = "end_not_after_start"
    TOO_SOON = "too_soon"
    OUTSIDE_ALLOWED_HOURS = "outside_allowed_hours"


@dataclasses.dataclass(frozen=True)
class Verdict:
    problems: tuple[Problem, ...]
    # The first instant (JST) of the stop that falls in forbidden hours, for the error message.
    first_forbidden: dt.datetime | None = None
    # The latest moment the notice could have been published for this start.
    publish_by: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def is_whole_day_allowed(day: dt.date, holidays: HolidayLookup) -> bool:
    """Sundays and national holidays allow a stop at any hour."""
    return day.weekday() == 6 or holidays.is_holiday(day)


def first_forbidden_instant(start: dt.datetime, end: dt.datetime, holidays: HolidayLookup) -> dt.datetime | None:
    """The earliest instant of ``[start, end)`` that is not allowed, in JST; None if all are.

    Walks the Japan-time days the window touches. On a day that is not a
    Sunday or holiday, the forbidden part is ``[06:00, 20:00)``; the window
    hits it when it starts before 20:00 and ends after 06:00 of that day.
    """
    start, end = start.astimezone(JST), end.astimezone(JST)
    day = start.date()
    while True:
        day_start = dt.datetime.combine(day, dt.time(0), tzinfo=JST)
        if day_start >= end:
            return None
        if not is_whole_day_allowed(day, holidays):
            forbidden_from = dt.datetime.combine(day, NIGHT_ENDS, tzinfo=JST)
            forbidden_until = dt.datetime.combine(day, NIGHT_STARTS, tzinfo=JST)
            if start < forbidden_until and end > forbidden_from:
                return max(start, forbidden_from)
        # Ends after at most a few days: a whole weekday always has forbidden hours.
        day += dt.timedelta(days=1)


def check_window(start: dt.datetime, end: dt.datetime, *, published_at: dt.datetime,
                 holidays: HolidayLookup) -> Verdict:
    """Whether a planned stop ``[start, end)`` announced at ``published_at`` meets O-247.

    All three datetimes must be timezone-aware. Every problem is reported at
    once, so the admin can fix them together.
    """
    for value in (start, end, published_at):
        if value.tzinfo is None:
            raise ValueError("aware datetimes only")
    problems: list[Problem] = []
    if end <= start:
        return Verdict((Problem.END_NOT_AFTER_START,))
    publish_by = (start - NOTICE_LEAD).astimezone(JST)
    if published_at > publish_by:
        problems.append(Problem.TOO_SOON)
    forbidden = first_forbidden_instant(start, end, holidays)
    if forbidden is not None:
        problems.append(Problem.OUTSIDE_ALLOWED_HOURS)
    return Verdict(tuple(problems), forbidden, publish_by)
