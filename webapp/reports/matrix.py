"""The caseworker's facility × month submission matrix (F-DASH).

Counted entirely in SQL: one aggregate query for every cell, one query for the
facilities' names. The number of statements does not grow with the number of
facilities or children (a functional test pins this), which matters at ward
scale (~500 facilities, ~5,000 children).

A cell counts, for the facility a child currently belongs to, the children
whose monitoring overlaps the month (due) and how many of them have a report
that was submitted and not sent back (submitted or acknowledged).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.organisations.models import Facility
from webapp.reports.models import MonthlyReport, ReportStatus
from webapp.reports.periods import deadline, is_overdue, last_day

COUNTED_AS_SUBMITTED = (ReportStatus.SUBMITTED, ReportStatus.ACKNOWLEDGED)


@dataclasses.dataclass(frozen=True)
class Cell:
    period: dt.date
    due: int
    submitted: int
    overdue: bool

    @property
    def complete(self) -> bool:
        return self.submitted >= self.due


@dataclasses.dataclass(frozen=True)
class MatrixRow:
    facility: Facility
    cells: list[Cell | None]  # None: no child of this facility was due that month

    @property
    def overdue_count(self) -> int:
        return sum(1 for cell in self.cells if cell is not None and cell.overdue)


@dataclasses.dataclass(frozen=True)
class Matrix:
    periods: list[dt.date]
    deadlines: list[dt.date]
    rows: list[MatrixRow]


def _months_table(periods: list[dt.date]):
    """The months as a small inline table (a UNION ALL of literals, portable to SQLite)."""
    selects = [
        sa.select(
            sa.literal(period, sa.Date).label("period"),
            sa.literal(last_day(period), sa.Date).label("last_day"),
        )
        for period in periods
    ]
    return sa.union_all(*selects).cte("months")


class SubmissionMatrixService:
    def __init__(self, db):
        self.db = db

    def counts(self, scope: Scope, periods: list[dt.date]) -> dict[tuple[int, dt.date], tuple[int, int]]:
        """(facility id, period) -> (due, submitted), for children in scope."""
        months = _months_table(periods)
        stmt = (
            sa.select(
                Child.facility_id,
                months.c.period,
                sa.func.count(Child.id).label("due"),
                sa.func.count(MonthlyReport.id).label("submitted"),
            )
            .select_from(Child)
            .join(
                months,
                sa.and_(
                    Child.monitoring_start <= months.c.last_day,
                    sa.or_(Child.monitoring_end.is_(None), Child.monitoring_end >= months.c.period),
                ),
            )
            .outerjoin(
                MonthlyReport,
                sa.and_(
                    MonthlyReport.child_id == Child.id,
                    MonthlyReport.period == months.c.period,
                    MonthlyReport.status.in_(COUNTED_AS_SUBMITTED),
                ),
            )
            .where(scope.children_clause())
            .group_by(Child.facility_id, months.c.period)
        )
        result = {}
        for facility_id, period, due, submitted in self.db.execute(stmt):
            # SQLite hands the literal back as text; normalise to a date.
            if isinstance(period, str):
                period = dt.date.fromisoformat(period)
            result[(facility_id, period)] = (due, submitted)
        return result

    def build(self, scope: Scope, periods: list[dt.date], today: dt.date, deadline_day: int) -> Matrix:
        counts = self.counts(scope, periods)
        facility_ids = {facility_id for facility_id, _period in counts}
        facilities = []
        if facility_ids:
            facilities = list(
                self.db.scalars(
                    sa.select(Facility).where(Facility.id.in_(facility_ids)).order_by(Facility.code, Facility.id)
                )
            )
        rows = []
        for facility in facilities:
            cells: list[Cell | None] = []
            for period in periods:
                found = counts.get((facility.id, period))
                if found is None:
                    cells.append(None)
                    continue
                due, submitted = found
                overdue = submitted < due and is_overdue(period, today, deadline_day)
                cells.append(Cell(period, due, submitted, overdue))
            rows.append(MatrixRow(facility, cells))
        # Facilities with overdue months first: they are the ones to chase.
        rows.sort(key=lambda row: row.overdue_count == 0)
        return Matrix(periods, [deadline(p, deadline_day) for p in periods], rows)
