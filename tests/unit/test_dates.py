"""The date sweep's list (tests/dates.py) says true things about its dates."""

from __future__ import annotations

import calendar
import datetime as dt

import holidays
import pytest

from tests.dates import SWEEP, pinned_now
from webapp.clock import JST
from webapp.reports.periods import deadline

JAPAN = holidays.Japan(years=range(2026, 2029))


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_every_sweep_instant_is_jst_and_named_by_its_jst_date():
    assert len({d.id for d in SWEEP}) == len(SWEEP)
    for date in SWEEP:
        assert date.now.utcoffset() == dt.timedelta(hours=9)
        assert date.now.astimezone(JST).date().isoformat() == date.id


def test_the_holidays_the_list_relies_on():
    assert JAPAN.get(day("2027-01-01")) and JAPAN.get(day("2027-01-11"))  # 元日, 成人の日
    assert day("2027-01-11").weekday() == 0 and day("2027-01-18") not in JAPAN
    assert all(day(f"2027-05-0{n}") in JAPAN for n in (3, 4, 5)) and day("2027-05-06") not in JAPAN
    for school_day in ("2027-03-31", "2027-04-01", "2027-01-04", "2027-01-29", "2028-02-29"):
        assert day(school_day).weekday() < 5 and day(school_day) not in JAPAN, school_day


def test_january_2027_has_five_sundays_and_the_tenth_is_one():
    sundays = [d for d in range(1, 32) if calendar.weekday(2027, 1, d) == calendar.SUNDAY]
    assert sundays == [3, 10, 17, 24, 31]
    assert deadline(dt.date(2026, 12, 1), 10) == day("2027-01-10")


def test_a_pinned_now_comes_from_the_option_or_the_environment():
    assert pinned_now(None, environ={}) is None
    assert pinned_now(None, environ={"MIMAMORI_TEST_NOW": "2027-01-04T08:30:00+09:00"}).day == 4
    assert pinned_now("2028-02-29T08:30:00+09:00", environ={"MIMAMORI_TEST_NOW": "2027-01-04T08:30:00+09:00"}).day == 29
    with pytest.raises(ValueError):
        pinned_now("2027-01-04T08:30:00", environ={})
