"""The closed-day calendar (休業日カレンダー), an outside dependency (DESIGN.md §9).

Absence streaks are counted in open days only, so every alert depends on
knowing when a facility is closed. The rules, in Japanese terms:

- 休業日 (closed day): a day the facility does not open. Children are not
  expected, so a closed day neither counts as an absence nor breaks a streak.
- 定休日 by facility type (weekly pattern; setting ``mimamori.closed_weekdays``
  overrides per type, e.g. ``nursery=sun after_school=``):
  小学校・中学校・幼稚園 closed Saturday and Sunday; 保育園・認定こども園 and
  学童 (after-school clubs) closed Sunday only — they open on Saturdays.
- 祝日 (national holidays), including 振替休日 (substitute holiday: the next
  weekday when a holiday falls on a Sunday, e.g. 2026-05-06) and 国民の休日
  (citizens' holiday: a day between two holidays, e.g. 2026-09-22), all from the
  maintained ``holidays`` package (setting ``mimamori.holidays``: ``japan``,
  or ``fixed:<dates>`` / ``none`` as the fake).
- 年末年始 (year-end break) 12/29–1/3: closed for every facility type.
- 休業期間 per facility: long breaks (夏休み summer, 冬休み winter, 春休み spring)
  and school events (開校記念日 founding day, 運動会・学芸会の振替休業日 days off
  in lieu of weekend events) as inclusive date ranges from a ``FacilityDays``
  provider. 学童 keep their own closures: they stay open during school breaks.

- 特別開所日 (extra open days) per facility: 土曜授業 (Saturday classes) and
  events on a closed day open that day, overriding every rule above.

Entries on closed days are ignored by the streak count: a child is expected
only on open days.
"""

from __future__ import annotations

from webapp.closed_days.services import (
    Calendar,
    Closure,
    FacilityDays,
    InMemoryFacilityDays,
    parse_weekly_setting,
)
from webapp.closed_days.sources import FixedHolidays, JapaneseHolidays, parse_holiday_setting

__all__ = [
    "Calendar",
    "Closure",
    "FacilityDays",
    "FixedHolidays",
    "InMemoryFacilityDays",
    "JapaneseHolidays",
    "calendar_for",
]


def calendar_for(registry, facilities: FacilityDays) -> Calendar:
    """A calendar over ``facilities`` sharing the registry's holiday source and its per-year cache."""
    return Calendar(registry["holiday_source"], facilities, registry["closed_weekdays"])


def includeme(config):
    settings = config.get_settings()
    config.registry["holiday_source"] = parse_holiday_setting(settings.get("mimamori.holidays", "japan"))
    config.registry["closed_weekdays"] = parse_weekly_setting(settings.get("mimamori.closed_weekdays", ""))
