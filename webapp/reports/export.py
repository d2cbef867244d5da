"""CSV (and print) export of submitted monthly reports (F-EXPORT).

The CSV must open correctly in Excel on a ward PC and never run a formula
(a child's 様子 starting with "=" must stay text): both are
:mod:`webapp.csv_export`'s job, shared with every other export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from webapp.children.models import Child, Grade
from webapp.children.scope import Scope
from webapp.clock import JST
from webapp import csv_export
from webapp.organisations.models import Centre, Facility
from webapp.reports.models import ABSENCE_REASONS, FamilyContact, MonthlyReport, MonthlyReportVersion, ReportStatus
from webapp.reports.scope import reports_clause
from webapp.wareki import era_month

# Rows fetched from the database and written to the client at a time.
CHUNK_ROWS = 500

HEADER = [
    "対象月", "施設コード", "施設名", "児童氏名", "ふりがな", "学年", "クラス", "担当センター",
    "状態", "版", "提出日時", "出席すべき日数", "出席日数", "欠席日数", "遅刻", "早退",
    *(f"欠席理由:{label}" for label in ABSENCE_REASONS.values()),
    "欠席の補足", "家庭からの連絡", "様子", "特記事項なし", "確認日時",
]

# The CSV only: the month in 和暦 (令和8年10月) for people reading it in Excel, as a
# column of its own at the end, so that 対象月 stays machine-readable (YYYY-MM) and
# no existing column moves. The print view has the era in its title instead.
CSV_HEADER = [*HEADER, "対象月（和暦）"]


# The columns of one exported row, read as plain tuples (Core rows, no ORM objects: a
# ward's export is thousands of rows, and loading five mapped objects for each was
# most of its CPU). ``row_cells`` unpacks them in this order. The enums are read as
# their stored text: the label lookups below are keyed by value (a StrEnum member and
# its text are the same key), so no enum object is made per cell.
EXPORT_COLUMNS = (
    MonthlyReport.period, Facility.code, Facility.name,
    Child.family_name, Child.given_name, Child.family_name_kana, Child.given_name_kana,
    sa.type_coerce(Child.grade, sa.String), Child.class_name, Centre.name,
    sa.type_coerce(MonthlyReport.status, sa.String),
    MonthlyReportVersion.number, MonthlyReportVersion.submitted_at,
    MonthlyReportVersion.days_expected, MonthlyReportVersion.days_attended, MonthlyReportVersion.days_absent,
    MonthlyReportVersion.late_count, MonthlyReportVersion.early_leave_count,
    *(getattr(MonthlyReportVersion, name) for name in ABSENCE_REASONS),
    MonthlyReportVersion.absence_note, sa.type_coerce(MonthlyReportVersion.family_contact, sa.String),
    MonthlyReportVersion.condition, MonthlyReportVersion.nothing_special, MonthlyReport.acknowledged_at,
)
def latest_submitted_number() -> sa.ScalarSelect:
    """The number of the report's latest submitted version, correlated to ``MonthlyReport``.

    Evaluated per report that the scope and period let through, through the
    (report_id, number) unique index: a few index entries per report, however
    many years of versions the ward has. (A grouped subquery over every version
    would be computed for the whole table before scope and period apply.)
    """
    other = aliased(MonthlyReportVersion, name="submitted_version")
    return (
        sa.select(sa.func.max(other.number))
        .where(other.report_id == MonthlyReport.id, other.submitted_at.is_not(None))
        .correlate(MonthlyReport)
        .scalar_subquery()
    )


def export_statement(scope: Scope, first: dt.date, last: dt.date) -> sa.Select:
    """One row per visible report of the period range, with its latest *submitted* version.

    Drafts that were never submitted are not exported: the centre has not
    received them. One query, whatever the number of reports. Every value the
    scope contributes is bound when this is built, so the statement can run
    after the request's session is gone (streaming).
    """
    return (
        sa.select(*EXPORT_COLUMNS)
        .select_from(MonthlyReport)
        .join(
            MonthlyReportVersion,
            sa.and_(MonthlyReportVersion.report_id == MonthlyReport.id,
                    MonthlyReportVersion.number == latest_submitted_number()),
        )
        .join(Child, Child.id == MonthlyReport.child_id)
        .join(Facility, Facility.id == MonthlyReport.facility_id)
        .join(Centre, Centre.id == Child.centre_id)
        .where(reports_clause(scope), MonthlyReport.period >= first, MonthlyReport.period <= last)
        .order_by(MonthlyReport.period, Facility.code, Child.family_name_kana, Child.given_name_kana, Child.id)
    )


def export_rows(db, scope: Scope, first: dt.date, last: dt.date) -> list[sa.Row]:
    """Every row at once (the print view, which renders them into one page)."""
    return db.execute(export_statement(scope, first, last)).all()


# Labels and month texts, looked up instead of computed on every row. The application's own
# words: none starts with a formula sign, so they go into the CSV as they are (the test
# test_export_labels_need_no_neutralising checks it).
_STATUS = {status: status.label for status in ReportStatus}
_GRADE = {grade: grade.label for grade in Grade}
_CONTACT = {None: "", **{contact: contact.label for contact in FamilyContact}}
_MONTH = {}  # period -> ("2026-10", "令和8年10月"), filled as months appear


def _month(period: dt.date) -> tuple[str, str]:
    found = _MONTH.get(period)
    if found is None:
        found = _MONTH[period] = (f"{period.year:04d}-{period.month:02d}", era_month(period))
    return found


def _jst(value: dt.datetime | None) -> str:
    """「2026-11-05 09:30」 (JST); formatted by hand, a third faster than strftime on every row."""
    if not value:
        return ""
    jst = value.astimezone(JST)
    return f"{jst.year:04d}-{jst.month:02d}-{jst.day:02d} {jst.hour:02d}:{jst.minute:02d}"


def _as_is(value) -> str:
    return value or ""


def row_cells(row, text=_as_is, with_era: bool = False) -> tuple:
    """The cells of one row (:data:`EXPORT_COLUMNS`) under :data:`HEADER` (and the era month
    after them, ``with_era``); ``text`` is applied to every cell somebody typed (names,
    codes, notes): the CSV neutralises them, the print view shows them as they are.
    Counts stay ``int``."""
    (period, facility_code, facility_name, family_name, given_name, family_kana, given_kana, grade,
     class_name, centre_name, status, number, submitted_at, *counts,
     absence_note, family_contact, condition, nothing_special, acknowledged_at) = row
    month, era = _month(period)
    cells = (
        month, text(facility_code), text(facility_name),
        text(f"{family_name} {given_name}"), text(f"{family_kana} {given_kana}"),
        _GRADE[grade], text(class_name), text(centre_name), _STATUS[status], number, _jst(submitted_at),
        *counts, text(absence_note), _CONTACT[family_contact], text(condition),
        "○" if nothing_special else "", _jst(acknowledged_at),
    )
    return (*cells, era) if with_era else cells


def _csv_row(row) -> tuple:
    return row_cells(row, csv_export.cell_text, with_era=True)


def csv_chunks(rows: Iterable, rows_per_chunk: int | None = None) -> Iterator[bytes]:
    """The CSV file as byte chunks: the BOM and header, then ``rows_per_chunk`` rows at a time."""
    return csv_export.prepared_csv_chunks(CSV_HEADER, map(_csv_row, rows), rows_per_chunk or CHUNK_ROWS)


def to_csv(rows: Iterable) -> bytes:
    return b"".join(csv_chunks(rows))


class StreamedExport:
    """A WSGI ``app_iter`` that reads the export's rows in batches and writes them as CSV chunks.

    It runs after the view has returned, when the request's session is already
    closed, so it opens its own session from ``session_factory`` on the first
    chunk (a server-side cursor on PostgreSQL through ``yield_per``) and closes
    it when the server closes the iterator: memory stays at one batch whatever
    the number of rows. Reading only; nothing here writes or records anything.
    """

    def __init__(self, session_factory, statement: sa.Select, rows_per_chunk: int | None = None):
        self._session_factory = session_factory
        self._statement = statement
        self._rows_per_chunk = rows_per_chunk or CHUNK_ROWS
        self._session = None

    def __iter__(self) -> Iterator[bytes]:
        self._session = self._session_factory()
        # Core execution on the session's connection: plain row tuples, no ORM loading step.
        result = self._session.connection().execute(
            self._statement.execution_options(yield_per=self._rows_per_chunk))
        yield from csv_chunks(result, self._rows_per_chunk)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
