"""Reporting periods and deadlines (F-MONTHLY, F-DASH)."""

import datetime as dt

import pytest

from webapp.reports import periods

D = dt.date


@pytest.mark.parametrize("text, expected", [
    ("2026-04", D(2026, 4, 1)),
    ("2026-4", D(2026, 4, 1)),
    ("２０２６－０４", D(2026, 4, 1)),  # full-width input is normalised
    ("2026-13", None),
    ("2026-00", None),
    ("abc", None),
    ("", None),
    ("1999-12", None),
    ("20266-01", None),
    ("2026-04-01", None),
    (None, None),
])
def test_parse_period(text, expected):
    assert periods.parse_period(text) == expected


@pytest.mark.req("F-MONTHLY")
@pytest.mark.parametrize("today, expected", [
    (D(2026, 11, 1), D(2026, 10, 1)),
    (D(2026, 11, 10), D(2026, 10, 1)),  # the deadline day itself still belongs to last month
    (D(2026, 11, 11), D(2026, 11, 1)),
    (D(2026, 1, 5), D(2025, 12, 1)),  # across the year end
])
def test_current_period_is_the_one_whose_deadline_is_next(today, expected):
    assert periods.current_period(today, 10) == expected


@pytest.mark.req("F-DASH")
def test_overdue_only_after_the_deadline_day():
    october = D(2026, 10, 1)
    assert periods.deadline(october, 10) == D(2026, 11, 10)
    assert not periods.is_overdue(october, D(2026, 11, 10), 10)
    assert periods.is_overdue(october, D(2026, 11, 11), 10)
    assert periods.deadline(D(2026, 12, 1), 5) == D(2027, 1, 5)


def test_deadline_day_setting_is_clamped_to_a_day_every_month_has():
    assert periods.deadline_day_setting({"mimamori.report_deadline_day": "31"}) == 28
    assert periods.deadline_day_setting({"mimamori.report_deadline_day": "0"}) == 1
    assert periods.deadline_day_setting({"mimamori.report_deadline_day": "x"}) == 10
    assert periods.deadline_day_setting({}) == 10


def test_month_arithmetic():
    assert periods.add_months(D(2026, 1, 1), -1) == D(2025, 12, 1)
    assert periods.add_months(D(2026, 11, 1), 14) == D(2028, 1, 1)
    assert periods.days_in_month(D(2028, 2, 1)) == 29
    assert periods.days_in_month(D(2026, 2, 1)) == 28
    assert periods.months_ending(D(2026, 2, 1), 3) == [D(2025, 12, 1), D(2026, 1, 1), D(2026, 2, 1)]
    assert len(periods.months_ending(D(2026, 11, 1), 12)) == 12
    assert periods.has_started(D(2026, 11, 1), D(2026, 11, 1))
    assert not periods.has_started(D(2026, 12, 1), D(2026, 11, 30))
