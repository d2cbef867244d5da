"""The monthly report's life: draft -> submitted -> acknowledged, or returned and resubmitted.

Contracts:
- Every change is a :class:`ReportEvent`; every version the centre saw stays.
- A submitted version is frozen. Editing after a return starts a new version.
- Changes to one report are serialised by a conditional UPDATE on the report
  row (compare-and-set on ``updated_at``, or on ``status`` for the centre), so
  two people editing the same report never silently overwrite each other, even
  when their requests run at the same instant on two app servers.
- Which children and reports a user may see is decided only by the scope
  (:mod:`webapp.children.scope`, :mod:`webapp.reports.scope`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.db import utcnow
from webapp.i18n import _
from webapp.accounts.addresses import facility_addresses
from webapp.organisations.models import Facility
from webapp.reports.models import (
    CONTENT_FIELDS,
    MonthlyReport,
    MonthlyReportVersion,
    ReportAction,
    ReportEvent,
    ReportStatus,
)
from webapp.reports.periods import has_started, last_day
from webapp.reports.scope import reports_clause, visible_reports

NEW_REPORT_TOKEN = "new"


class ReportError(Exception):
    """A refused action; ``message`` is a Japanese TranslationString for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class EditConflict(ReportError):
    pass


class NotEditable(ReportError):
    pass


class NotOpenYet(ReportError):
    pass


class WrongStatus(ReportError):
    pass


def due_clause(period: dt.date) -> sa.ColumnElement[bool]:
    """Children whose monitoring period overlaps the month ``period``."""
    return sa.and_(
        Child.monitoring_start <= last_day(period),
        sa.or_(Child.monitoring_end.is_(None), Child.monitoring_end >= period),
    )


@dataclasses.dataclass
class DueRow:
    child: Child
    report: MonthlyReport | None

    @property
    def status_key(self) -> str:
        return self.report.status.value if self.report else "missing"

    @property
    def status_label(self) -> str:
        return self.report.status.label if self.report else "未作成"


def edit_token(report: MonthlyReport | None) -> str:
    """What the form carries back so a save can tell whether someone else saved meanwhile."""
    if report is None:
        return NEW_REPORT_TOKEN
    return report.updated_at.isoformat()


def _parse_token(token) -> dt.datetime | None:
    if not isinstance(token, str):
        return None
    try:
        value = dt.datetime.fromisoformat(token)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def latest_version(report: MonthlyReport) -> MonthlyReportVersion | None:
    return report.versions[-1] if report.versions else None


def latest_submitted_version(report: MonthlyReport) -> MonthlyReportVersion | None:
    for version in reversed(report.versions):
        if version.is_frozen:
            return version
    return None


def last_return(report: MonthlyReport) -> ReportEvent | None:
    """The centre's most recent return, whose comment the facility must see."""
    for event in reversed(report.events):
        if event.action == ReportAction.RETURNED:
            return event
    return None


def is_editable(report: MonthlyReport | None) -> bool:
    return report is None or report.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)


class ReportService:
    def __init__(self, db, outbox=None):
        # The mail outbox (webapp.mail.services.MailOutbox) is needed only to return a report.
        self.db, self.outbox = db, outbox

    # --- Reading ---------------------------------------------------------------

    def due_rows(self, scope: Scope, period: dt.date, facility_id: int | None = None) -> list[DueRow]:
        """The children due for ``period`` in scope, each with its report (one query)."""
        stmt = (
            sa.select(Child, MonthlyReport)
            .outerjoin(
                MonthlyReport,
                sa.and_(
                    MonthlyReport.child_id == Child.id,
                    MonthlyReport.period == period,
                    reports_clause(scope),
                ),
            )
            .where(scope.children_clause(), due_clause(period))
            .order_by(Child.family_name_kana, Child.given_name_kana, Child.id)
        )
        if facility_id is not None:
            stmt = stmt.where(Child.facility_id == facility_id)
        return [DueRow(child, report) for child, report in self.db.execute(stmt)]

    def is_due(self, child: Child, period: dt.date) -> bool:
        return child.is_monitored_during(period, last_day(period))

    def find(self, scope: Scope, child_id: int, period: dt.date) -> MonthlyReport | None:
        return self.db.scalar(
            visible_reports(scope).where(MonthlyReport.child_id == child_id, MonthlyReport.period == period)
        )

    def history(self, scope: Scope, child_id: int) -> list[MonthlyReport]:
        """A child's reports the user may see, newest month first."""
        stmt = (
            visible_reports(scope)
            .where(MonthlyReport.child_id == child_id)
            .options(selectinload(MonthlyReport.versions), selectinload(MonthlyReport.facility))
            .order_by(MonthlyReport.period.desc())
        )
        return list(self.db.scalars(stmt))

    def facility_in_scope(self, scope: Scope, facility_id: int) -> Facility | None:
        """The facility if at least one child in the user's scope belongs to it."""
        has_child = sa.select(Child.id).where(scope.children_clause(), Child.facility_id == facility_id).exists()
        return self.db.scalar(sa.select(Facility).where(Facility.id == facility_id, has_child))

    # --- The facility's side ---------------------------------------------------

    def save(
        self,
        *,
        child: Child,
        period: dt.date,
        account,
        values: dict,
        token,
        submit: bool,
        today: dt.date,
    ) -> MonthlyReport:
        """Save the facility's input as a draft, or save and submit it.

        ``child`` must already have been fetched through the user's scope.
        Raises :class:`NotOpenYet`, :class:`NotEditable` or :class:`EditConflict`.
        """
        if not has_started(period, today):
            raise NotOpenYet(_("まだ始まっていない月の報告は作成できません。"))
        now = utcnow()
        existing = self.db.scalar(
            sa.select(MonthlyReport).where(MonthlyReport.child_id == child.id, MonthlyReport.period == period)
        )
        if existing is None:
            if token != NEW_REPORT_TOKEN:
                raise EditConflict(_conflict_message())
            report = self._create(child, period, account.facility_id, now)
        else:
            report = existing
            if report.facility_id != account.facility_id:
                raise NotEditable(_("この月の報告は別の施設が作成しています。"))
            if not is_editable(report):
                raise NotEditable(_("提出済または確認済の報告は変更できません。"))
            self._claim(report, token, now)

        version = latest_version(report)
        if version is None or version.is_frozen:
            # First content, or a correction after a return: a new version.
            version = MonthlyReportVersion(
                report=report, number=(version.number + 1) if version else 1, author_id=account.id
            )
            self.db.add(version)
        for name in CONTENT_FIELDS:
            setattr(version, name, values[name])
        version.author_id = account.id
        version.updated_at = now

        if submit:
            version.submitted_at = now
            report.status = ReportStatus.SUBMITTED
            report.submitted_at = now
        self._event(report, ReportAction.SUBMITTED if submit else ReportAction.SAVED, version.number, account, now)
        self.db.flush()
        return report

    def _create(self, child: Child, period: dt.date, facility_id: int, now: dt.datetime) -> MonthlyReport:
        report = MonthlyReport(
            child_id=child.id, facility_id=facility_id, period=period, status=ReportStatus.DRAFT,
            created_at=now, updated_at=now,
        )
        # A savepoint, so that two people creating the same child's report at
        # the same moment give the second a conflict message, not a 500.
        try:
            with self.db.begin_nested():
                self.db.add(report)
                self.db.flush()
        except sa.exc.IntegrityError:
            raise EditConflict(_conflict_message()) from None
        set_committed_value(report, "versions", [])
        set_committed_value(report, "events", [])
        return report

    def _claim(self, report: MonthlyReport, token, now: dt.datetime) -> None:
        """Compare-and-set on ``updated_at``; the row lock makes a racing save wait, then fail."""
        expected = _parse_token(token)
        if expected is None:
            raise EditConflict(_conflict_message())
        # Strictly later than before, even if the clock has not moved.
        new = max(now, report.updated_at + dt.timedelta(microseconds=1))
        result = self.db.execute(
            sa.update(MonthlyReport)
            .where(MonthlyReport.id == report.id, MonthlyReport.updated_at == expected)
            .values(updated_at=new)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            self.db.expire(report)
            raise EditConflict(_conflict_message())
        set_committed_value(report, "updated_at", new)

    # --- The centre's side -----------------------------------------------------

    def acknowledge(self, report: MonthlyReport, account) -> MonthlyReport:
        now = utcnow()
        self._transition(
            report,
            dict(status=ReportStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by_id=account.id),
            now,
        )
        self._event(report, ReportAction.ACKNOWLEDGED, latest_version(report).number, account, now)
        self.db.flush()
        return report

    def return_report(self, report: MonthlyReport, account, comment: str) -> MonthlyReport:
        if self.outbox is None:
            raise TypeError("ReportService needs the mail outbox to return a report")
        now = utcnow()
        self._transition(report, dict(status=ReportStatus.RETURNED), now)
        self._event(report, ReportAction.RETURNED, latest_version(report).number, account, now, comment)
        # Queued in this transaction: a return that is rolled back or refused sends nothing.
        # Only the link: no child, period or comment leaves the system (F-NOTIFY).
        for address in facility_addresses(self.db, report.facility_id):
            self.outbox.enqueue(address, "report_returned", path=f"/reports/{report.id}")
        self.db.flush()
        return report

    def _transition(self, report: MonthlyReport, values: dict, now: dt.datetime) -> None:
        """Only a submitted report moves on.

        The status is checked in an UPDATE (which locks the row) so two
        reviewers acting at once cannot both succeed; the change itself then
        goes through the ORM so the change records (S-AUDIT) see it.
        """
        result = self.db.execute(
            sa.update(MonthlyReport)
            .where(MonthlyReport.id == report.id, MonthlyReport.status == ReportStatus.SUBMITTED)
            .values(updated_at=max(now, report.updated_at + dt.timedelta(microseconds=1)))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            self.db.expire(report)
            raise WrongStatus(_("提出済の報告だけを確認・差戻しできます。現在の状態を確認してください。"))
        for name, value in values.items():
            setattr(report, name, value)

    def _event(self, report, action, version_number, account, now, comment=None) -> None:
        event = ReportEvent(
            report=report, action=action, version_number=version_number, account_id=account.id,
            comment=comment, created_at=now,
        )
        self.db.add(event)


def _conflict_message():
    return _(
        "他の職員がこの報告を先に保存しました。あなたの入力内容はこの画面に残っています。"
        "最新の内容を確認してから、もう一度保存してください。"
    )
