"""The demo's daily attendance: weeks of entries on open days only, and the two absence streaks (F-DAILY)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
import sqlalchemy as sa

from tests.factories import TEST_PASSWORDS
from webapp import demo
from webapp.clock import JST
from webapp.attendance.models import AttendanceEntry
from webapp.closed_days import Calendar, InMemoryFacilityDays, JapaneseHolidays
from webapp.organisations.models import Facility


@pytest.mark.date_sensitive
@pytest.mark.req("F-DAILY")
def test_demo_has_weeks_of_entries_and_a_4_and_an_8_day_streak(db, now):
    demo.load(db, scale="small", seed=7, now=now, password_hash=TEST_PASSWORDS.hash(demo.DEMO_PASSWORD))
    db.flush()
    entries = db.scalars(sa.select(AttendanceEntry)).all()
    assert len(entries) > 100
    facilities = {f.id: f for f in db.scalars(sa.select(Facility))}
    calendar = Calendar(JapaneseHolidays(),
                        InMemoryFacilityDays({fid: str(f.facility_type) for fid, f in facilities.items()}))
    today = now.astimezone(JST).date()
    assert all(calendar.is_open(e.facility_id, e.day) and e.day < today for e in entries)
    assert min(e.day for e in entries) >= today - dt.timedelta(weeks=3)

    by_child = defaultdict(dict)
    for e in entries:
        by_child[e.child_id][e.day] = e.status
    streaks = []
    for child_id, days in by_child.items():
        facility_id = next(e.facility_id for e in entries if e.child_id == child_id)
        run = 0
        for day in calendar.open_days_backwards(facility_id, today - dt.timedelta(days=1)):
            if days.get(day) != "absent":
                break
            run += 1
        streaks.append(run)
    assert 4 in streaks and 8 in streaks
