"""Absence streaks with real dates: holidays, year ends, breaks, nurseries' Saturdays, signals once."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.alerts.streaks import (
    AlertState,
    Attendance,
    DayEntry,
    Level,
    RaisedStreak,
    SignalKind,
    Thresholds,
    current_streak,
    evaluate,
)
from webapp.closed_days import Calendar, Closure, FixedHolidays, InMemoryFacilityDays

pytestmark = pytest.mark.req("F-ALERT")

D = dt.date
A, P = Attendance.ABSENT, Attendance.PRESENT
SCHOOL, NURSERY = 1, 2
GOLDEN_WEEK_2026 = [D(2026, 4, 29), D(2026, 5, 3), D(2026, 5, 4), D(2026, 5, 5), D(2026, 5, 6)]
SUMMER = Closure(D(2026, 7, 21), D(2026, 8, 31), "夏休み")


@pytest.fixture
def calendar():
    return Calendar(
        FixedHolidays(GOLDEN_WEEK_2026 + [D(2027, 1, 11)]),
        InMemoryFacilityDays({SCHOOL: "elementary", NURSERY: "nursery"}, {SCHOOL: [SUMMER]}),
    )


def streak(calendar, entries, as_of, facility=SCHOOL, **kwargs):
    return current_streak(entries, calendar.open_days_backwards(facility, as_of), **kwargs)


def run(calendar, entries, as_of, previous=None, facility=SCHOOL, **kwargs):
    return evaluate(entries, calendar.open_days_backwards(facility, as_of), as_of, previous, **kwargs)


def absent(*days):
    return {day: A for day in days}


def test_a_streak_runs_through_golden_week_and_raises_a_warning_on_its_third_open_day(calendar):
    entries = absent(D(2026, 4, 27), D(2026, 4, 28), D(2026, 4, 30), D(2026, 5, 1), D(2026, 5, 7))
    found = streak(calendar, entries, D(2026, 5, 7))
    assert found.length == 5
    assert found.id == D(2026, 4, 27)
    result = run(calendar, entries, D(2026, 5, 7))
    assert [(s.kind, s.day) for s in result.signals] == [(SignalKind.CAUTION, D(2026, 4, 30))]
    assert result.state == AlertState((RaisedStreak(D(2026, 4, 27), D(2026, 5, 7), Level.CAUTION),), D(2026, 5, 7))
    assert (result.state.streak_id, result.state.level, result.state.no_contact) == (D(2026, 4, 27), Level.CAUTION, False)


def test_the_seventh_open_day_raises_the_alert_once_and_the_warning_is_not_repeated(calendar):
    entries = absent(D(2026, 4, 27), D(2026, 4, 28), D(2026, 4, 30), D(2026, 5, 1), D(2026, 5, 7), D(2026, 5, 8))
    first = run(calendar, entries, D(2026, 5, 8))
    assert [s.kind for s in first.signals] == [SignalKind.CAUTION]
    entries[D(2026, 5, 11)] = A
    second = run(calendar, entries, D(2026, 5, 11), first.state)
    assert [(s.kind, s.day, s.length) for s in second.signals] == [(SignalKind.ACTION, D(2026, 5, 11), 7)]
    third = run(calendar, entries, D(2026, 5, 12), second.state)
    assert third.signals == ()
    assert third.streak.length == 7


def test_a_streak_crosses_the_year_end_and_a_january_holiday(calendar):
    entries = absent(D(2026, 12, 24), D(2026, 12, 25), D(2026, 12, 28), D(2027, 1, 4), D(2027, 1, 8), D(2027, 1, 12))
    entries.update(absent(D(2027, 1, 5), D(2027, 1, 6), D(2027, 1, 7)))
    found = streak(calendar, entries, D(2027, 1, 12))
    assert found.length == 9
    assert found.id == D(2026, 12, 24)
    result = run(calendar, entries, D(2027, 1, 12))
    assert [(s.kind, s.day) for s in result.signals] == [
        (SignalKind.CAUTION, D(2026, 12, 28)),
        (SignalKind.ACTION, D(2027, 1, 7)),  # 3 in December, 4 in January
    ]


def test_the_summer_break_is_skipped(calendar):
    entries = absent(D(2026, 7, 16), D(2026, 7, 17), D(2026, 7, 20), D(2026, 9, 1))
    # Entries during the break (a summer school day entered by mistake) are ignored.
    entries[D(2026, 8, 3)] = P
    assert streak(calendar, entries, D(2026, 9, 1)).days == (D(2026, 7, 16), D(2026, 7, 17), D(2026, 7, 20), D(2026, 9, 1))


def test_a_saturday_counts_at_a_nursery_but_not_at_a_school(calendar):
    friday, saturday, monday = D(2026, 11, 27), D(2026, 11, 28), D(2026, 11, 30)
    entries = absent(D(2026, 11, 26), friday, monday)
    assert streak(calendar, entries, monday, SCHOOL).length == 3
    # At the nursery Saturday is open: no entry there ends the run.
    assert streak(calendar, entries, monday, NURSERY).length == 1
    entries[saturday] = A
    assert streak(calendar, entries, monday, NURSERY).length == 4
    entries[saturday] = P
    assert streak(calendar, entries, monday, NURSERY).length == 1
    assert streak(calendar, entries, monday, SCHOOL).length == 3


def test_a_saturday_class_at_a_school_counts_like_any_open_day():
    friday, saturday_class, tuesday = D(2026, 11, 20), D(2026, 11, 21), D(2026, 11, 24)
    # Monday 11/23 is a holiday.
    calendar = Calendar(FixedHolidays([D(2026, 11, 23)]), InMemoryFacilityDays({SCHOOL: "elementary"}, {}, {SCHOOL: [saturday_class]}))
    entries = absent(friday, tuesday)
    entries[saturday_class] = P
    assert streak(calendar, entries, tuesday).length == 1
    entries[saturday_class] = A
    assert streak(calendar, entries, tuesday).days == (friday, saturday_class, tuesday)


def test_a_streak_carries_over_a_transfer_and_counts_each_facilitys_open_days(calendar):
    # Nursery until Saturday 11/21 (open there), the school from Monday 11/23.
    placements = [(NURSERY, D(2026, 4, 1)), (SCHOOL, D(2026, 11, 23))]
    entries = absent(D(2026, 11, 20), D(2026, 11, 21), D(2026, 11, 23), D(2026, 11, 24))
    found = current_streak(entries, calendar.open_days_backwards_placed(placements, D(2026, 11, 24)))
    assert found.days == (D(2026, 11, 20), D(2026, 11, 21), D(2026, 11, 23), D(2026, 11, 24))
    # Nothing before the first placement is read: a child with no entries ends the walk there.
    assert current_streak({}, calendar.open_days_backwards_placed(placements, D(2026, 11, 24)), grace=10_000).length == 0


@pytest.mark.parametrize("seen", [Attendance.PRESENT, Attendance.LATE, Attendance.LEFT_EARLY])
def test_a_day_the_child_was_seen_ends_the_streak(calendar, seen):
    entries = absent(D(2026, 11, 16), D(2026, 11, 17), D(2026, 11, 19), D(2026, 11, 20))
    entries[D(2026, 11, 18)] = seen
    assert streak(calendar, entries, D(2026, 11, 20)).days == (D(2026, 11, 19), D(2026, 11, 20))


def test_a_day_without_an_entry_is_unknown_not_absent(calendar):
    entries = absent(D(2026, 11, 16), D(2026, 11, 17), D(2026, 11, 19), D(2026, 11, 20))
    assert streak(calendar, entries, D(2026, 11, 20)).length == 2
    assert run(calendar, entries, D(2026, 11, 20)).signals == ()


def test_unentered_recent_days_keep_the_streak_current_within_the_grace(calendar):
    entries = absent(D(2026, 11, 16), D(2026, 11, 17), D(2026, 11, 18))
    found = streak(calendar, entries, D(2026, 11, 20))
    assert (found.length, found.unrecorded_open_days) == (3, 2)
    assert streak(calendar, entries, D(2026, 11, 20), grace=1).length == 0
    assert streak(calendar, {}, D(2026, 11, 20)).length == 0


def test_the_reason_does_not_matter_but_no_contact_raises_its_own_signal_once_per_streak(calendar):
    entries = {D(2026, 11, 16): DayEntry(A), D(2026, 11, 17): DayEntry(A, no_contact=True)}
    first = run(calendar, entries, D(2026, 11, 17))
    assert [(s.kind, s.day) for s in first.signals] == [(SignalKind.NO_CONTACT, D(2026, 11, 17))]
    entries[D(2026, 11, 18)] = DayEntry(A, no_contact=True)
    second = run(calendar, entries, D(2026, 11, 18), first.state)
    assert [s.kind for s in second.signals] == [SignalKind.CAUTION]
    # The child is back, then absent again without contact: a new streak, a new signal.
    entries[D(2026, 11, 19)] = DayEntry(P)
    entries[D(2026, 11, 20)] = DayEntry(A, no_contact=True)
    third = run(calendar, entries, D(2026, 11, 20), second.state)
    assert [(s.kind, s.streak_id) for s in third.signals] == [(SignalKind.NO_CONTACT, D(2026, 11, 20))]


def test_a_streak_entered_after_the_child_came_back_still_raises(calendar):
    before = run(calendar, {}, D(2026, 11, 13))
    entries = absent(D(2026, 11, 16), D(2026, 11, 17), D(2026, 11, 18))
    entries[D(2026, 11, 19)] = P
    later = run(calendar, entries, D(2026, 11, 20), before.state)
    assert later.streak.length == 0
    assert [(s.kind, s.streak_id) for s in later.signals] == [(SignalKind.CAUTION, D(2026, 11, 16))]
    assert run(calendar, entries, D(2026, 11, 23), later.state).signals == ()


def test_a_correction_that_lengthens_a_raised_streak_backwards_does_not_raise_it_again(calendar):
    entries = absent(D(2026, 11, 17), D(2026, 11, 18), D(2026, 11, 19))
    first = run(calendar, entries, D(2026, 11, 19))
    assert [s.kind for s in first.signals] == [SignalKind.CAUTION]
    entries[D(2026, 11, 16)] = A  # entered late: the streak now starts a day earlier
    second = run(calendar, entries, D(2026, 11, 19), first.state)
    assert second.signals == ()
    assert second.state.streak_id == D(2026, 11, 16)


def test_a_week_entered_late_is_counted_when_the_sweep_names_the_earliest_changed_day(calendar):
    # Sweeps ran every evening; the facility entered Mon-Wed absent and Thu present only on Friday.
    thursday = run(calendar, {}, D(2026, 11, 19))
    entries = absent(D(2026, 11, 16), D(2026, 11, 17), D(2026, 11, 18))
    entries[D(2026, 11, 19)] = P
    entries[D(2026, 11, 20)] = P
    # Looking back only to the previous sweep misses the run that ended before it...
    assert run(calendar, entries, D(2026, 11, 20), thursday.state).signals == ()
    # ...the earliest changed day brings it in.
    friday = run(calendar, entries, D(2026, 11, 20), thursday.state, changed_from=D(2026, 11, 16))
    assert [(s.kind, s.streak_id) for s in friday.signals] == [(SignalKind.CAUTION, D(2026, 11, 16))]


def test_a_rescan_over_older_raised_streaks_raises_none_of_them_again(calendar):
    entries = absent(D(2026, 11, 2), D(2026, 11, 4), D(2026, 11, 5), D(2026, 11, 6))
    entries[D(2026, 11, 2)] = DayEntry(A, no_contact=True)
    entries[D(2026, 11, 3)] = P
    first = run(calendar, entries, D(2026, 11, 6), since=D(2026, 11, 1))
    assert [(s.kind, s.streak_id) for s in first.signals] == [
        (SignalKind.NO_CONTACT, D(2026, 11, 2)),
        (SignalKind.CAUTION, D(2026, 11, 4)),
    ]
    entries.update(absent(D(2026, 11, 10), D(2026, 11, 11), D(2026, 11, 12)))
    second = run(calendar, entries, D(2026, 11, 12), first.state)
    assert [(s.kind, s.streak_id) for s in second.signals] == [(SignalKind.CAUTION, D(2026, 11, 10))]
    # A correction on 11/9 makes the sweep walk back over all three streaks.
    entries[D(2026, 11, 9)] = P
    third = run(calendar, entries, D(2026, 11, 13), second.state, changed_from=D(2026, 11, 2))
    assert third.signals == ()
    assert [r.streak_id for r in third.state.raised] == [D(2026, 11, 2), D(2026, 11, 4), D(2026, 11, 10)]


def test_thresholds_come_from_settings_and_must_be_ordered():
    assert Thresholds.from_settings({}) == Thresholds(3, 7)
    custom = Thresholds.from_settings({"mimamori.absence_warning_days": "2", "mimamori.absence_alert_days": "5"})
    assert (custom.level_for(1), custom.level_for(2), custom.level_for(5)) == (Level.NONE, Level.CAUTION, Level.ACTION)
    with pytest.raises(ValueError):
        Thresholds(8, 7)
    with pytest.raises(ValueError):
        Thresholds(0, 7)


def test_custom_thresholds_change_when_signals_fire(calendar):
    entries = absent(D(2026, 11, 16), D(2026, 11, 17))
    result = run(calendar, entries, D(2026, 11, 17), thresholds=Thresholds(2, 2))
    assert [s.kind for s in result.signals] == [SignalKind.CAUTION, SignalKind.ACTION]
