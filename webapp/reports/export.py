"""CSV (and print) export of submitted monthly reports (F-EXPORT).

The CSV must open correctly in Excel on a ward PC and never run a formula
(a child's 様子 starting with "=" must stay text): both are
:mod:`webapp.csv_export`'s job, shared with every other export.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.clock import JST
from webapp import csv_export
from webapp.organisations.models import Centre, Facility
from webapp.reports.models import ABSENCE_REASONS, MonthlyReport, MonthlyReportVersion
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


@dataclasses.dataclass(frozen=True)
class ExportRow:
    report: MonthlyReport
    version: MonthlyReportVersion
    child: Child
    facility: Facility
    centre: Centre


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
        sa.select(MonthlyReport, MonthlyReportVersion, Child, Facility, Centre)
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


def export_rows(db, scope: Scope, first: dt.date, last: dt.date) -> list[ExportRow]:
    """Every row at once (the print view, which renders them into one page)."""
    return [ExportRow(*row) for row in db.execute(export_statement(scope, first, last))]


def _jst(value: dt.datetime | None) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M") if value else ""


def row_cells(row: ExportRow) -> list:
    report, version, child = row.report, row.version, row.child
    return [
        f"{report.period.year:04d}-{report.period.month:02d}",
        row.facility.code,
        row.facility.name,
        child.name,
        child.kana,
        child.grade.label,
        child.class_name or "",
        row.centre.name,
        report.status.label,
        version.number,
        _jst(version.submitted_at),
        version.days_expected,
        version.days_attended,
        version.days_absent,
        version.late_count,
        version.early_leave_count,
        *(getattr(version, name) for name in ABSENCE_REASONS),
        version.absence_note or "",
        version.family_contact.label if version.family_contact else "",
        version.condition or "",
        "○" if version.nothing_special else "",
        _jst(report.acknowledged_at),
    ]


def csv_chunks(rows: Iterable[ExportRow], rows_per_chunk: int | None = None) -> Iterator[bytes]:
    """The CSV file as byte chunks: the BOM and header, then ``rows_per_chunk`` rows at a time."""
    cells = ([*row_cells(row), era_month(row.report.period)] for row in rows)
    return csv_export.csv_chunks(CSV_HEADER, cells, rows_per_chunk or CHUNK_ROWS)


def to_csv(rows: Iterable[ExportRow]) -> bytes:
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
        result = self._session.execute(self._statement.execution_options(yield_per=self._rows_per_chunk))
        rows = (ExportRow(*row) for row in result)
        yield from csv_chunks(rows, self._rows_per_chunk)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
