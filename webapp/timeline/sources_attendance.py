"""Timeline and calendar source: daily attendance (F-DAILY).

One query for the month's entries and one for their superseded versions.
The timeline shows what a caseworker must notice — absences (連絡なし欠席
marked), lates, early leaves, and every correction — not the ordinary 出席
days; the calendar and the month's summary show every day.

Facility staff get only the entries their facility recorded; days another
facility recorded are passed on as bare dates (``elsewhere``), shown as 対象外
without their content.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from webapp.attendance.models import (
    ABSENCE_REASON_LABELS,
    ATTENDANCE_LABELS,
    AbsenceReason,
    AttendanceEntry,
    AttendanceEntryVersion,
)
from webapp.attendance.status import Attendance
from webapp.i18n import _
from webapp.timeline.items import Kind, TimelineItem, Window, day_start
from webapp.timeline.month_grid import DayEntry
from webapp.timeline.viewer import Viewer


@dataclasses.dataclass(frozen=True)
class MonthAttendance:
    """The month's entries the viewer may see, the days recorded elsewhere, and superseded versions."""

    entries: tuple[AttendanceEntry, ...]
    elsewhere: frozenset[dt.date]
    versions: tuple[AttendanceEntryVersion, ...]

    def day_entries(self) -> dict[dt.date, DayEntry]:
        return {
            entry.day: DayEntry(Attendance(entry.status), entry.no_contact, entry.reason_label)
            for entry in self.entries
        }

    def facility_by_day(self) -> dict[dt.date, int]:
        return {entry.day: entry.facility_id for entry in self.entries}


def load_attendance(db, viewer: Viewer, child_id: int, window: Window) -> MonthAttendance:
    """The caller has checked the child is in the viewer's scope (``Scope.get_child``)."""
    entries, elsewhere = [], set()
    stmt = (
        sa.select(AttendanceEntry)
        .where(AttendanceEntry.child_id == child_id,
               AttendanceEntry.day >= window.first, AttendanceEntry.day <= window.last)
        .order_by(AttendanceEntry.day)
    )
    for entry in db.scalars(stmt):
        if viewer.facility_id is None or entry.facility_id == viewer.facility_id:
            entries.append(entry)
        else:
            elsewhere.add(entry.day)
    versions_stmt = (
        sa.select(AttendanceEntryVersion)
        .where(AttendanceEntryVersion.child_id == child_id,
               AttendanceEntryVersion.day >= window.first, AttendanceEntryVersion.day <= window.last)
        .order_by(AttendanceEntryVersion.entry_id, AttendanceEntryVersion.version)
    )
    if viewer.facility_id is not None:
        versions_stmt = versions_stmt.where(AttendanceEntryVersion.facility_id == viewer.facility_id)
    return MonthAttendance(tuple(entries), frozenset(elsewhere), tuple(db.scalars(versions_stmt)))


def describe(content) -> str:
    """``欠席（病気・けが・連絡なし）``: an entry or version in a few words."""
    label = ATTENDANCE_LABELS[Attendance(content.status)]
    extras = []
    if content.absence_reason:
        extras.append(ABSENCE_REASON_LABELS[AbsenceReason(content.absence_reason)])
    if content.no_contact:
        extras.append("連絡なし")
    return f"{label}（{'・'.join(extras)}）" if extras else label


def _day_label(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def attendance_items(month: MonthAttendance) -> list[TimelineItem]:
    """Absences, lates and early leaves, one item per day; 出席 days are left to the calendar."""
    items = []
    for entry in month.entries:
        if Attendance(entry.status) == Attendance.PRESENT:
            continue
        # The title is the entry in the facility's words (欠席（病気・けが・連絡なし）); the kind says 出欠.
        items.append(TimelineItem(when=day_start(entry.day), kind=Kind.ATTENDANCE, title=describe(entry),
                                  detail=entry.note, all_day=True, seq=entry.id))
    return items


def correction_items(month: MonthAttendance) -> list[TimelineItem]:
    """Each correction as "before → after", at the time it was made.

    A correction from 欠席 to 出席 is exactly what a caseworker must be able
    to see, so corrections are listed even when the day is now 出席.
    """
    current = {entry.id: entry for entry in month.entries}
    by_entry: dict[int, list] = {}
    for version in month.versions:
        by_entry.setdefault(version.entry_id, []).append(version)
    items = []
    for entry_id, versions in by_entry.items():
        entry = current.get(entry_id)
        chain = versions + ([entry] if entry is not None else [])
        for before, after in zip(chain, chain[1:], strict=False):
            if after.facility_id != before.facility_id:
                continue  # not a correction of one facility's entry; never seen across facilities
            items.append(TimelineItem(
                when=after.recorded_at, kind=Kind.CORRECTION,
                title=_("${day}の出欠を訂正: ${before} → ${after}",
                        mapping={"day": _day_label(before.day),
                                 "before": describe(before), "after": describe(after)}),
                detail=after.note, seq=after.version,
            ))
    return items
