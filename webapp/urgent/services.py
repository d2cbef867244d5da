"""Filing and handling urgent reports (F-URGENT), and notifying the centre at once (F-NOTIFY).

:class:`UrgentReportService` takes the session, the mail outbox and the clock;
it is used by the views and unit-tested without a request. Notification
email is queued in the same transaction as the report, so a report never
exists without its email, nor an email without its report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from webapp.accounts.models import Account
from webapp.authz import Role
from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.i18n import _
from webapp.accounts.addresses import caseworker_addresses, facility_addresses
from webapp.urgent.models import OPEN_STATUSES, UrgentReport, UrgentResponse, UrgentStatus
from webapp.urgent.scope import urgent_clause


class UrgentError(Exception):
    """A step not allowed in the report's current state; ``message`` is shown to the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclasses.dataclass(frozen=True)
class NewReport:
    child: Child | None
    category: str
    description: str
    observed_at: dt.datetime


class UrgentReportService:
    def __init__(self, session: Session, outbox, clock):
        self.session, self.outbox, self.clock = session, outbox, clock

    # --- reading -------------------------------------------------------------

    def listing(self, scope: Scope, *, open_only: bool = False, limit: int = 500) -> list[UrgentReport]:
        """Open reports first (oldest first: the longest waiting on top), then closed ones, newest first."""
        query = (sa.select(UrgentReport).where(urgent_clause(scope))
                 .options(selectinload(UrgentReport.child), selectinload(UrgentReport.facility)))
        if open_only:
            query = query.where(UrgentReport.status.in_(OPEN_STATUSES))
        is_closed = sa.case((UrgentReport.status == UrgentStatus.CLOSED, 1), else_=0)
        # Among open ones the oldest first (longest waiting); among closed ones the newest first.
        order_key = sa.case((UrgentReport.status == UrgentStatus.CLOSED, -UrgentReport.id), else_=UrgentReport.id)
        return list(self.session.scalars(query.order_by(is_closed, order_key).limit(limit)))

    @staticmethod
    def open_count_query(scope: Scope) -> sa.Select:
        return (sa.select(sa.func.count()).select_from(UrgentReport)
                .where(urgent_clause(scope), UrgentReport.status.in_(OPEN_STATUSES)))

    def open_count(self, scope: Scope) -> int:
        return self.session.scalar(self.open_count_query(scope)) or 0

    # --- the facility files --------------------------------------------------

    def file(self, account: Account, new: NewReport) -> UrgentReport:
        """File a report and queue the centre's email in the same transaction."""
        if account.role != Role.FACILITY:
            raise UrgentError(_("緊急連絡は施設のアカウントから送信してください。"))
        centre_id = new.child.centre_id if new.child is not None else account.facility.centre_id
        report = UrgentReport(
            facility_id=account.facility_id,
            centre_id=centre_id,
            child_id=new.child.id if new.child is not None else None,
            category=new.category,
            description=new.description,
            observed_at=new.observed_at,
            status=UrgentStatus.RECEIVED,
            reported_by_id=account.id,
        )
        self.session.add(report)
        self.session.flush()
        for address in caseworker_addresses(self.session, centre_id):
            # Only a path with the number: no name, category or text leaves the system (F-NOTIFY).
            self.outbox.enqueue(address, "urgent_report", path=f"/urgent/{report.id}")
        return report

    # --- the centre handles --------------------------------------------------

    def acknowledge(self, report: UrgentReport, account: Account) -> UrgentReport:
        if report.status != UrgentStatus.RECEIVED:
            raise UrgentError(_("この緊急連絡はすでに確認されています。"))
        report.status = UrgentStatus.ACKNOWLEDGED
        report.acknowledged_at = self.clock.now()
        report.acknowledged_by_id = account.id
        return report

    def respond(self, report: UrgentReport, account: Account, text: str, *, shared: bool) -> UrgentResponse:
        if report.status not in (UrgentStatus.ACKNOWLEDGED, UrgentStatus.RESPONDING):
            raise UrgentError(_("確認してから対応を記録してください。") if report.status == UrgentStatus.RECEIVED
                              else _("終了した緊急連絡には記録できません。"))
        response = UrgentResponse(report=report, author_id=account.id, text=text, shared=shared,
                                  created_at=self.clock.now())
        self.session.add(response)
        report.status = UrgentStatus.RESPONDING
        if shared:
            # The facility hears that there is an answer, not what it says (F-NOTIFY);
            # an internal note (not shared) is the centre's own and tells nobody.
            for address in facility_addresses(self.session, report.facility_id):
                self.outbox.enqueue(address, "urgent_answered", path=f"/urgent/{report.id}")
        return response

    def close(self, report: UrgentReport, account: Account, note: str) -> UrgentReport:
        if report.status not in (UrgentStatus.ACKNOWLEDGED, UrgentStatus.RESPONDING):
            raise UrgentError(_("確認してから終了してください。") if report.status == UrgentStatus.RECEIVED
                              else _("この緊急連絡はすでに終了しています。"))
        report.status = UrgentStatus.CLOSED
        report.closed_at = self.clock.now()
        report.closed_by_id = account.id
        report.closing_note = note
        return report
