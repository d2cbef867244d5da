"""The caseworker's facility × month submission matrix (F-DASH).

Three statements whatever the number of facilities or children (a functional
test pins this), which matters at ward scale (~500 facilities, ~5,000
children): the scope's children with their monitoring spans, which of them have
a counted report in the months shown (both restricted to the scope and the
months before anything is counted), and the names and codes of the facilities
that pass the filters. Cells are counted and facilities ranked and paged in
Python from those; the page's cells are written by :mod:`webapp.reports.matrix_cells`.

A cell counts, for the facility a child currently belongs to, the children
whose monitoring overlaps the month (due) and how many of them have a report
that was submitted and not sent back (submitted or acknowledged).
"""

from __future__ import annotations

import collections
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
    facility: sa.Row  # id, name, code
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


class SubmissionMatrixService:
    def __init__(self, db):
        self.db = db

    def counts(self, scope: Scope, periods: list[dt.date]) -> dict[tuple[int, dt.date], tuple[int, int]]:
        """(facility id, period) -> (due, submitted), for children in scope.

        Two narrow statements, both driven by the scope's children: their
        monitoring spans, and which of them have a counted report in the months
        shown. The cells are counted here rather than by a months × children ×
        reports join in SQL, which cost the page three times as much (SQLite
        looked up every child's report row month by month).
        """
        first, last = periods[0], periods[-1]
        # Core execution on the session's connection: plain tuples, without the ORM's row loading
        # (a third of this method's time for ~1,500 rows).
        connection = self.db.connection()
        children = connection.execute(
            sa.select(Child.id, Child.facility_id, Child.monitoring_start, Child.monitoring_end)
            .where(scope.children_clause(), Child.monitoring_start <= last_day(last),
                   sa.or_(Child.monitoring_end.is_(None), Child.monitoring_end >= first))
        ).all()
        reported = connection.execute(
            sa.select(MonthlyReport.child_id, MonthlyReport.period)
            .join(Child, Child.id == MonthlyReport.child_id)
            .where(scope.children_clause(), MonthlyReport.period >= first, MonthlyReport.period <= last,
                   MonthlyReport.status.in_(COUNTED_AS_SUBMITTED))
        ).all()
        month_ends = {period: last_day(period) for period in periods}
        spans = {child_id: (facility_id, start, end) for child_id, facility_id, start, end in children}
        due = collections.Counter(
            (facility_id, period)
            for facility_id, start, end in spans.values()
            for period, month_end in month_ends.items()
            if start <= month_end and (end is None or end >= period))
        # A report counts in its month's cell only if the child is due that month (as above).
        submitted = collections.Counter(
            (span[0], period)
            for child_id, period in reported
            if (span := spans.get(child_id)) is not None
            and span[1] <= month_ends[period] and (span[2] is None or span[2] >= period))
        return {key: (count, submitted[key]) for key, count in due.items()}

    def build(self, scope: Scope, periods: list[dt.date], today: dt.date, deadline_day: int) -> Matrix:
        """Every facility in scope, in chasing order (one page holding them all)."""
        return self.page(scope, periods, today, deadline_day, MatrixFilter(), 1, per_page=None).matrix

    def page(self, scope: Scope, periods: list[dt.date], today: dt.date, deadline_day: int,
             filters: MatrixFilter, number: int, per_page: int | None = PER_PAGE) -> MatrixPage:
        """One page of facilities, most urgent first: three statements whatever the size.

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
        facilities: list[sa.Row] = []  # (id, name, code): all a row of the page shows of its facility
        if summary:
            stmt = sa.select(Facility.id, Facility.name, Facility.code).where(Facility.id.in_(summary))
            if filters.facility_type is not None:
                stmt = stmt.where(Facility.facility_type == filters.facility_type)
            if filters.q:
                stmt = stmt.where(sa.or_(Facility.name.icontains(filters.q, autoescape=True),
                                         Facility.code.icontains(filters.q, autoescape=True)))
            facilities = self.db.connection().execute(stmt).all()

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
        rows = []
        for facility in shown:
            cells: list[Cell | None] = []
            for period, past_deadline in zip(periods, overdue_months):
                found = counts.get((facility.id, period))
                if found is None:
                    cells.append(None)
                    continue
                due, submitted = found
                cells.append(Cell(period, due, submitted, submitted < due and past_deadline))
            rows.append(MatrixRow(facility, cells, rank(facility.id)))
        matrix = Matrix(periods, [deadline(p, deadline_day) for p in periods], rows)
        return MatrixPage(matrix, total, number, size, overdue_total)
