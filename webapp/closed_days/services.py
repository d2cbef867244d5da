"""The closed-day calendar: is a facility open on a day, and which days in a range.

A day is closed (休業日) for a facility when any of these holds:

1. its weekday is closed for the facility's type (``WEEKLY_CLOSED_DEFAULT``);
2. it is a national holiday (祝日, 振替休日, 国民の休日) from the holiday source;
3. it falls in the year-end break 年末年始 (12/29–1/3), when public
   facilities are closed by custom and by the ward's rules;
4. it falls in one of the facility's own closures (休業期間: 夏休み, 冬休み,
   春休み, 開校記念日, 運動会の振替休業日, ...), given as inclusive date ranges;

unless the day is one of the facility's extra open days (特別開所日: 土曜授業
Saturday classes, events), which override all four.

Everything except (4) depends only on the facility type and the year, so it is
computed once per (weekly pattern, year) as a sorted list of open days and
shared by every facility of that type; (4) is a short sorted list of merged
intervals per facility, searched with ``bisect``. A range query is therefore a
few slices per year, not a loop of per-day checks. Extra open days are merged in.

Facility types, closures and extra open days come from a ``FacilityDays``
provider: ``DbFacilityDays`` (``webapp.closed_days.facility_days``) reads the
``facility_closures`` table in the application; ``InMemoryFacilityDays``
serves tests and benchmarks. Both have the same three methods.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from webapp.closed_days.sources import HolidaySource

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKDAY_NAMES = {"mon": MON, "tue": TUE, "wed": WED, "thu": THU, "fri": FRI, "sat": SAT, "sun": SUN}

# Closed weekdays per facility type (the FacilityType values of
# webapp.organisations; strings here so the calendar depends on nothing).
# - Schools (小学校, 中学校) and 幼稚園 are closed on Saturdays and Sundays.
# - 保育園 and 認定こども園 care for children of working parents six days a
#   week: closed on Sundays only.
# - 学童 (after-school clubs) open on Saturdays and all day during school
#   breaks: closed on Sundays only, and their closures are their own, not the
#   school's.
# - Anything else defaults to Saturday and Sunday.
WEEKLY_CLOSED_DEFAULT: dict[str, frozenset[int]] = {
    "elementary": frozenset({SAT, SUN}),
    "junior_high": frozenset({SAT, SUN}),
    "kindergarten": frozenset({SAT, SUN}),
    "nursery": frozenset({SUN}),
    "certified": frozenset({SUN}),
    "after_school": frozenset({SUN}),
    "other": frozenset({SAT, SUN}),
}
FALLBACK_CLOSED = frozenset({SAT, SUN})

# 年末年始: Dec 29 to Jan 3 inclusive, as (month, day) pairs.
YEAR_END = frozenset({(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)})


@dataclass(frozen=True)
class Closure:
    """A facility's own closed period, both ends inclusive (e.g. 夏休み 7/21–8/31)."""

    start: dt.date
    end: dt.date
    reason: str = ""

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError(f"closure ends ({self.end}) before it starts ({self.start})")


class FacilityDays(Protocol):
    """What the calendar needs to know about a facility."""

    def facility_type(self, facility_id: int) -> str:
        """The facility's type (a FacilityType value); KeyError if unknown."""

    def closures(self, facility_id: int) -> Sequence[Closure]:
        """The facility's own closures, in any order, possibly overlapping."""

    def openings(self, facility_id: int) -> Sequence[dt.date]:
        """Extra open days (土曜授業 Saturday classes, 行事 events) that override every closed-day rule."""


class InMemoryFacilityDays:
    """A ``FacilityDays`` over plain mappings, until closures get their table."""

    def __init__(
        self,
        types: Mapping[int, str],
        closures: Mapping[int, Iterable[Closure]] | None = None,
        openings: Mapping[int, Iterable[dt.date]] | None = None,
    ):
        self._types = dict(types)
        self._closures = {fid: tuple(found) for fid, found in (closures or {}).items()}
        self._openings = {fid: tuple(found) for fid, found in (openings or {}).items()}

    def facility_type(self, facility_id: int) -> str:
        return self._types[facility_id]

    def closures(self, facility_id: int) -> Sequence[Closure]:
        return self._closures.get(facility_id, ())

    def openings(self, facility_id: int) -> Sequence[dt.date]:
        return self._openings.get(facility_id, ())


def parse_weekly_setting(value: str) -> dict[str, frozenset[int]]:
    """``nursery=sun elementary=sat,sun ...`` over the defaults; ``type=`` means open every day."""
    pattern = dict(WEEKLY_CLOSED_DEFAULT)
    for item in (value or "").split():
        facility_type, sep, days = item.partition("=")
        if not sep or not facility_type:
            raise ValueError(f"mimamori.closed_weekdays: expected type=day,day but got {item!r}")
        try:
            pattern[facility_type] = frozenset(WEEKDAY_NAMES[d] for d in days.split(",") if d)
        except KeyError as error:
            raise ValueError(f"mimamori.closed_weekdays: unknown weekday {error.args[0]!r}") from error
    return pattern


class _Intervals:
    """Merged, sorted, inclusive day intervals as two ordinal lists for bisect."""

    def __init__(self, closures: Iterable[Closure]):
        merged: list[list[int]] = []
        for start, end in sorted((c.start.toordinal(), c.end.toordinal()) for c in closures):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def covers(self, ordinal: int) -> bool:
        i = bisect.bisect_right(self.starts, ordinal) - 1
        return i >= 0 and ordinal <= self.ends[i]

    def overlapping(self, first: int, last: int) -> Iterator[tuple[int, int]]:
        """Intervals that touch [first, last], in order."""
        i = max(bisect.bisect_right(self.starts, first) - 1, 0)
        while i < len(self.starts) and self.starts[i] <= last:
            if self.ends[i] >= first:
                yield self.starts[i], self.ends[i]
            i += 1


@dataclass(frozen=True)
class _Rules:
    closed_weekdays: frozenset[int]
    closures: _Intervals
    openings: tuple[int, ...]  # sorted ordinals
    opening_set: frozenset[int]


class Calendar:
    """Open and closed days per facility. Cheap to keep for a whole sweep.

    Per-facility data (type and closures) is read from the provider once per
    facility and cached; call ``forget(facility_id)`` after a closure changes.
    """

    def __init__(
        self,
        holidays: HolidaySource,
        facilities: FacilityDays,
        weekly_closed: Mapping[str, frozenset[int]] | None = None,
    ):
        self.holidays = holidays
        self.facilities = facilities
        self.weekly_closed = dict(WEEKLY_CLOSED_DEFAULT if weekly_closed is None else weekly_closed)
        # (closed weekdays, year) -> sorted open ordinals before facility closures.
        self._base: dict[tuple[frozenset[int], int], list[int]] = {}
        self._base_sets: dict[tuple[frozenset[int], int], frozenset[int]] = {}
        self._facility: dict[int, _Rules] = {}

    # -- per facility ---------------------------------------------------
    def _facility_rules(self, facility_id: int) -> _Rules:
        rules = self._facility.get(facility_id)
        if rules is None:
            facility_type = str(self.facilities.facility_type(facility_id))
            closed = self.weekly_closed.get(facility_type, FALLBACK_CLOSED)
            openings = sorted({day.toordinal() for day in self.facilities.openings(facility_id)})
            rules = _Rules(closed, _Intervals(self.facilities.closures(facility_id)), tuple(openings), frozenset(openings))
            self._facility[facility_id] = rules
        return rules

    def _closed_by_rules(self, rules: _Rules, ordinal: int, year: int) -> bool:
        return ordinal not in self._base_open_set(rules.closed_weekdays, year) or rules.closures.covers(ordinal)

    def forget(self, facility_id: int) -> None:
        self._facility.pop(facility_id, None)

    # -- per weekly pattern and year ------------------------------------
    def _base_open(self, closed: frozenset[int], year: int) -> list[int]:
        key = (closed, year)
        found = self._base.get(key)
        if found is None:
            holidays = {d.toordinal() for d in self.holidays.holidays_in(year)}
            first = dt.date(year, 1, 1).toordinal()
            last = dt.date(year, 12, 31).toordinal()
            found = []
            for ordinal in range(first, last + 1):
                day = dt.date.fromordinal(ordinal)
                if day.weekday() in closed or ordinal in holidays or (day.month, day.day) in YEAR_END:
                    continue
                found.append(ordinal)
            self._base[key] = found
            self._base_sets[key] = frozenset(found)
        return found

    def _base_open_set(self, closed: frozenset[int], year: int) -> frozenset[int]:
        self._base_open(closed, year)
        return self._base_sets[(closed, year)]

    # -- the API ----------------------------------------------------------
    def is_open(self, facility_id: int, day: dt.date) -> bool:
        rules = self._facility_rules(facility_id)
        ordinal = day.toordinal()
        return ordinal in rules.opening_set or not self._closed_by_rules(rules, ordinal, day.year)

    def open_days(self, facility_id: int, start: dt.date, end: dt.date) -> list[dt.date]:
        """Open days in [start, end] inclusive, in order."""
        return [dt.date.fromordinal(o) for o in self._open_ordinals(facility_id, start, end)]

    def count_open_days(self, facility_id: int, start: dt.date, end: dt.date) -> int:
        return len(self._open_ordinals(facility_id, start, end))

    def _open_ordinals(self, facility_id: int, start: dt.date, end: dt.date) -> list[int]:
        rules = self._facility_rules(facility_id)
        closed, closures = rules.closed_weekdays, rules.closures
        result: list[int] = []
        first, last = start.toordinal(), end.toordinal()
        for year in range(start.year, end.year + 1):
            base = self._base_open(closed, year)
            lo = bisect.bisect_left(base, first)
            hi = bisect.bisect_right(base, last)
            # Cut the facility's closures out of the slice [lo, hi).
            year_first = max(first, dt.date(year, 1, 1).toordinal())
            year_last = min(last, dt.date(year, 12, 31).toordinal())
            for c_start, c_end in closures.overlapping(year_first, year_last):
                cut = bisect.bisect_left(base, c_start, lo, hi)
                result.extend(base[lo:cut])
                lo = max(lo, bisect.bisect_right(base, c_end, lo, hi))
            result.extend(base[lo:hi])
        if rules.openings:
            extra = self._extra_openings(rules, first, last)
            if extra:
                result = list(heapq.merge(result, extra))
        return result

    def _extra_openings(self, rules: _Rules, first: int, last: int) -> list[int]:
        """Openings in [first, last] on days the other rules close (the rest are open anyway)."""
        lo = bisect.bisect_left(rules.openings, first)
        hi = bisect.bisect_right(rules.openings, last)
        return [
            o for o in rules.openings[lo:hi] if self._closed_by_rules(rules, o, dt.date.fromordinal(o).year)
        ]

    def open_days_backwards(self, facility_id: int, before_or_on: dt.date) -> Iterator[dt.date]:
        """Open days from ``before_or_on`` going back in time, lazily.

        Endless in practice (it ends at year 1): callers stop at the first
        day that decides their question, which is what keeps a streak
        evaluation independent of the length of the history.
        """
        rules = self._facility_rules(facility_id)
        ordinals = self._regular_backwards(rules, before_or_on)
        if rules.openings:
            extra = reversed(self._extra_openings(rules, 1, before_or_on.toordinal()))
            ordinals = heapq.merge(ordinals, extra, reverse=True)
        for ordinal in ordinals:
            yield dt.date.fromordinal(ordinal)

    def _regular_backwards(self, rules: _Rules, before_or_on: dt.date) -> Iterator[int]:
        closed, closures = rules.closed_weekdays, rules.closures
        last = before_or_on.toordinal()
        for year in range(before_or_on.year, 0, -1):
            base = self._base_open(closed, year)
            hi = bisect.bisect_right(base, last)
            for index in range(hi - 1, -1, -1):
                ordinal = base[index]
                if not closures.covers(ordinal):
                    yield ordinal

    def open_days_backwards_placed(
        self, placements: Sequence[tuple[int, dt.date]], before_or_on: dt.date
    ) -> Iterator[dt.date]:
        """Open days going back across a child's facilities: ``(facility_id, since)`` pairs.

        Each day is judged by the calendar of the facility the child attended
        then, so a streak carries over a transfer (転校・転園) counted in each
        facility's open days. The walk ends at the first placement's start:
        before it the child was not watched, which also bounds the walk.
        """
        ordered = sorted(placements, key=lambda placement: placement[1])
        upper = before_or_on
        for facility_id, since in reversed(ordered):
            if since > upper:
                continue
            for day in self.open_days_backwards(facility_id, upper):
                if day < since:
                    break
                yield day
            upper = since - dt.timedelta(days=1)
