"""Which reminder step is due on a day (F-REMIND): before, on and after the deadline."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.reports.reminders import ReminderStep, days_before_setting, due_step

OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


@pytest.mark.req("F-REMIND")
@pytest.mark.parametrize("today, expected", [
    (dt.date(2026, 11, 6), (ReminderStep.OVERDUE, dt.date(2026, 9, 1))),  # quiet for October: September's late
    (dt.date(2026, 11, 7), (ReminderStep.BEFORE, OCT)),  # 3 days before the 10th
    (dt.date(2026, 11, 9), (ReminderStep.BEFORE, OCT)),
    (dt.date(2026, 11, 10), (ReminderStep.DUE, OCT)),  # the deadline day itself
    (dt.date(2026, 11, 11), (ReminderStep.OVERDUE, OCT)),  # the day after: escalate
    (dt.date(2026, 11, 30), (ReminderStep.OVERDUE, OCT)),
    (dt.date(2026, 12, 7), (ReminderStep.BEFORE, NOV)),
    (dt.date(2027, 1, 10), (ReminderStep.DUE, dt.date(2026, 12, 1))),  # across the year end
])
def test_the_step_due_on_a_day(today, expected):
    assert due_step(today, 10, 3) == expected


@pytest.mark.req("F-REMIND")
def test_no_early_reminder_when_days_before_is_zero():
    assert due_step(dt.date(2026, 11, 9), 10, 0) == (ReminderStep.OVERDUE, dt.date(2026, 9, 1))


@pytest.mark.parametrize("raw, days", [("3", 3), (" 5 ", 5), ("-1", 0), ("99", 27), ("三", 3), ("", 3)])
def test_days_before_setting_is_clamped(raw, days):
    assert days_before_setting({"mimamori.reminder_days_before": raw}) == days
