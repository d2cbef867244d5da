"""A monthly report's counts computed from the daily attendance (issue #18, F-MONTHLY/F-DAILY).

"The facility records daily" is decided per child and month, with no setting:
the child has at least one ``AttendanceEntry`` at the report's facility in the
month. Then the report form starts with the computed counts (only when no draft
exists: a saved draft is never overwritten), and report pages show where the
submitted numbers differ from the daily record. Without entries nothing
changes: the empty form, no note. The note compares with the daily record as
it is when the page is rendered (nothing is stored): a later correction of a
daily entry shows up on an already submitted report.

The computation, over the facility's open days (closed-day calendar) that fall
inside the child's monitoring period within the month:

- ``days_expected``: those open days, entered or not;
- 出席 (present) -> ``days_attended``;
- 遅刻 (late) -> ``days_attended`` and ``late_count``;
- 早退 (left early) -> ``days_attended`` and ``early_leave_count``;
- 欠席 (absent) -> ``days_absent`` and its reason's count:
  病気・けが -> ``absent_illness``, 家庭の事情 -> ``absent_family``,
  忌引 -> ``absent_bereavement``, 理由不明 -> ``absent_unknown``,
  その他 -> ``absent_other``.

Unmapped cases, named: the daily entry has no 出席停止 reason, so
``absent_suspension`` is never computed (always 0; the facility types it); an
absence entered without a reason counts in ``days_absent`` but in no reason
(``absent_without_reason``; not guessed as 不明); entries on days that are not
open days or outside the monitoring period are ignored (``ignored_entries``);
open days without an entry are counted as ``missing_days`` (「未入力 N日」) and
never guessed as present or absent. The absences' 連絡なし flags give the
report's 家庭からの連絡: 有 when the family got in touch for every absence, 無
when for none, 一部 when the month mixes both (values of FamilyContact).

Reports sit below attendance in the area order (DESIGN.md §13), so the
entries are read with plain SQL on the ``attendance_entries`` table and the
reasons are their stored values, without importing the attendance models.

Cost: one query for the month's entries; the calendar (facility type and
closures) is read only when entries exist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from webapp.attendance.status import Attendance
from webapp.reports import periods

# webapp.attendance.models.AbsenceReason values -> report fields.
REASON_FIELDS = {
    "illness": "absent_illness",
    "family": "absent_family",
    "bereavement": "absent_bereavement",
    "unknown": "absent_unknown",
    "other": "absent_other",
}

_ENTRIES = sa.table(
    "attendance_entries",
    sa.column("child_id"), sa.column("facility_id"), sa.column("day", sa.Date), sa.column("status"),
    sa.column("absence_reason"), sa.column("no_contact"),
)

# The report's count fields compared with the daily record, with their labels and units.
COMPARED_FIELDS = {
    "days_expected": ("出席すべき日数", "日"),
    "days_attended": ("出席日数", "日"),
    "days_absent": ("欠席日数", "日"),
    "late_count": ("遅刻", "回"),
    "early_leave_count": ("早退", "回"),
    "absent_illness": ("病気・けが", "日"),
    "absent_family": ("家庭の事情", "日"),
    "absent_bereavement": ("忌引", "日"),
    "absent_suspension": ("出席停止", "日"),
    "absent_unknown": ("不明", "日"),
    "absent_other": ("その他", "日"),
}


@dataclasses.dataclass(frozen=True)
class DailyCounts:
    counts: dict  # report field name -> int
    missing_days: int  # open days in the period without an entry (未入力)
    absent_without_reason: int
    ignored_entries: int
    # The report's 家庭からの連絡 as the absences' 連絡なし flags say it: "yes" when the
    # family got in touch for every absence, "no" for none, "partial" when mixed;
    # None without absences (the report asks for it only when there are some).
    family_contact: str | None = None

    def form_values(self) -> dict:
        values = {name: str(value) for name, value in self.counts.items()}
        if self.family_contact:
            values["family_contact"] = self.family_contact
        return values


@dataclasses.dataclass(frozen=True)
class Difference:
    field: str
    label: str
    unit: str
    reported: int
    daily: int


def compute(calendar, child, facility_id: int, period: dt.date, entries) -> DailyCounts:
    """The counts of ``entries`` (the month's entries of one child at one facility)."""
    first = period
    last = period.replace(day=periods.days_in_month(period))
    if child.monitoring_start and child.monitoring_start > first:
        first = child.monitoring_start
    if child.monitoring_end and child.monitoring_end < last:
        last = child.monitoring_end
    open_days = set(calendar.open_days(facility_id, first, last)) if first <= last else set()
    counts = {name: 0 for name in COMPARED_FIELDS}
    counts["days_expected"] = len(open_days)
    seen = set()
    without_reason = ignored = contacted = uncontacted = 0
    for day, status, reason, no_contact in entries:
        if day not in open_days or day in seen:
            ignored += 1
            continue
        seen.add(day)
        status = Attendance(status)
        if status == Attendance.ABSENT:
            counts["days_absent"] += 1
            if no_contact:
                uncontacted += 1
            else:
                contacted += 1
            field = REASON_FIELDS.get(str(reason)) if reason else None
            if field is None:
                without_reason += 1
            else:
                counts[field] += 1
            continue
        counts["days_attended"] += 1
        if status == Attendance.LATE:
            counts["late_count"] += 1
        elif status == Attendance.LEFT_EARLY:
            counts["early_leave_count"] += 1
    return DailyCounts(counts, len(open_days) - len(seen), without_reason, ignored,
                       family_contact=_family_contact(contacted, uncontacted))


def _family_contact(contacted: int, uncontacted: int) -> str | None:
    if contacted and uncontacted:
        return "partial"
    if contacted:
        return "yes"
    return "no" if uncontacted else None


class DailyRecordService:
    """Takes the session and a calendar factory (called only when there are entries: it reads the facility)."""

    def __init__(self, db, calendar_factory):
        self.db = db
        self.calendar_factory = calendar_factory

    def counts(self, child, facility_id: int, period: dt.date) -> DailyCounts | None:
        """The month's counts from the daily record, or None when the child has no entry in it."""
        last = period.replace(day=periods.days_in_month(period))
        entries = self.db.execute(
            sa.select(_ENTRIES.c.day, _ENTRIES.c.status, _ENTRIES.c.absence_reason, _ENTRIES.c.no_contact).where(
                _ENTRIES.c.child_id == child.id,
                _ENTRIES.c.facility_id == facility_id,
                _ENTRIES.c.day >= period,
                _ENTRIES.c.day <= last,
            )
        ).all()
        if not entries:
            return None
        return compute(self.calendar_factory(), child, facility_id, period, entries)


def differences(values, daily: DailyCounts | None) -> list[Difference]:
    """Fields whose reported value differs from the daily record; ``values`` is a version or a dict."""
    if daily is None or values is None:
        return []
    found = []
    for name, (label, unit) in COMPARED_FIELDS.items():
        reported = values.get(name) if isinstance(values, dict) else getattr(values, name)
        try:
            reported = int(reported)
        except (TypeError, ValueError):
            continue
        if reported != daily.counts[name]:
            found.append(Difference(name, label, unit, reported, daily.counts[name]))
    return found
