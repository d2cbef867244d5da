"""The calendar against the real holiday package (DESIGN.md §9: one test against the real thing)."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.closed_days import Calendar, Closure, InMemoryFacilityDays, JapaneseHolidays

pytestmark = pytest.mark.req("F-DAILY")

D = dt.date
SCHOOL, NURSERY = 1, 2


@pytest.fixture(scope="module")
def holidays():
    return JapaneseHolidays()


@pytest.fixture
def calendar(holidays):
    return Calendar(holidays, InMemoryFacilityDays({SCHOOL: "elementary", NURSERY: "nursery"}))


def test_golden_week_2026_with_its_substitute_holiday(calendar, holidays):
    # 4/29 昭和の日 (Wed); 5/3 憲法記念日 falls on a Sunday, so 5/6 is 振替休日.
    assert {D(2026, 4, 29), D(2026, 5, 3), D(2026, 5, 4), D(2026, 5, 5), D(2026, 5, 6)} <= holidays.holidays_in(2026)
    assert holidays.name_of(D(2026, 5, 6)) == "振替休日"
    assert calendar.open_days(SCHOOL, D(2026, 4, 27), D(2026, 5, 8)) == [
        D(2026, 4, 27), D(2026, 4, 28), D(2026, 4, 30), D(2026, 5, 1), D(2026, 5, 7), D(2026, 5, 8)
    ]
    # The nursery opens on Saturday 5/2 between the holidays.
    assert calendar.open_days(NURSERY, D(2026, 5, 1), D(2026, 5, 7)) == [D(2026, 5, 1), D(2026, 5, 2), D(2026, 5, 7)]


def test_the_citizens_holiday_between_two_holidays(calendar, holidays):
    # 9/21 敬老の日 and 9/23 秋分の日 make 9/22/2026 a 国民の休日.
    assert holidays.name_of(D(2026, 9, 22)) == "国民の休日"
    assert not calendar.is_open(SCHOOL, D(2026, 9, 22))
    assert calendar.is_open(SCHOOL, D(2026, 9, 24))


def test_new_year_2027_with_coming_of_age_day(calendar):
    # 年末年始 to 1/3, then 1/11/2027 成人の日 (second Monday of January).
    assert calendar.open_days(SCHOOL, D(2026, 12, 28), D(2027, 1, 12)) == [
        D(2026, 12, 28), D(2027, 1, 4), D(2027, 1, 5), D(2027, 1, 6), D(2027, 1, 7), D(2027, 1, 8), D(2027, 1, 12)
    ]


def test_ten_years_for_five_hundred_facilities_is_quick(holidays):
    types = {fid: ("nursery" if fid % 3 else "elementary") for fid in range(500)}
    closures = {fid: [Closure(D(y, 7, 21), D(y, 8, 31), "夏休み") for y in range(2016, 2027)] for fid in range(0, 500, 3)}
    calendar = Calendar(holidays, InMemoryFacilityDays(types, closures))
    counts = [calendar.count_open_days(fid, D(2016, 4, 1), D(2026, 3, 31)) for fid in range(500)]
    # Not a timing assertion (benchmarks print numbers); this proves the shapes:
    # a school has fewer open days than a nursery, and both are plausible.
    assert 1900 < counts[0] < 2200
    assert 2900 < counts[1] < 3100
