"""Saving and reading daily attendance (F-DAILY).

Contracts:
- A facility's day is saved in one go: every row is validated first, then all
  rows are written inside one savepoint, so either every row is saved or none.
- A changed entry keeps its previous content as an ``AttendanceEntryVersion``
  (version numbers go 1, 2, 3 ...); an unchanged row writes nothing.
- Each row carries the version the user saw; if someone saved that child's day
  meanwhile and this save would change it, the whole save is refused as a
  conflict (optimistic concurrency, like monthly reports). Rows left empty
  never conflict. Concurrent first entries of the same
  child and day are caught by the unique (child_id, day) constraint.
- Entry is refused on closed days (unless a 特別開所日 opens them), on future
  days, and for children not monitored on that day.
- Which children a user sees is decided by the scope
  (:mod:`webapp.children.scope`) only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import sqlalchemy as sa
import zope.sqlalchemy
from sqlalchemy.orm import attributes, selectinload

from webapp.accounts.models import Account
from webapp.attendance.models import AbsenceReason, AttendanceEntry, AttendanceEntryVersion
from webapp.attendance.status import Attendance
from webapp.audit.recorder import Actor, append_records
from webapp.authz import Role
from webapp.children.models import Child, Grade
from webapp.children.scope import Scope
from webapp.db import utcnow
from webapp.i18n import _
from webapp.organisations.models import Facility

HISTORY_DAYS = 60
GRADE_ORDER = {grade: index for index, grade in enumerate(Grade)}


class AttendanceError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class DayNotOpen(AttendanceError):
    """Closed, future, or otherwise not a day that takes entries."""


class _LostRace(Exception):
    """Another transaction corrected the entry between our read and our update."""


class EntryConflict(AttendanceError):
    """Someone saved one of the rows after the form was loaded."""

    def __init__(self, message, child_ids: set[int]):
        super().__init__(message)
        self.child_ids = child_ids


@dataclasses.dataclass(frozen=True)
class RowInput:
    """One validated row of the day's form. ``status`` None means the row was left empty."""

    child_id: int
    seen_version: int  # 0 when the form showed no entry
    status: Attendance | None
    absence_reason: AbsenceReason | None = None
    no_contact: bool = False
    note: str | None = None

    def content(self) -> tuple:
        return (self.status, self.absence_reason, self.no_contact, self.note)


@dataclasses.dataclass(frozen=True)
class SaveResult:
    created: int
    corrected: int
    unchanged: int


def _content(entry: AttendanceEntry) -> tuple:
    reason = AbsenceReason(entry.absence_reason) if entry.absence_reason else None
    return (Attendance(entry.status), reason, bool(entry.no_contact), entry.note)


def sort_children(children) -> list[Child]:
    """Grade, then class, then kana: the order of a class register."""
    return sorted(
        children,
        key=lambda c: (GRADE_ORDER.get(Grade(c.grade), 99), c.class_name or "", c.family_name_kana,
                       c.given_name_kana, c.id),
    )


def monitored_on(day: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(Child.monitoring_start <= day, sa.or_(Child.monitoring_end.is_(None), Child.monitoring_end >= day))


class AttendanceService:
    def __init__(self, db):
        self.db = db

    # --- Which facility ----------------------------------------------------------

    def facility_for_entry(self, account: Account, facility_id: int) -> Facility | None:
        """The facility whose days ``account`` may enter: facility staff their own, admin any."""
        if account.role == Role.FACILITY and account.facility_id != facility_id:
            return None
        if account.role not in (Role.FACILITY, Role.ADMIN):
            return None
        return self.db.get(Facility, facility_id)

    def facility_in_scope(self, scope: Scope, facility_id: int) -> Facility | None:
        """For reading: the facility if at least one child in the user's scope belongs to it."""
        has_child = sa.select(Child.id).where(scope.children_clause(), Child.facility_id == facility_id).exists()
        return self.db.scalar(sa.select(Facility).where(Facility.id == facility_id, has_child))

    # --- The day's rows ------------------------------------------------------------

    def children_for_day(self, scope: Scope, facility_id: int, day: dt.date) -> list[Child]:
        """Children of the facility in the user's scope and monitored on ``day``, in register order."""
        found = self.db.scalars(
            scope.children().where(Child.facility_id == facility_id, monitored_on(day))
        )
        return sort_children(found)

    def entries_for_day(self, facility_id: int, day: dt.date, child_ids) -> dict[int, AttendanceEntry]:
        child_ids = list(child_ids)
        if not child_ids:
            return {}
        entries = self.db.scalars(
            sa.select(AttendanceEntry).where(
                AttendanceEntry.day == day,
                AttendanceEntry.facility_id == facility_id,
                AttendanceEntry.child_id.in_(child_ids),
            )
        )
        return {entry.child_id: entry for entry in entries}

    def check_day_open(self, calendar, facility_id: int, day: dt.date, today: dt.date) -> None:
        if day > today:
            raise DayNotOpen(_("未来の日の出欠は入力できません。"))
        if not calendar.is_open(facility_id, day):
            raise DayNotOpen(_("この日は休業日のため入力できません。特別開所日にする場合は休業日の設定で登録してください。"))

    # --- Saving ------------------------------------------------------------------------

    def save_day(
        self,
        *,
        facility_id: int,
        day: dt.date,
        children: list[Child],
        rows: list[RowInput],
        account: Account,
        calendar,
        today: dt.date,
        actor: Actor | None = None,
    ) -> SaveResult:
        """Save every row of the day or none. ``children`` must come from :meth:`children_for_day`."""
        self.check_day_open(calendar, facility_id, day, today)
        listed = {child.id for child in children}
        rows = [row for row in rows if row.child_id in listed]
        current = self.entries_for_day(facility_id, day, listed)
        # Only rows being saved can conflict, and only if they would change what
        # someone else saved meanwhile: two teachers entering their own classes
        # of one facility at the same time must not refuse each other.
        stale = set()
        for row in rows:
            entry = current.get(row.child_id)
            seen = entry.version if entry is not None else 0
            if row.status is not None and seen != row.seen_version and (entry is None or _content(entry) != row.content()):
                stale.add(row.child_id)
        if stale:
            raise EntryConflict(_conflict_message(), stale)
        now = utcnow()
        created = corrected = unchanged = 0
        try:
            with self.db.begin_nested():
                for row in rows:
                    entry = current.get(row.child_id)
                    if row.status is None:
                        # A row left empty changes nothing: a saved entry is corrected, never erased.
                        continue
                    if entry is None:
                        self.db.add(AttendanceEntry(
                            child_id=row.child_id, facility_id=facility_id, day=day, status=row.status,
                            absence_reason=row.absence_reason, no_contact=row.no_contact, note=row.note,
                            version=1, recorded_by_id=account.id, recorded_at=now,
                        ))
                        created += 1
                    elif _content(entry) == row.content():
                        unchanged += 1
                    else:
                        self._correct(entry, row, account, now)
                        corrected += 1
                self.db.flush()
        except (sa.exc.IntegrityError, _LostRace) as error:
            # Another save created one of these rows between our read and our insert.
            raise EntryConflict(_conflict_message(), {row.child_id for row in rows}) from error
        result = SaveResult(created, corrected, unchanged)
        if actor is not None and (created or corrected):
            self._record_event(actor, facility_id, day, result)
        return result

    def _correct(self, entry: AttendanceEntry, row: RowInput, account: Account, now: dt.datetime) -> None:
        # Compare-and-set on the version: two app servers correcting the same
        # entry at once cannot both win.
        self.db.add(AttendanceEntryVersion(
            entry_id=entry.id, child_id=entry.child_id, facility_id=entry.facility_id, day=entry.day,
            status=entry.status, absence_reason=entry.absence_reason, no_contact=entry.no_contact,
            note=entry.note, version=entry.version, recorded_by_id=entry.recorded_by_id,
            recorded_at=entry.recorded_at, superseded_at=now,
        ))
        updated = self.db.execute(
            sa.update(AttendanceEntry)
            .where(AttendanceEntry.id == entry.id, AttendanceEntry.version == entry.version)
            .values(version=entry.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if updated != 1:
            raise _LostRace()
        # The version was bumped in SQL above; set it on the object without a second UPDATE.
        attributes.set_committed_value(entry, "version", entry.version + 1)
        entry.status = row.status
        entry.absence_reason = row.absence_reason
        entry.no_contact = row.no_contact
        entry.note = row.note
        entry.recorded_by_id = account.id
        entry.recorded_at = now

    def _record_event(self, actor: Actor, facility_id: int, day: dt.date, result: SaveResult) -> None:
        """One record per save in the audit chain: who saved which facility's day, and how much changed."""
        append_records(self.db.connection(), actor, [{
            "action": "save", "entity": "attendance_days", "entity_id": f"{facility_id}:{day.isoformat()}",
            "child_id": None, "before": None,
            "after": json.dumps(dataclasses.asdict(result), sort_keys=True),
        }])
        zope.sqlalchemy.mark_changed(self.db)

    # --- Reading -------------------------------------------------------------------

    def child_history(self, scope: Scope, child: Child, today: dt.date, days: int = HISTORY_DAYS):
        """A scoped child's entries of the last ``days`` days, newest first, versions loaded.

        Facility staff see only their own facility's days: after a transfer
        the old facility's entries are the centre's to read, not the new one's.
        """
        query = (
            sa.select(AttendanceEntry)
            .where(AttendanceEntry.child_id == child.id, AttendanceEntry.day > today - dt.timedelta(days=days))
            .options(selectinload(AttendanceEntry.versions))
            .order_by(AttendanceEntry.day.desc())
        )
        if scope.account.role == Role.FACILITY:
            query = query.where(AttendanceEntry.facility_id == scope.account.facility_id)
        return list(self.db.scalars(query))


def _conflict_message():
    return _("この画面を開いた後に、ほかの人がこの日の出欠を保存しました。入力内容は残してあります。"
             "印の付いた行の現在の内容を確認し、必要ならもう一度保存してください。")
