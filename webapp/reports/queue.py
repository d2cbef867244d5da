"""The centre's review queue: every submitted report waiting for a caseworker, at any volume.

Contracts:
- Every query starts from :func:`webapp.reports.scope.reports_clause`, so the
  queue, its counts, "next report" and the bulk check never show or touch a
  report outside the user's scope.
- Counting is done in SQL (``COUNT``), never by loading rows; a page is one
  query for the count and one for the rows (plus eager loads of child and facility).
- A report "has a concern" when its latest version (the one the centre reads:
  a submitted report's latest version is the submitted one) says something a
  caseworker must read before acknowledging:
    * 様子の記載あり — the condition (様子) field is written (the facility did
      not tick 「特記事項なし」 but described the child);
    * 欠席N日 — more days absent than ``mimamori.review_concern_absent_days``;
    * 差戻し歴あり — the report was returned at least once (its correction
      must be read, not waved through).
  Only reports with no concern may be acknowledged in bulk; the bulk check is
  repeated in SQL when the batch is posted.
- ``submitted`` is the only reviewable status (returned reports wait for the
  facility), so the queue has no status filter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from webapp.children.scope import Scope
from webapp.forms import enum_member, query_text
from webapp.organisations.models import Facility, FacilityType
from webapp.organisations.services import Page
from webapp.reports.periods import format_period, parse_period
from webapp.reports.models import MonthlyReport, MonthlyReportVersion, ReportAction, ReportEvent, ReportStatus
from webapp.reports.scope import reports_clause

PER_PAGE = 50
# A bulk batch larger than a few pages is more likely a forged request than a caseworker's choice.
BULK_MAX = 200
CONCERN_ABSENT_DAYS_SETTING = "mimamori.review_concern_absent_days"
SORTS = ("oldest", "newest")
FILTER_KEYS = ("facility", "type", "month", "concern", "returned", "sort")


def concern_absent_days_setting(settings) -> int:
    try:
        return max(0, int(settings.get(CONCERN_ABSENT_DAYS_SETTING, "3")))
    except (TypeError, ValueError):
        return 3


def _small_int(raw) -> int | None:
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 0 < value <= 2**31 - 1 else None


@dataclasses.dataclass(frozen=True)
class QueueFilter:
    """The queue's GET parameters. Unknown or malformed values are ignored (shown as "all")."""

    facility_id: int | None = None
    facility_type: FacilityType | None = None
    period: dt.date | None = None
    concern: str = ""  # "", "yes" or "no"
    returned: bool = False
    sort: str = "oldest"

    @classmethod
    def from_params(cls, params) -> QueueFilter:
        def one(key):
            return query_text(params, key)

        type_value = one("type")
        concern = one("concern")
        sort = one("sort")
        return cls(
            facility_id=_small_int(one("facility")),
            facility_type=enum_member(FacilityType, type_value),
            period=parse_period(one("month")) if one("month") else None,
            concern=concern if concern in ("yes", "no") else "",
            returned=one("returned") == "yes",
            sort=sort if sort in SORTS else "oldest",
        )

    def to_params(self) -> dict[str, str]:
        """Only what differs from the defaults, so links stay short and comparable."""
        params = {}
        if self.facility_id is not None:
            params["facility"] = str(self.facility_id)
        if self.facility_type is not None:
            params["type"] = self.facility_type.value
        if self.period is not None:
            params["month"] = format_period(self.period)
        if self.concern:
            params["concern"] = self.concern
        if self.returned:
            params["returned"] = "yes"
        if self.sort != "oldest":
            params["sort"] = self.sort
        return params

    @property
    def is_default(self) -> bool:
        return not self.to_params()


@dataclasses.dataclass
class QueueRow:
    report: MonthlyReport
    days_absent: int
    condition_written: bool
    returned_before: bool
    absent_threshold: int

    @property
    def absent_concern(self) -> bool:
        return self.days_absent > self.absent_threshold

    @property
    def reasons(self) -> list[str]:
        """Why the report needs reading: "absent", "condition", "returned" (the template words them)."""
        reasons = []
        if self.absent_concern:
            reasons.append("absent")
        if self.condition_written:
            reasons.append("condition")
        if self.returned_before:
            reasons.append("returned")
        return reasons

    @property
    def has_concern(self) -> bool:
        return bool(self.reasons)


class ReviewQueueService:
    def __init__(self, db, concern_absent_days: int = 3):
        self.db = db
        self.concern_absent_days = concern_absent_days

    # --- SQL building blocks --------------------------------------------------

    @staticmethod
    def _of_latest_version(value) -> sa.ScalarSelect:
        """``value(version)`` of the report's latest version, looked up per report.

        A scalar subquery keyed by the report's id (one step down the
        (report_id, number) index), not a join: a join lets the planner hash
        every version of the ward's history to find the few reports in scope.
        """
        version = aliased(MonthlyReportVersion, name="queue_version")
        return (
            sa.select(value(version)).where(version.report_id == MonthlyReport.id)
            .order_by(version.number.desc()).limit(1)
            .correlate(MonthlyReport).scalar_subquery()
        )

    def _days_absent(self):
        return self._of_latest_version(lambda version: version.days_absent)

    def _condition_written(self):
        return self._of_latest_version(
            lambda version: sa.func.length(sa.func.trim(sa.func.coalesce(version.condition, "")))) > 0

    def _absent_concern(self):
        return self._days_absent() > self.concern_absent_days

    @staticmethod
    def _returned_before():
        return (
            sa.select(ReportEvent.id)
            .where(ReportEvent.report_id == MonthlyReport.id, ReportEvent.action == ReportAction.RETURNED)
            .exists()
        )

    def _concern(self):
        return sa.or_(self._condition_written(), self._absent_concern(), self._returned_before())

    def _waiting(self, scope: Scope, filters: QueueFilter) -> list:
        """WHERE clauses: in scope, submitted, and the filters."""
        where = [reports_clause(scope), MonthlyReport.status == ReportStatus.SUBMITTED]
        if filters.facility_id is not None:
            where.append(MonthlyReport.facility_id == filters.facility_id)
        if filters.facility_type is not None:
            where.append(Facility.facility_type == filters.facility_type)
        if filters.period is not None:
            where.append(MonthlyReport.period == filters.period)
        if filters.concern == "yes":
            where.append(self._concern())
        elif filters.concern == "no":
            where.append(sa.not_(self._concern()))
        if filters.returned:
            where.append(self._returned_before())
        return where

    @staticmethod
    def _from(stmt: sa.Select) -> sa.Select:
        return stmt.join(Facility, Facility.id == MonthlyReport.facility_id)

    @staticmethod
    def _order(filters: QueueFilter) -> list:
        if filters.sort == "newest":
            return [MonthlyReport.submitted_at.desc(), MonthlyReport.id.desc()]
        return [MonthlyReport.submitted_at, MonthlyReport.id]

    # --- Reading --------------------------------------------------------------

    @staticmethod
    def pending_count_query(scope: Scope) -> sa.Select:
        """All submitted reports waiting in the user's scope: one COUNT, no joins beyond the scope."""
        return (sa.select(sa.func.count(MonthlyReport.id))
                .where(reports_clause(scope), MonthlyReport.status == ReportStatus.SUBMITTED))

    def pending_count(self, scope: Scope) -> int:
        return self.db.scalar(self.pending_count_query(scope)) or 0

    def total(self, scope: Scope, filters: QueueFilter) -> int:
        stmt = self._from(sa.select(sa.func.count(MonthlyReport.id)).select_from(MonthlyReport))
        return self.db.scalar(stmt.where(*self._waiting(scope, filters))) or 0

    def _rows(self, stmt: sa.Select) -> list[QueueRow]:
        stmt = stmt.options(selectinload(MonthlyReport.child), selectinload(MonthlyReport.facility))
        return [
            QueueRow(report, days_absent, bool(condition), bool(returned), self.concern_absent_days)
            for report, days_absent, condition, returned in self.db.execute(stmt)
        ]

    def _select_rows(self) -> sa.Select:
        return self._from(
            sa.select(
                MonthlyReport,
                sa.func.coalesce(self._days_absent(), 0),
                self._condition_written().label("condition_written"),
                self._returned_before().label("returned_before"),
            ).select_from(MonthlyReport)
        )

    def page(self, scope: Scope, filters: QueueFilter, number: int, per_page: int = PER_PAGE) -> Page:
        total = self.total(scope, filters)
        number = min(max(number, 1), max(1, math.ceil(total / per_page)))
        stmt = (self._select_rows().where(*self._waiting(scope, filters)).order_by(*self._order(filters))
                .limit(per_page).offset((number - 1) * per_page))
        return Page(self._rows(stmt), total, number, per_page)

    def next_after(self, scope: Scope, filters: QueueFilter, submitted_at, report_id: int) -> MonthlyReport | None:
        """The report after (``submitted_at``, ``report_id``) in the filtered queue's order, if any."""
        if filters.sort == "newest":
            after = sa.or_(MonthlyReport.submitted_at < submitted_at,
                           sa.and_(MonthlyReport.submitted_at == submitted_at, MonthlyReport.id < report_id))
        else:
            after = sa.or_(MonthlyReport.submitted_at > submitted_at,
                           sa.and_(MonthlyReport.submitted_at == submitted_at, MonthlyReport.id > report_id))
        stmt = (self._from(sa.select(MonthlyReport).select_from(MonthlyReport))
                .where(*self._waiting(scope, filters), after).order_by(*self._order(filters)).limit(1))
        return self.db.scalar(stmt)

    def facility_options(self, scope: Scope) -> list[tuple[int, str, int]]:
        """(id, name, waiting) of the facilities with reports waiting in scope, for the filter."""
        stmt = (
            sa.select(Facility.id, Facility.name, sa.func.count(MonthlyReport.id))
            .join(MonthlyReport, MonthlyReport.facility_id == Facility.id)
            .where(reports_clause(scope), MonthlyReport.status == ReportStatus.SUBMITTED)
            .group_by(Facility.id, Facility.name).order_by(Facility.name, Facility.id)
        )
        return [tuple(row) for row in self.db.execute(stmt)]

    def period_options(self, scope: Scope) -> list[dt.date]:
        stmt = (
            sa.select(MonthlyReport.period).distinct()
            .where(reports_clause(scope), MonthlyReport.status == ReportStatus.SUBMITTED)
            .order_by(MonthlyReport.period.desc())
        )
        return list(self.db.scalars(stmt))

    def bulk_eligible(self, scope: Scope, report_ids: list[int]) -> list[QueueRow]:
        """Those of ``report_ids`` that may be acknowledged together now: in scope, submitted, no concern."""
        if not report_ids:
            return []
        where = [*self._waiting(scope, QueueFilter(concern="no")), MonthlyReport.id.in_(report_ids)]
        stmt = self._select_rows().where(*where).order_by(*self._order(QueueFilter()))
        return self._rows(stmt)
