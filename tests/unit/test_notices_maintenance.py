"""The planned-stop rule of O-247: Sundays/holidays whole day, otherwise 20:00–06:00, 10 days' notice."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.clock import JST
from webapp.closed_days.sources import FixedHolidays, JapaneseHolidays
from webapp.notices.forms import clean_datetime
from webapp.notices.maintenance import HolidayLookup, Problem, check_window, first_forbidden_instant

pytestmark = pytest.mark.req("O-247", "F-NOTICE")

REAL = HolidayLookup(JapaneseHolidays())
NONE = HolidayLookup(FixedHolidays())
LONG_AGO = dt.datetime(2025, 1, 1, tzinfo=JST)


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


def allowed(start: str, end: str, holidays=REAL) -> bool:
    return check_window(t(start), t(end), published_at=LONG_AGO, holidays=holidays).ok


# 2026-12-01 is a Tuesday, 2026-12-05 a Saturday, 2026-12-06 a Sunday.


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2026-12-01T20:00", "2026-12-02T06:00", True),   # a weekday night, both edges exact
    ("2026-12-01T19:59", "2026-12-02T06:00", False),  # one minute early
    ("2026-12-01T20:00", "2026-12-02T06:01", False),  # one minute late
    ("2026-12-01T20:01", "2026-12-01T23:59", True),
    ("2026-12-02T00:00", "2026-12-02T05:59", True),   # the early-morning half alone
    ("2026-12-02T05:00", "2026-12-02T06:00", True),
    ("2026-12-02T06:00", "2026-12-02T06:01", False),
    ("2026-12-02T19:59", "2026-12-02T20:00", False),
    ("2026-12-05T20:00", "2026-12-06T23:59", True),   # Saturday night into a whole Sunday
    ("2026-12-05T19:00", "2026-12-06T05:00", False),  # Saturday is not a Sunday
    ("2026-12-05T10:00", "2026-12-05T12:00", False),  # Saturday daytime
    ("2026-12-06T00:00", "2026-12-07T00:00", True),   # the whole Sunday
    ("2026-12-06T09:00", "2026-12-07T06:00", True),   # Sunday daytime, across midnight into Monday 06:00
    ("2026-12-06T09:00", "2026-12-07T06:01", False),  # ... one minute into Monday's working day
    ("2026-12-06T22:00", "2026-12-07T05:00", True),   # crosses midnight into a weekday morning
    ("2026-12-07T22:00", "2026-12-08T06:30", False),  # weekday night overrunning 06:00
    ("2026-12-01T20:00", "2026-12-03T06:00", False),  # two nights joined by a working day
])
def test_window_edges(start, end, expected):
    assert allowed(start, end) is expected


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2026-12-31T10:00", "2026-12-31T12:00", False),  # 大晦日 is a Thursday, not a holiday
    ("2026-12-31T20:00", "2027-01-01T23:00", True),   # New Year's Eve night into 元日
    ("2027-01-01T00:00", "2027-01-02T06:00", True),   # 元日 whole day, then the night until 06:00
    ("2027-01-02T10:00", "2027-01-02T11:00", False),  # 1/2 (Saturday) is in 年末年始 but not a holiday
    ("2027-01-03T10:00", "2027-01-03T11:00", True),   # 1/3 2027 is a Sunday
    ("2027-01-11T10:00", "2027-01-11T16:00", True),   # 成人の日 (second Monday of January)
    ("2026-05-06T10:00", "2026-05-06T16:00", True),   # 振替休日 (5/3 fell on a Sunday)
    ("2026-09-22T10:00", "2026-09-22T16:00", True),   # 国民の休日 between two holidays
    # シルバーウィーク: 9/20 Sunday, 9/21 敬老の日, 9/22 国民の休日, 9/23 秋分の日, then Thursday until 05:00.
    ("2026-09-20T08:00", "2026-09-24T05:00", True),
    ("2026-09-20T08:00", "2026-09-24T09:00", False),
])
def test_real_holidays(start, end, expected):
    assert allowed(start, end) is expected


def test_a_holiday_only_counts_from_the_holiday_source():
    # The same Wednesday daytime is refused without the holiday and allowed with it.
    day = dt.date(2026, 12, 2)
    assert not allowed("2026-12-02T10:00", "2026-12-02T11:00", NONE)
    assert allowed("2026-12-02T10:00", "2026-12-02T11:00", HolidayLookup(FixedHolidays([day])))


def test_utc_input_is_judged_in_japan_time():
    # 11:00 UTC is 20:00 JST (no daylight saving in Japan, any season).
    for month in (1, 7):
        start = dt.datetime(2026, month, 7, 11, 0, tzinfo=dt.UTC)
        end = dt.datetime(2026, month, 7, 21, 0, tzinfo=dt.UTC)
        holidays = NONE
        assert check_window(start, end, published_at=LONG_AGO, holidays=holidays).ok
        assert not check_window(start - dt.timedelta(minutes=1), end, published_at=LONG_AGO,
                                holidays=holidays).ok


def test_first_forbidden_instant_names_the_first_bad_minute():
    assert first_forbidden_instant(t("2026-12-01T18:30"), t("2026-12-01T23:00"), NONE) == t("2026-12-01T18:30")
    assert first_forbidden_instant(t("2026-12-01T22:00"), t("2026-12-02T07:00"), NONE) == t("2026-12-02T06:00")


def test_ten_days_notice_is_240_hours_from_publication():
    start, end = t("2026-12-06T09:00"), t("2026-12-06T12:00")  # a Sunday morning
    exactly = check_window(start, end, published_at=t("2026-11-26T09:00"), holidays=NONE)
    assert exactly.ok
    late = check_window(start, end, published_at=t("2026-11-26T09:01"), holidays=NONE)
    assert late.problems == (Problem.TOO_SOON,)
    assert late.publish_by == t("2026-11-26T09:00")


def test_every_problem_is_reported_together_and_end_must_follow_start():
    verdict = check_window(t("2026-11-27T10:00"), t("2026-11-27T11:00"), published_at=t("2026-11-26T10:00"),
                           holidays=NONE)
    assert set(verdict.problems) == {Problem.TOO_SOON, Problem.OUTSIDE_ALLOWED_HOURS}
    same = check_window(t("2026-12-06T10:00"), t("2026-12-06T10:00"), published_at=LONG_AGO, holidays=NONE)
    assert same.problems == (Problem.END_NOT_AFTER_START,)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        check_window(dt.datetime(2026, 12, 6), t("2026-12-07T00:00"), published_at=LONG_AGO, holidays=NONE)


def _oracle(start: dt.datetime, end: dt.datetime, holidays: HolidayLookup) -> bool:
    """Minute by minute, straight from the tender's wording."""
    moment = start
    while moment < end:
        local = moment.astimezone(JST)
        whole_day = local.weekday() == 6 or holidays.is_holiday(local.date())
        night = local.time() >= dt.time(20) or local.time() < dt.time(6)
        if not (whole_day or night):
            return False
        moment += dt.timedelta(minutes=1)
    return True


MINUTE_STARTS = st.integers(min_value=0, max_value=60 * 24 * 30).map(
    lambda m: t("2026-12-20T00:00") + dt.timedelta(minutes=m))  # across year-end and 元日


@settings(max_examples=150, deadline=None)
@given(start=MINUTE_STARTS, length=st.integers(min_value=1, max_value=60 * 40))
def test_rule_matches_a_minute_by_minute_reading(start, length):
    end = start + dt.timedelta(minutes=length)
    verdict = check_window(start, end, published_at=LONG_AGO, holidays=REAL)
    assert verdict.ok is _oracle(start, end, REAL)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-12-06T20:00", t("2026-12-06T20:00")),
    ("2026-12-06T20:00:00", t("2026-12-06T20:00")),  # browsers may add seconds
    ("２０２６／１２／０６　２０：００", t("2026-12-06T20:00")),  # full-width, as typed with an IME
    ("2026/1/2 6:00", t("2026-01-02T06:00")),
])
def test_clean_datetime_reads_japan_time(raw, expected):
    assert clean_datetime(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["2026-02-30T10:00", "2026-12-06T24:00", "2026-12-06", "𠮷", "1999-12-31T20:00"])
def test_clean_datetime_refuses_impossible_or_malformed_input(raw):
    value, error = clean_datetime(raw)
    assert value is None and error is not None
