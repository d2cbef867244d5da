"""Where national holidays come from: the outside dependency behind the calendar.

``JapaneseHolidays`` is the real source. It asks the ``holidays`` package
(PyPI, maintained by the vacanza project with monthly releases) rather than a
hand-written list, because the rules move: 振替休日 (substitute holiday — a
holiday falling on a Sunday moves to the next non-holiday) and 国民の休日
(citizens' holiday — a weekday sandwiched between two holidays, e.g.
2026-09-22) are computed from the law, and one-off holidays (the 2019
enthronement, the 2020/2021 Olympic moves) are added by the package's
maintainers when the Diet passes them.

``FixedHolidays`` is the fake: exactly the days it is given. Tests and the
``mimamori.holidays = fixed:...`` setting use it.

Both answer per year with a frozen set, computed once and cached, so that a
calendar asking about ten years of days for 500 facilities touches the
package ten times, not 1.8 million times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol


class HolidaySource(Protocol):
    def holidays_in(self, year: int) -> frozenset[dt.date]:
        """Every national holiday (祝日, 振替休日, 国民の休日) in ``year``."""


class JapaneseHolidays:
    """National holidays of Japan from the ``holidays`` package, cached per year."""

    def __init__(self) -> None:
        self._years: dict[int, frozenset[dt.date]] = {}

    def holidays_in(self, year: int) -> frozenset[dt.date]:
        cached = self._years.get(year)
        if cached is None:
            # Imported here so that importing webapp never needs the package
            # unless the real calendar is used (the fake needs nothing).
            import holidays

            cached = frozenset(holidays.Japan(years=year).keys())
            self._years[year] = cached
        return cached

    def name_of(self, day: dt.date) -> str | None:
        """The Japanese name of the holiday on ``day`` (e.g. 振替休日), or None."""
        import holidays

        return holidays.Japan(years=day.year, language="ja").get(day)


class FixedHolidays:
    """A fake holiday source: exactly the given days are holidays."""

    def __init__(self, days: Iterable[dt.date] = ()) -> None:
        by_year: dict[int, set[dt.date]] = {}
        for day in days:
            by_year.setdefault(day.year, set()).add(day)
        self._years = {year: frozenset(found) for year, found in by_year.items()}

    def holidays_in(self, year: int) -> frozenset[dt.date]:
        return self._years.get(year, frozenset())


def parse_holiday_setting(value: str) -> HolidaySource:
    """``japan`` (the real source), ``none``, or ``fixed:2026-05-06 2026-01-01 ...``."""
    value = (value or "").strip()
    if value == "japan":
        return JapaneseHolidays()
    if value == "none":
        return FixedHolidays()
    if value.startswith("fixed:"):
        parts = value.removeprefix("fixed:").replace(",", " ").split()
        try:
            return FixedHolidays(dt.date.fromisoformat(part) for part in parts)
        except ValueError as error:
            raise ValueError(f"mimamori.holidays: not a date in {value!r}") from error
    raise ValueError(f"mimamori.holidays must be 'japan', 'none' or 'fixed:<dates>', not {value!r}")
