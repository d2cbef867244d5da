"""Demo data for daily attendance (F-DAILY): three weeks of entries at the first few facilities.

Most children are present on most open days, with a sprinkling of 遅刻, 早退
and one-day absences. Three children of the showcase facility carry the
stories the alerts need, each streak running up to yesterday: 4 days (注意
at 3), 8 days starting with a day without word from home (要対応 at 7, with
連絡なし), and 9 days, whose alert ``demo_alerts`` writes with its history
(acknowledged at 注意, escalated to 要対応, acknowledged again). The sweep
raises the rest. Closed days (weekends, holidays) are skipped with the real
calendar, exactly as a facility would leave them.
"""

from __future__ import annotations

import datetime as dt
import random

from webapp.attendance.models import AbsenceReason, AttendanceEntry
from webapp.closed_days import Calendar, InMemoryFacilityDays, JapaneseHolidays
from webapp.clock import JST

WEEKS = 3
FACILITIES = 3  # the showcase and the next two
STREAKS = (4, 8, 9)  # open days of absence up to yesterday, one child each
NO_CONTACT_STREAK = 8  # its first day has no word from home


def generate(ids, rng: random.Random, now: dt.datetime, children: list[dict], facilities: list[dict],
             facility_accounts: dict[int, int]) -> dict[int, list[dt.date]]:
    """Write the entries; the absence streaks made, as child id -> the streak's open days."""
    today = now.astimezone(JST).date()
    first = today - dt.timedelta(weeks=WEEKS)
    chosen = [f for f in facilities[:FACILITIES] if f["id"] in facility_accounts]
    calendar = Calendar(JapaneseHolidays(), InMemoryFacilityDays({f["id"]: str(f["facility_type"]) for f in chosen}))
    rows = []
    streaks: dict[int, list[dt.date]] = {}
    for facility in chosen:
        watched = [c for c in children if c["facility_id"] == facility["id"]]
        # Entries stop at yesterday: today's are still to be entered in the demo.
        days = calendar.open_days(facility["id"], first, today - dt.timedelta(days=1))
        streak_children = {}
        # The open day before a streak is a day present: a random absence there
        # would make the streak one day longer than STREAKS says (on some dates).
        streak_starts = {}
        silent_starts = {}  # child id -> the streak's first day, absent with no word from home
        if facility is chosen[0]:
            steady = [c for c in watched if c["monitoring_start"] <= first and c["monitoring_end"] is None]
            # Past the first three children, whom the urgent-report demo already tells stories about.
            for child, length in zip(steady[3:], STREAKS):
                streak_children[child["id"]] = set(days[-length:])
                streak_starts[child["id"]] = days[-length - 1] if len(days) > length else None
                streaks[child["id"]] = days[-length:]
                if length == NO_CONTACT_STREAK:
                    silent_starts[child["id"]] = days[-length]
        for child in watched:
            for day in days:
                if day < child["monitoring_start"] or (child["monitoring_end"] and day > child["monitoring_end"]):
                    continue
                row = _entry(rng, child, facility, day, facility_accounts[facility["id"]], now,
                             day in streak_children.get(child["id"], ()),
                             present=day == streak_starts.get(child["id"]))
                if day == silent_starts.get(child["id"]):
                    row["no_contact"] = True
                rows.append(row)
    if rows:
        ids.insert(AttendanceEntry, rows)
    return streaks


def _entry(rng, child, facility, day, recorder, now, in_streak: bool, present: bool = False) -> dict:
    recorded = dt.datetime.combine(day, dt.time(9, 30), JST).astimezone(dt.UTC)
    values = {"status": "present", "absence_reason": None, "no_contact": False, "note": None}
    if in_streak:
        # The first day of a streak often comes with no word from home at all.
        values.update(status="absent", absence_reason=AbsenceReason.UNKNOWN.value,
                      no_contact=rng.random() < 0.3, note=rng.choice([None, "電話連絡つかず"]))
    else:
        roll = rng.random()
        if roll < 0.04:
            values.update(status="absent", absence_reason=rng.choice(
                [AbsenceReason.ILLNESS.value, AbsenceReason.ILLNESS.value, AbsenceReason.FAMILY.value]),
                note=rng.choice([None, "発熱のため", "通院"]))
        elif roll < 0.07:
            values.update(status="late", note=rng.choice([None, "寝坊", "通院後に登校"]))
        elif roll < 0.08:
            values.update(status="left_early", note="体調不良")
        if present:
            # Rolled all the same, so every other entry stays as it was.
            values = {"status": "present", "absence_reason": None, "no_contact": False, "note": None}
    return {"child_id": child["id"], "facility_id": facility["id"], "day": day, "version": 1,
            "recorded_by_id": recorder, "recorded_at": min(recorded, now), "created_at": min(recorded, now),
            "updated_at": min(recorded, now), **values}
