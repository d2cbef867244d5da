"""和暦 (the Japanese era: 令和8年12月) beside 西暦, as the ward's paper forms write it (F-MONTHLY, F-UI).

The only module that knows the era library (japanera): which era a day
belongs to, and so when 平成 became 令和 (2019-05-01), comes from its data,
not from a table of ours. What is ours is the way it is written: the first
year of an era is 元年 (令和元年), as in the ward's and the national
government's documents, and numbers are Arabic digits like the rest of the UI.

English pages show 西暦 only: the era's romanised name (Reiwa 8) helps no
English reader, and every date is already given as a Western year.
"""

from __future__ import annotations

import datetime as dt
import functools

from japanera import EraDate
from jinja2 import pass_context

# Locale names whose pages show the era beside the Western year.
ERA_LOCALES = ("ja",)


# Cached like era_month below: headers ask for the same few months on every page.
@functools.lru_cache(maxsize=4096)
def era_year(day: dt.date) -> str:
    """「令和8年」; the first year of an era is 「令和元年」."""
    era_date = EraDate.from_date(day)
    year = era_date.era.calc_relative_year(day)
    return f"{era_date.era.kanji}{'元' if year == 1 else year}年"


# A month's era text never changes: the export writes it on every row (a ward's 3 months are
# thousands of rows, and asking japanera each time was a quarter of the export's CPU).
@functools.lru_cache(maxsize=1024)
def era_month(period: dt.date) -> str:
    """A report month in era form: 「令和8年12月」.

    A month that straddles a change of era is named by its first day, as the
    report month is: April 2019 is 平成31年4月, May 2019 令和元年5月.
    """
    return f"{era_year(period)}{period.month}月"


def _shows_era(context) -> bool:
    request = context.get("request")
    return getattr(request, "locale_name", "ja") in ERA_LOCALES


@pass_context
def era_month_filter(context, period: dt.date | None) -> str:
    """Jinja ``period|era_month``: 「令和8年12月」 on Japanese pages, empty on English ones."""
    if period is None or not _shows_era(context):
        return ""
    return era_month(period)


@pass_context
def era_year_filter(context, day: dt.date | None) -> str:
    """Jinja ``day|era_year``: 「令和8年」 on Japanese pages, empty on English ones."""
    if day is None or not _shows_era(context):
        return ""
    return era_year(day)
