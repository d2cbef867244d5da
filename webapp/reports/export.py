"""CSV (and print) export of submitted monthly reports (F-EXPORT).

The CSV must open correctly in Excel on a ward PC and never run a formula
(a child's 様子 starting with "=" must stay text): both are
:mod:`webapp.csv_export`'s job, shared with every other export.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.clock import JST
from webapp.csv_export import csv_bytes
from webapp.organisations.models import Centre, Facility
from webapp.reports.models import ABSENCE_REASONS, MonthlyReport, MonthlyReportVersion
from webapp.reports.scope import reports_clause
from webapp.wareki import era_month

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


def export_rows(db, scope: Scope, first: dt.date, last: dt.date) -> list[ExportRow]:
    """One row per visible report of the period range, with its latest *submitted* version.

    Drafts that were never submitted are not exported: the centre has not
    received them. One query, whatever the number of reports.
    """
    latest = (
        sa.select(MonthlyReportVersion.report_id, sa.func.max(MonthlyReportVersion.number).label("number"))
        .where(MonthlyReportVersion.submitted_at.is_not(None))
        .group_by(MonthlyReportVersion.report_id)
        .subquery("latest_submitted")
    )
    stmt = (
        sa.select(MonthlyReport, MonthlyReportVersion, Child, Facility, Centre)
        .join(latest, latest.c.report_id == MonthlyReport.id)
        .join(
            MonthlyReportVersion,
            sa.and_(MonthlyReportVersion.report_id == MonthlyReport.id, MonthlyReportVersion.number == latest.c.number),
        )
        .join(Child, Child.id == MonthlyReport.child_id)
        .join(Facility, Facility.id == MonthlyReport.facility_id)
        .join(Centre, Centre.id == Child.centre_id)
        .where(reports_clause(scope), MonthlyReport.period >= first, MonthlyReport.period <= last)
        .order_by(MonthlyReport.period, Facility.code, Child.family_name_kana, Child.given_name_kana, Child.id)
    )
    return [ExportRow(*row) for row in db.execute(stmt)]


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


def to_csv(rows: list[ExportRow]) -> bytes:
    return csv_bytes(CSV_HEADER, ([*row_cells(row), era_month(row.report.period)] for row in rows))
