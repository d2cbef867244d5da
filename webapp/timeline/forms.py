"""The timeline's only input: which month to show (``?month=2026-11``)."""

from __future__ import annotations

import datetime as dt

from webapp.i18n import _
from webapp.reports.periods import MIN_YEAR, parse_period

FIRST_MONTH = dt.date(MIN_YEAR, 1, 1)


def clean_month(raw, this_month: dt.date):
    """``2026-11`` (full-width digits and ``2026-1`` accepted) from 2000-01 up to this month.

    Returns (first day of the month, error); empty input means this month.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return this_month, None
    period = parse_period(raw)
    if period is None:
        return None, _("月は 2026-11 の形式で入力してください。")
    if period > this_month:
        return None, _("今月より先の月は表示できません。")
    return period, None
