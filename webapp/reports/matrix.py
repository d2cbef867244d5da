"""The caseworker's facility × month submission matrix (F-DASH).

Counted entirely in SQL: one aggregate query for every cell of the months shown
(scoped, restricted to those months before grouping), one query for the
facilities' names and types (filtered), ranked and paged from those two; then
the page's facilities. The number of statements does not grow with the number of
facilities or children (a functional test pins this), which matters at ward
scale (~500 facilities, ~5,000 children).

A cell counts, for the facility a child currently belongs to, the children
whose monitoring overlaps the month (due) and how many of them have a report
that was submitted and not sent back (submitted or acknowledged).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import sqlalchemy as sa

from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.forms import enum_member, query_text, search_text
from webapp.organisations.models import Facility, FacilityType
from webapp.organisations.services import Page
from webapp.reports.models import MonthlyReport, ReportStatus
from webapp.reports.periods import deadline, is_overdue, last_day

COUNTED_AS_SUBMITTED = (ReportStatus.SUBMITTED, ReportStatus.ACKNOWLEDGED)
PER_PAGE = 50
MONTH_CHOICES = (3, 6, 12)
DEFAULT_MONTHS = 6  # the months a caseworker chases; 12 on request (issue 19: a fraction of the markup)
Q_MAX = 100


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
    rank: int = 2  # 0 overdue, 1 incomplete (a month still open), 2 complete

    @property
    def overdue_count(self) -> int:
        return sum(1 for cell in self.cells if cell is not None and cell.overdue)


@dataclasses.dataclass(frozen=True)
class Matrix:
    periods: list[dt.date]
    deadlines: list[dt.date]
    rows: list[MatrixRow]


@dataclasses.dataclass
class MatrixPage(Page):
    """A page of the matrix: ``items`` is the Matrix of this page's facilities;
    ``total`` counts the facilities matching the filters on every page."""

    overdue_total: int = 0  # of ``total``, facilities with an overdue month

    @property
    def matrix(self) -> Matrix:
        return self.items


@dataclasses.dataclass(frozen=True)
class MatrixFilter:
    """The matrix's GET parameters. Unknown or malformed values fall back to the defaults."""

    facility_type: FacilityType | None = None
    overdue_only: bool = False
    q: str = ""
    months: int = DEFAULT_MONTHS

    @classmethod
    def from_params(cls, params) -> MatrixFilter:
        def one(key):
            return query_text(params, key)

        type_value = one("type")
        months = one("months")
        return cls(
            facility_type=enum_member(FacilityType, type_value),
            overdue_only=one("overdue") in ("1", "yes", "on"),
            q=search_text(params, "q", Q_MAX),
            months=int(months) if months in {str(m) for m in MONTH_CHOICES} else DEFAULT_MONTHS,
        )

    def to_params(self) -> dict[str, str]:
        """Only what differs from the defaults, so links stay short."""
        params = {}
        if self.facility_type is not None:
            params["type"] = self.facility_type.value
        if self.overdue_only:
            params["overdue"] = "1"
        if self.q:
            params["q"] = self.q
        if self.months != DEFAULT_MONTHS:
            params["months"] = str(self.months)
        return params

    @property
    def is_default(self) -> bool:
        return not self.to_params()


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
        """Every facility in scope, in chasing order (one page holding them all)."""
        return self.page(scope, periods, today, deadline_day, MatrixFilter(), 1, per_page=None).matrix

    def page(self, scope: Scope, periods: list[dt.date], today: dt.date, deadline_day: int,
             filters: MatrixFilter, number: int, per_page: int | None = PER_PAGE) -> MatrixPage:
        """One page of facilities, most urgent first: two statements whatever the size.

        The aggregate (:meth:`counts`) is scoped and restricted to ``periods``
        before it groups, so a facility's rank only depends on the months shown.
        Rank: 0 overdue (most children missing past a deadline first, then most
        overdue months), 1 incomplete (a month still open is not all in), 2
        complete; then the name. ``number`` past the last page shows the last page.
        """
        counts = self.counts(scope, periods)
        overdue_months = [is_overdue(period, today, deadline_day) for period in periods]
        index = {period: i for i, period in enumerate(periods)}
        summary: dict[int, list[int]] = {}  # facility id -> [missing past deadline, overdue months, open missing]
        for (facility_id, period), (due, submitted) in counts.items():
            entry = summary.setdefault(facility_id, [0, 0, 0])
            missing = max(0, due - submitted)
            if not missing:
                continue
            if overdue_months[index[period]]:
                entry[0] += missing
                entry[1] += 1
            else:
                entry[2] += missing
        facilities: list[tuple[int, str]] = []
        if summary:
            stmt = sa.select(Facility.id, Facility.name).where(Facility.id.in_(summary))
            if filters.facility_type is not None:
                stmt = stmt.where(Facility.facility_type == filters.facility_type)
            if filters.q:
                stmt = stmt.where(sa.or_(Facility.name.icontains(filters.q, autoescape=True),
                                         Facility.code.icontains(filters.q, autoescape=True)))
            facilities = [(facility_id, name) for facility_id, name in self.db.execute(stmt)]

        def rank(facility_id: int) -> int:
            missing_overdue, _months, missing_open = summary[facility_id]
            return 0 if missing_overdue else 1 if missing_open else 2

        if filters.overdue_only:
            facilities = [f for f in facilities if rank(f[0]) == 0]
        facilities.sort(key=lambda f: (rank(f[0]), -summary[f[0]][0], -summary[f[0]][1], f[1], f[0]))
        total = len(facilities)
        overdue_total = sum(1 for f in facilities if rank(f[0]) == 0)
        size = per_page or max(total, 1)
        pages = max(1, math.ceil(total / size))
        number = min(max(number, 1), pages)
        shown = facilities[(number - 1) * size: number * size]
        by_id = {}
        if shown:
            by_id = {facility.id: facility for facility in self.db.scalars(
                sa.select(Facility).where(Facility.id.in_([f[0] for f in shown])))}
        rows = []
        for facility_id, _name in shown:
            cells: list[Cell | None] = []
            for period, past_deadline in zip(periods, overdue_months):
                found = counts.get((facility_id, period))
                if found is None:
                    cells.append(None)
                    continue
                due, submitted = found
                cells.append(Cell(period, due, submitted, submitted < due and past_deadline))
            rows.append(MatrixRow(by_id[facility_id], cells, rank(facility_id)))
        matrix = Matrix(periods, [deadline(p, deadline_day) for p in periods], rows)
        return MatrixPage(matrix, total, number, size, overdue_total)
