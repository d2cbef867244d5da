"""The closed-day calendar with the fake holiday source: weekly patterns, 年末年始, closures, ranges."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyramid.config import Configurator

from webapp.closed_days import Calendar, Closure, FixedHolidays, InMemoryFacilityDays, calendar_for
from webapp.closed_days import includeme as calendar_includeme
from webapp.closed_days.services import SAT, SUN, parse_weekly_setting
from webapp.closed_days.sources import JapaneseHolidays, parse_holiday_setting

pytestmark = pytest.mark.req("F-DAILY")

D = dt.date
SCHOOL, NURSERY, CLUB, KINDER = 1, 2, 3, 4
TYPES = {SCHOOL: "elementary", NURSERY: "nursery", CLUB: "after_school", KINDER: "kindergarten"}


def make_calendar(holidays=(), closures=None, weekly=None, openings=None):
    return Calendar(FixedHolidays(holidays), InMemoryFacilityDays(TYPES, closures or {}, openings), weekly)


def test_a_saturday_is_open_at_a_nursery_and_a_club_but_closed_at_a_school():
    calendar = make_calendar()
    saturday = D(2026, 11, 28)
    assert saturday.weekday() == SAT
    assert calendar.is_open(NURSERY, saturday)
    assert calendar.is_open(CLUB, saturday)
    assert not calendar.is_open(SCHOOL, saturday)
    assert not calendar.is_open(KINDER, saturday)
    sunday = D(2026, 11, 29)
    assert not any(calendar.is_open(f, sunday) for f in TYPES)
    assert all(calendar.is_open(f, D(2026, 11, 27)) for f in TYPES)


def test_a_holiday_from_the_source_closes_every_facility_type():
    calendar = make_calendar(holidays=[D(2026, 11, 23)])
    assert not any(calendar.is_open(f, D(2026, 11, 23)) for f in TYPES)
    assert all(calendar.is_open(f, D(2026, 11, 24)) for f in TYPES)


def test_the_year_end_break_closes_every_facility_from_dec_29_to_jan_3():
    calendar = make_calendar()
    days = calendar.open_days(NURSERY, D(2026, 12, 26), D(2027, 1, 5))
    assert days == [D(2026, 12, 26), D(2026, 12, 28), D(2027, 1, 4), D(2027, 1, 5)]


def test_a_summer_closure_is_closed_inclusive_of_both_ends_and_only_for_its_facility():
    summer = Closure(D(2026, 7, 21), D(2026, 8, 31), "夏休み")
    calendar = make_calendar(closures={SCHOOL: [summer]})
    assert calendar.is_open(SCHOOL, D(2026, 7, 20))
    assert not calendar.is_open(SCHOOL, D(2026, 7, 21))
    assert not calendar.is_open(SCHOOL, D(2026, 8, 31))
    assert calendar.is_open(SCHOOL, D(2026, 9, 1))
    # The after-school club stays open during the school's break.
    assert calendar.is_open(CLUB, D(2026, 8, 3))
    assert calendar.open_days(SCHOOL, D(2026, 7, 17), D(2026, 9, 2)) == [
        D(2026, 7, 17), D(2026, 7, 20), D(2026, 9, 1), D(2026, 9, 2)
    ]


def test_overlapping_and_touching_closures_merge():
    closures = [Closure(D(2026, 3, 25), D(2026, 4, 5)), Closure(D(2026, 4, 6), D(2026, 4, 7)), Closure(D(2026, 3, 20), D(2026, 3, 30))]
    calendar = make_calendar(closures={SCHOOL: closures})
    assert calendar.open_days(SCHOOL, D(2026, 3, 16), D(2026, 4, 10)) == [
        D(2026, 3, 16), D(2026, 3, 17), D(2026, 3, 18), D(2026, 3, 19), D(2026, 4, 8), D(2026, 4, 9), D(2026, 4, 10)
    ]


def test_an_extra_open_day_opens_a_saturday_a_holiday_or_a_day_in_a_break():
    saturday_class, holiday, in_break, ordinary = D(2026, 11, 21), D(2026, 11, 23), D(2026, 8, 4), D(2026, 11, 24)
    calendar = make_calendar(
        holidays=[holiday],
        closures={SCHOOL: [Closure(D(2026, 7, 21), D(2026, 8, 31), "夏休み")]},
        openings={SCHOOL: [saturday_class, holiday, in_break, ordinary]},
    )
    assert all(calendar.is_open(SCHOOL, day) for day in (saturday_class, holiday, in_break, ordinary))
    assert not calendar.is_open(KINDER, saturday_class), "only for its own facility"
    assert calendar.open_days(SCHOOL, D(2026, 11, 20), D(2026, 11, 24)) == [D(2026, 11, 20), saturday_class, holiday, ordinary]
    assert calendar.open_days(SCHOOL, D(2026, 8, 1), D(2026, 8, 31)) == [in_break]
    walk = calendar.open_days_backwards(SCHOOL, D(2026, 11, 24))
    assert list(itertools.islice(walk, 5)) == [ordinary, holiday, saturday_class, D(2026, 11, 20), D(2026, 11, 19)]


def test_a_closure_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="before it starts"):
        Closure(D(2026, 8, 31), D(2026, 7, 21))


def test_an_unknown_facility_is_an_error_not_an_open_day():
    with pytest.raises(KeyError):
        make_calendar().is_open(999, D(2026, 11, 27))


def test_an_unknown_facility_type_falls_back_to_saturday_and_sunday():
    calendar = Calendar(FixedHolidays(), InMemoryFacilityDays({7: "something_new"}))
    assert not calendar.is_open(7, D(2026, 11, 28))
    assert calendar.is_open(7, D(2026, 11, 27))


def test_the_weekly_setting_overrides_one_type_and_keeps_the_rest():
    weekly = parse_weekly_setting("nursery=sat,sun after_school=")
    assert weekly["nursery"] == {SAT, SUN}
    assert weekly["after_school"] == frozenset()
    assert weekly["elementary"] == {SAT, SUN}
    calendar = make_calendar(weekly=weekly)
    assert not calendar.is_open(NURSERY, D(2026, 11, 28))
    assert calendar.is_open(CLUB, D(2026, 11, 29))


@pytest.mark.parametrize("bad", ["nursery", "nursery=saturday", "=sun"])
def test_a_bad_weekly_setting_names_the_problem(bad):
    with pytest.raises(ValueError, match="closed_weekdays"):
        parse_weekly_setting(bad)


def test_the_holiday_setting_chooses_the_real_or_the_fake_source():
    assert isinstance(parse_holiday_setting("japan"), JapaneseHolidays)
    fake = parse_holiday_setting("fixed:2026-05-06, 2027-01-01")
    assert fake.holidays_in(2026) == {D(2026, 5, 6)}
    assert fake.holidays_in(2027) == {D(2027, 1, 1)}
    assert parse_holiday_setting("none").holidays_in(2026) == frozenset()
    with pytest.raises(ValueError, match="not a date"):
        parse_holiday_setting("fixed:2026-13-01")
    with pytest.raises(ValueError, match="japan"):
        parse_holiday_setting("jp")


def test_includeme_registers_the_source_chosen_by_settings():
    config = Configurator(settings={"mimamori.holidays": "fixed:2026-11-27", "mimamori.closed_weekdays": "elementary=sun"})
    calendar_includeme(config)
    calendar = calendar_for(config.registry, InMemoryFacilityDays(TYPES))
    assert not calendar.is_open(SCHOOL, D(2026, 11, 27))
    assert calendar.is_open(SCHOOL, D(2026, 11, 28))


def test_backwards_walk_crosses_year_ends_and_closures_lazily():
    calendar = make_calendar(holidays=[D(2026, 1, 12)], closures={SCHOOL: [Closure(D(2026, 1, 6), D(2026, 1, 8))]})
    walk = calendar.open_days_backwards(SCHOOL, D(2026, 1, 13))
    assert list(itertools.islice(walk, 5)) == [D(2026, 1, 13), D(2026, 1, 9), D(2026, 1, 5), D(2025, 12, 26), D(2025, 12, 25)]


def test_a_walk_across_a_transfer_uses_each_facilitys_days_and_ends_at_the_first_placement():
    calendar = make_calendar()
    # At the nursery until Friday 11/20, at the school from Monday 11/23 (no holiday in the fake).
    placements = [(SCHOOL, D(2026, 11, 23)), (NURSERY, D(2026, 11, 10))]
    walk = list(calendar.open_days_backwards_placed(placements, D(2026, 11, 24)))
    assert walk[:5] == [D(2026, 11, 24), D(2026, 11, 23), D(2026, 11, 21), D(2026, 11, 20), D(2026, 11, 19)]
    assert walk[-1] == D(2026, 11, 10)
    assert D(2026, 11, 14) in walk, "a Saturday at the nursery"
    assert len(walk) == 2 + 11  # two school days, 11/10-11/21 at the nursery less one Sunday
    # A placement that starts after the evaluation day is ignored.
    assert list(calendar.open_days_backwards_placed([(SCHOOL, D(2026, 12, 1))], D(2026, 11, 24))) == []


def test_forget_rereads_a_facilitys_closures():
    closures = {SCHOOL: []}
    calendar = make_calendar(closures=closures)
    assert calendar.is_open(SCHOOL, D(2026, 10, 1))
    calendar.facilities._closures[SCHOOL] = (Closure(D(2026, 10, 1), D(2026, 10, 1), "開校記念日"),)
    assert calendar.is_open(SCHOOL, D(2026, 10, 1)), "cached until forgotten"
    calendar.forget(SCHOOL)
    assert not calendar.is_open(SCHOOL, D(2026, 10, 1))


days = st.dates(min_value=D(2023, 1, 1), max_value=D(2028, 12, 31))
closures_strategy = st.lists(
    st.tuples(days, st.integers(0, 60)).map(lambda t: Closure(t[0], t[0] + dt.timedelta(days=t[1]))), max_size=6
)


@settings(max_examples=150, deadline=None)
@given(
    holidays=st.lists(days, max_size=30),
    closures=closures_strategy,
    openings=st.lists(days, max_size=8),
    facility=st.sampled_from(sorted(TYPES)),
    start=days,
    length=st.integers(0, 800),
)
def test_range_queries_agree_with_day_by_day_checks(holidays, closures, openings, facility, start, length):
    calendar = make_calendar(holidays=holidays, closures={facility: closures}, openings={facility: openings})
    end = start + dt.timedelta(days=length)
    expected = [start + dt.timedelta(days=i) for i in range(length + 1)]
    expected = [day for day in expected if calendar.is_open(facility, day)]
    assert calendar.open_days(facility, start, end) == expected
    assert calendar.count_open_days(facility, start, end) == len(expected)
    # The same rules, stated once more from scratch.
    closed_weekdays = {"elementary": {5, 6}, "kindergarten": {5, 6}}.get(TYPES[facility], {6})
    for day in expected:
        if day in openings:
            continue
        assert day.weekday() not in closed_weekdays
        assert day not in holidays
        assert not any(c.start <= day <= c.end for c in closures)
        assert (day.month, day.day) not in {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}
    assert all(calendar.is_open(facility, day) for day in openings)
    backwards = list(itertools.takewhile(lambda d: d >= start, calendar.open_days_backwards(facility, end)))
    assert backwards == expected[::-1]
