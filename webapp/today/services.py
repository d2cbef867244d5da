"""What a facility has to do today, counted in a few aggregate queries (F-UI, issue #18 item 4).

Contracts:
- Everything is scoped like the pages it links to: children through
  :class:`~webapp.children.scope.Scope`, reports through
  :func:`~webapp.reports.scope.reports_clause` (a facility sees only the
  reports it wrote).
- A fixed number of queries whatever the number of children, reports or
  years of history: one for today's attendance (plus one to know whether the
  facility records daily at all, and the calendar's facility type and the
  closures covering today), one for the current month's report counts, one
  for the returned reports with the centre's latest reason, one for the month
  before (overdue once its deadline has passed).
- "The facility records daily attendance" needs no setting (as in
  :mod:`webapp.reports.from_attendance`): it has at least one entry in the
  last ``RECORDING_WINDOW_DAYS`` days, long enough to bridge a summer break.
  A facility that never records daily is never asked to.
- Today is the app's clock (``request.clock``), never the real date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from webapp.attendance.models import AttendanceEntry
from webapp.attendance.services import monitored_on
from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.reports import periods
from webapp.reports.models import MonthlyReport, ReportAction, ReportEvent, ReportStatus
from webapp.reports.scope import reports_clause
from webapp.reports.services import due_clause

RECORDING_WINDOW_DAYS = 90
# More returned reports than this are counted, and the rest reached through the month's lists.
RETURNED_SHOWN = 50


@dataclasses.dataclass(frozen=True)
class AttendanceToday:
    """Today's attendance for a facility that records daily and is open today."""

    day: dt.date
    children: int
    entered: int

    @property
    def missing(self) -> int:
        return self.children - self.entered

    @property
    def done(self) -> bool:
        return self.missing == 0


@dataclasses.dataclass(frozen=True)
class ReturnedReport:
    report_id: int
    period: dt.date
    child: Child
    reason: str | None
    returned_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class MonthToDo:
    """One reporting month: how many reports are still to be submitted, and by when."""

    period: dt.date
    deadline: dt.date
    today: dt.date
    due: int  # children who need a report this month
    not_started: int
    drafts: int
    returned: int

    @property
    def unsubmitted(self) -> int:
        return self.not_started + self.drafts + self.returned

    @property
    def days_left(self) -> int:
        """Days until the deadline: 0 on the day itself, negative once it has passed."""
        return (self.deadline - self.today).days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


@dataclasses.dataclass(frozen=True)
class FacilityToday:
    today: dt.date
    attendance: AttendanceToday | None  # None: the facility does not record daily, or is closed today
    returned: list[ReturnedReport]
    returned_total: int
    month: MonthToDo  # the current reporting month
    overdue_month: MonthToDo | None  # the month before, when its deadline has passed with reports missing
    unread_messages: int
    unread_threads: int
    unread_notices: list  # NoticeItem, newest first

    @property
    def attendance_pending(self) -> bool:
        return self.attendance is not None and not self.attendance.done

    @property
    def nothing_to_do(self) -> bool:
        return not (self.attendance_pending or self.returned_total or self.month.unsubmitted
                    or self.overdue_month or self.unread_messages or self.unread_notices)


class TodayService:
    def __init__(self, db, calendar, deadline_day: int):
        self.db = db
        self.calendar = calendar
        self.deadline_day = deadline_day

    def for_facility(self, scope: Scope, today: dt.date, *, unread_by_child: dict[int, int],
                     notices: list) -> FacilityToday:
        """The facility's to-do. Unread messages and notices are passed in: the menu has already counted them."""
        facility_id = scope.account.facility_id
        attendance = None
        if self.records_daily(facility_id, today) and self.calendar.is_open(facility_id, today):
            attendance = self.attendance_today(scope, facility_id, today)
        returned, returned_total = self.returned_reports(scope)
        current = periods.current_period(today, self.deadline_day)
        previous, this_month = self.months(scope, [periods.add_months(current, -1), current], today)
        return FacilityToday(
            today=today,
            attendance=attendance,
            returned=returned,
            returned_total=returned_total,
            month=this_month,
            overdue_month=previous if previous.overdue and previous.unsubmitted else None,
            unread_messages=sum(unread_by_child.values()),
            unread_threads=len(unread_by_child),
            unread_notices=[item for item in notices if not item.read],
        )

    # --- Daily attendance ----------------------------------------------------------

    def records_daily(self, facility_id: int, today: dt.date) -> bool:
        since = today - dt.timedelta(days=RECORDING_WINDOW_DAYS)
        found = self.db.scalar(
            sa.select(AttendanceEntry.id).where(
                AttendanceEntry.facility_id == facility_id,
                AttendanceEntry.day > since, AttendanceEntry.day <= today,
            ).limit(1)
        )
        return found is not None

    def attendance_today(self, scope: Scope, facility_id: int, today: dt.date) -> AttendanceToday:
        """The children of today's entry page (in scope, at the facility, monitored today) and how many are entered."""
        entry = sa.orm.aliased(AttendanceEntry)
        children, entered = self.db.execute(
            sa.select(sa.func.count(Child.id), sa.func.count(entry.id))
            .select_from(Child)
            .outerjoin(entry, sa.and_(entry.child_id == Child.id, entry.day == today,
                                      entry.facility_id == facility_id))
            .where(scope.children_clause(), Child.facility_id == facility_id, monitored_on(today))
        ).one()
        return AttendanceToday(today, children, entered)

    # --- Monthly reports -----------------------------------------------------------

    def months(self, scope: Scope, months: list[dt.date], today: dt.date) -> list[MonthToDo]:
        """Counts for each reporting month, by status: one grouped query a month, sent as one statement.

        The current reporting month is never overdue (it changes the day after
        the deadline); the month before it is, if anything is still missing.
        Older months are not counted: their returned reports are listed, the rest
        is on their lists.
        """
        per_month = [
            sa.select(sa.literal(index).label("month"), MonthlyReport.status, sa.func.count(Child.id))
            .select_from(Child)
            .outerjoin(MonthlyReport, sa.and_(MonthlyReport.child_id == Child.id, MonthlyReport.period == period,
                                              reports_clause(scope)))
            .where(scope.children_clause(), due_clause(period))
            .group_by(MonthlyReport.status)
            for index, period in enumerate(months)
        ]
        stmt = per_month[0] if len(per_month) == 1 else sa.union_all(*per_month)
        counts: list[dict] = [{} for _ in months]
        for index, status, count in self.db.execute(stmt):
            counts[index][status] = count
        return [
            MonthToDo(
                period=period,
                deadline=periods.deadline(period, self.deadline_day),
                today=today,
                due=sum(found.values()),
                not_started=found.get(None, 0),
                drafts=found.get(ReportStatus.DRAFT, 0),
                returned=found.get(ReportStatus.RETURNED, 0),
            )
            for period, found in zip(months, counts, strict=True)
        ]

    def returned_reports(self, scope: Scope) -> tuple[list[ReturnedReport], int]:
        """Returned reports of any month, oldest month first, each with the centre's latest reason.

        The reason is found per returned report through the events' index on
        ``report_id`` (a correlated subquery), never by scanning all events.
        """
        latest_return = (
            sa.select(ReportEvent.id)
            .where(ReportEvent.report_id == MonthlyReport.id, ReportEvent.action == ReportAction.RETURNED)
            .order_by(ReportEvent.id.desc())
            .limit(1)
            .correlate(MonthlyReport)
            .scalar_subquery()
        )
        rows = self.db.execute(
            sa.select(MonthlyReport.id, MonthlyReport.period, Child, ReportEvent.comment, ReportEvent.created_at,
                      sa.func.count().over())
            .join(Child, Child.id == MonthlyReport.child_id)
            .outerjoin(ReportEvent, ReportEvent.id == latest_return)
            .where(MonthlyReport.status == ReportStatus.RETURNED, reports_clause(scope))
            .order_by(MonthlyReport.period, Child.family_name_kana, Child.given_name_kana, Child.id)
            .limit(RETURNED_SHOWN)
        ).all()
        total = rows[0][-1] if rows else 0
        return [ReturnedReport(report_id, period, child, comment, at)
                for report_id, period, child, comment, at, _total in rows], total
