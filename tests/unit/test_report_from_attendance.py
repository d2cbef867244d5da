"""The report counts computed from daily entries, without a web request (issue #18, F-MONTHLY)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from webapp.closed_days import Calendar, Closure, FixedHolidays, InMemoryFacilityDays
from webapp.reports.from_attendance import Difference, compute, differences

OCT = dt.date(2026, 10, 1)


def calendar():
    # An elementary school: Saturdays and Sundays closed; 12 Oct a holiday; a closure on 30 Oct.
    return Calendar(FixedHolidays([dt.date(2026, 10, 12)]),
                    InMemoryFacilityDays({1: "elementary"}, {1: [Closure(dt.date(2026, 10, 30), dt.date(2026, 10, 30), "")]}))


def child(start=dt.date(2026, 4, 1), end=None):
    return SimpleNamespace(monitoring_start=start, monitoring_end=end)


def d(n):
    return dt.date(2026, 10, n)


@pytest.mark.req("F-MONTHLY")
def test_each_status_and_reason_has_its_field_and_unmapped_cases_are_counted_apart():
    entries = [(d(1), "present", None, False), (d(2), "late", None, False), (d(5), "left_early", None, False),
               (d(6), "absent", "illness", False), (d(7), "absent", "family", False), (d(8), "absent", "bereavement", False),
               (d(9), "absent", "unknown", False), (d(13), "absent", "other", False), (d(14), "absent", None, False),
               (d(3), "present", None, False), (d(12), "present", None, False), (d(30), "present", None, False)]
    found = compute(calendar(), child(), 1, OCT, entries)
    # 22 weekdays - holiday - closure = 20 open days; 9 entries on them; 3 on closed days ignored.
    assert found.counts == {
        "days_expected": 20, "days_attended": 3, "days_absent": 6, "late_count": 1, "early_leave_count": 1,
        "absent_illness": 1, "absent_family": 1, "absent_bereavement": 1, "absent_suspension": 0,
        "absent_unknown": 1, "absent_other": 1,
    }
    assert (found.missing_days, found.absent_without_reason, found.ignored_entries) == (11, 1, 3)


@pytest.mark.req("F-MONTHLY")
def test_monitoring_period_limits_the_expected_days():
    found = compute(calendar(), child(start=d(15), end=d(23)), 1, OCT, [(d(14), "present", None, False)])
    assert found.counts["days_expected"] == 7  # 15, 16, 19-23
    assert found.ignored_entries == 1 and found.missing_days == 7


def test_differences_name_each_field_that_differs():
    daily = compute(calendar(), child(), 1, OCT, [(d(1), "present", None, False)])
    reported = {**{k: str(v) for k, v in daily.counts.items()}, "days_attended": "18", "late_count": ""}
    assert differences(reported, daily) == [Difference("days_attended", "出席日数", "日", 18, 1)]
    assert differences(reported, None) == []


@pytest.mark.req("F-MONTHLY")
@pytest.mark.parametrize("flags, expected", [
    ((), None), ((False, False), "yes"), ((True,), "no"), ((False, True), "partial"),
])
def test_family_contact_follows_the_absences_no_contact_flags(flags, expected):
    entries = [(d(1), "present", None, True)]  # a present day's flag means nothing
    entries += [(d(5 + n), "absent", "illness", flag) for n, flag in enumerate(flags)]
    found = compute(calendar(), child(), 1, OCT, entries)
    assert found.family_contact == expected
    assert found.form_values().get("family_contact") == expected
