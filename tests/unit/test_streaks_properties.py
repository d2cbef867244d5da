"""Property-based tests (hypothesis) for streak counting across closed days and boundaries.

The reference model is deliberately naive: a list of the entries of the open
days, oldest first. Whatever calendar the open days are laid on — weekends,
holidays, closures, any month or year boundary, with junk entries on closed
days — the streak and the signals must be those of the plain list.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.alerts.streaks import UNRECORDED_GRACE, Attendance, DayEntry, SignalKind, Thresholds, current_streak, evaluate
from webapp.closed_days import Calendar, Closure, FixedHolidays, InMemoryFacilityDays

pytestmark = pytest.mark.req("F-ALERT")

D = dt.date
A, P, LATE, EARLY = Attendance.ABSENT, Attendance.PRESENT, Attendance.LATE, Attendance.LEFT_EARLY
FACILITY = 1
SPAN = 420  # calendar days searched for the pattern's open days

statuses = st.sampled_from([A, A, A, A, P, LATE, EARLY, None])
entries_strategy = st.lists(st.tuples(statuses, st.booleans()), max_size=45)
starts = st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31))


@st.composite
def calendars(draw, start):
    facility_type = draw(st.sampled_from(["elementary", "nursery", "after_school", "kindergarten"]))
    in_window = st.integers(0, SPAN).map(lambda n: start + dt.timedelta(days=n))
    holidays = draw(st.lists(in_window, max_size=25))
    closures = draw(
        st.lists(st.tuples(in_window, st.integers(0, 40)).map(lambda t: Closure(t[0], t[0] + dt.timedelta(days=t[1]))), max_size=3)
    )
    openings = draw(st.lists(in_window, max_size=4))
    return Calendar(
        FixedHolidays(holidays),
        InMemoryFacilityDays({FACILITY: facility_type}, {FACILITY: closures}, {FACILITY: openings}),
    )


def lay_out(calendar, start, pattern, junk):
    """Put the pattern on the calendar's open days from ``start``; junk on the closed days between."""
    open_days = calendar.open_days(FACILITY, start, start + dt.timedelta(days=SPAN))
    assert len(open_days) >= len(pattern), "the window always has enough open days"
    days = open_days[: len(pattern)]
    entries = {}
    for day, (status, no_contact) in zip(days, pattern):
        if status is not None:
            entries[day] = DayEntry(status, no_contact)
    last = days[-1] if days else start
    for offset in range((last - start).days + 1):
        day = start + dt.timedelta(days=offset)
        if not calendar.is_open(FACILITY, day) and junk[offset % len(junk)] is not None:
            entries[day] = DayEntry(junk[offset % len(junk)], True)
    return days, entries, last


def reference_runs(days, pattern):
    """Runs of absences in the plain list: (days, no-contact days)."""
    runs, current, contact = [], [], []
    for day, (status, no_contact) in zip(days, pattern):
        if status is A:
            current.append(day)
            if no_contact:
                contact.append(day)
        else:
            if current:
                runs.append((current, contact))
            current, contact = [], []
    if current:
        runs.append((current, contact))
    return runs


def reference_streak(pattern, grace=UNRECORDED_GRACE):
    statuses = [status for status, _ in pattern]
    tail = 0
    while statuses and statuses[-1] is None:
        statuses.pop()
        tail += 1
    if tail > grace:
        return 0
    length = 0
    while statuses and statuses[-1] is A:
        statuses.pop()
        length += 1
    return length


def reference_signals(days, pattern, thresholds=Thresholds()):
    signals = set()
    for run, contact in reference_runs(days, pattern):
        if len(run) >= thresholds.warning:
            signals.add((SignalKind.CAUTION, run[0], run[thresholds.warning - 1]))
        if len(run) >= thresholds.alert:
            signals.add((SignalKind.ACTION, run[0], run[thresholds.alert - 1]))
        if contact:
            signals.add((SignalKind.NO_CONTACT, run[0], contact[0]))
    return signals


@settings(max_examples=300, deadline=None)
@given(data=st.data(), start=starts, pattern=entries_strategy, junk=st.lists(statuses, min_size=1, max_size=7))
def test_closed_days_anywhere_never_change_the_streak(data, start, pattern, junk):
    calendar = data.draw(calendars(start))
    days, entries, last = lay_out(calendar, start, pattern, junk)
    found = current_streak(entries, calendar.open_days_backwards(FACILITY, last))
    assert found.length == reference_streak(pattern)
    # Never longer than the open days in the window.
    assert found.length <= calendar.count_open_days(FACILITY, start, last)
    assert all(calendar.is_open(FACILITY, day) for day in found.days)
    assert all(entries[day].status is A for day in found.days)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    pattern=entries_strategy,
    first=st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31)),
    second=st.dates(min_value=D(2024, 12, 1), max_value=D(2024, 12, 31)),
)
def test_the_same_open_day_structure_gives_the_same_result_across_month_and_year_ends(data, pattern, first, second):
    # The second start is in December, so most patterns cross into a new year.
    calendar_one = data.draw(calendars(first))
    calendar_two = data.draw(calendars(second))
    results = []
    for calendar, start in ((calendar_one, first), (calendar_two, second)):
        days, entries, last = lay_out(calendar, start, pattern, [P])
        evaluation = evaluate(entries, calendar.open_days_backwards(FACILITY, last), last, since=start - dt.timedelta(days=1))
        index = {day: i for i, day in enumerate(days)}
        results.append(
            (
                evaluation.streak.length,
                sorted((s.kind, index[s.streak_id], index[s.day]) for s in evaluation.signals),
            )
        )
    assert results[0] == results[1]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), start=starts, before=entries_strategy, absences=st.integers(0, 12), seen=st.sampled_from([P, LATE, EARLY]))
def test_a_day_the_child_was_seen_resets_the_streak(data, start, before, absences, seen):
    calendar = data.draw(calendars(start))
    pattern = before + [(seen, False)] + [(A, False)] * absences
    days, entries, last = lay_out(calendar, start, pattern, [A])
    assert current_streak(entries, calendar.open_days_backwards(FACILITY, last)).length == absences


@settings(max_examples=150, deadline=None)
@given(data=st.data(), start=starts, pattern=entries_strategy, runs=st.lists(st.booleans(), min_size=1, max_size=60))
def test_each_signal_is_raised_exactly_once_however_the_days_are_fed(data, start, pattern, runs):
    calendar = data.draw(calendars(start))
    days, entries, last = lay_out(calendar, start, pattern, [A, None, P])
    before_start = start - dt.timedelta(days=1)

    # All at once: one evaluation at the end.
    once = evaluate(entries, calendar.open_days_backwards(FACILITY, last), last, since=before_start)
    once_signals = [(s.kind, s.streak_id, s.day) for s in once.signals]

    # Day by day, the sweep running on some calendar days only (always on the last),
    # each time seeing only the entries made up to that day.
    fed, state = [], None
    total = (last - start).days + 1
    for offset in range(total):
        as_of = start + dt.timedelta(days=offset)
        if not runs[offset % len(runs)] and as_of != last:
            continue
        visible = {day: entry for day, entry in entries.items() if day <= as_of}
        step = evaluate(visible, calendar.open_days_backwards(FACILITY, as_of), as_of, state, since=before_start)
        fed.extend((s.kind, s.streak_id, s.day) for s in step.signals)
        state = step.state

    expected = reference_signals(days, pattern)
    assert len(once_signals) == len(set(once_signals)) == len(expected)
    assert len(fed) == len(set(fed)), "a signal was raised twice"
    assert set(once_signals) == set(fed) == expected
    # Evaluating again with nothing new raises nothing.
    again = evaluate(entries, calendar.open_days_backwards(FACILITY, last), last, once.state)
    assert again.signals == ()


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    start=starts,
    pattern=entries_strategy,
    lags=st.lists(st.integers(0, 9), min_size=1, max_size=30),
    in_order=st.booleans(),
)
def test_entries_made_late_raise_each_signal_once_per_streak(data, start, pattern, lags, in_order):
    """Each day's entry is made some days late; the nightly sweep names the earliest changed day.

    In order (a facility catching up a week at once), every run raises each
    signal exactly once. Out of order, an unknown day can split a run in two
    for a while; both halves are real streaks then and may each raise, so
    there every run raises each signal at least once and nothing twice under
    one id.
    """
    calendar = data.draw(calendars(start))
    days, entries, last = lay_out(calendar, start, pattern, [None])
    made_on, latest = {}, start
    for i, day in enumerate(sorted(entries)):
        made_on[day] = day + dt.timedelta(days=lags[i % len(lags)])
        if in_order:
            latest = made_on[day] = max(latest, made_on[day])
    end = last + dt.timedelta(days=max(lags))
    raised, state, seen = [], None, set()
    for offset in range((end - start).days + 1):
        as_of = start + dt.timedelta(days=offset)
        visible = {day: entry for day, entry in entries.items() if made_on[day] <= as_of}
        new = [day for day in visible if day not in seen]
        seen.update(new)
        step = evaluate(
            visible,
            calendar.open_days_backwards(FACILITY, as_of),
            as_of,
            state,
            since=start - dt.timedelta(days=1),
            changed_from=min(new, default=None),
        )
        raised.extend(step.signals)
        state = step.state

    assert len({(s.kind, s.streak_id) for s in raised}) == len(raised), "raised twice under one id"
    thresholds = Thresholds()
    for run, contact in reference_runs(days, pattern):
        in_run = [s for s in raised if run[0] <= s.streak_id <= run[-1]]
        expected = {
            SignalKind.CAUTION: len(run) >= thresholds.warning,
            SignalKind.ACTION: len(run) >= thresholds.alert,
            SignalKind.NO_CONTACT: bool(contact),
        }
        for kind, wanted in expected.items():
            count = sum(s.kind is kind for s in in_run)
            if in_order or not wanted:
                assert count == wanted, (kind, run)
            else:
                assert count >= 1, (kind, run)
    # Once everything is in, evaluating again raises nothing.
    again = evaluate(entries, calendar.open_days_backwards(FACILITY, end), end, state, changed_from=start)
    assert again.signals == ()
