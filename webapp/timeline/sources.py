"""Timeline sources that live in the reports area: monthly reports and their events.

Each source is one function ``(db, viewer, child_id, window) -> list[TimelineItem]``
with one query, bounded by the month, so a page costs the same whatever the
length of the child's history. Visibility is the scope's: reports through
``reports_clause`` (facilities see only their own facility's reports).
"""

from __future__ import annotations

import sqlalchemy as sa

from webapp.i18n import _
from webapp.reports.models import MonthlyReport, ReportAction, ReportEvent
from webapp.reports.scope import reports_clause
from webapp.timeline.items import Kind, Link, TimelineItem, Window
from webapp.timeline.viewer import Viewer

REPORT_TITLES = {
    ReportAction.SUBMITTED: _("${period}分の月次報告が提出されました（第${number}版）"),
    ReportAction.RETURNED: _("${period}分の月次報告が差し戻されました"),
    ReportAction.ACKNOWLEDGED: _("${period}分の月次報告が確認されました"),
}


def _period(period) -> str:
    return f"{period.year}年{period.month}月"


def report_items(db, viewer: Viewer, child_id: int, window: Window) -> list[TimelineItem]:
    """Submissions, returns (with the centre's comment) and acknowledgements in the month.

    Draft saves are left out: they are the facility's work in progress, not
    something that happened to the child.

    A month can be reported on from its first day, never before
    (``periods.has_started``), so only the reports of this month and earlier
    can have events in it: the later months' reports are left out in SQL.
    Only the columns shown are read, as tuples (no ORM objects).
    """
    stmt = (
        sa.select(ReportEvent.id, ReportEvent.report_id, ReportEvent.action, ReportEvent.version_number,
                  ReportEvent.comment, ReportEvent.created_at, MonthlyReport.period)
        .join(MonthlyReport, ReportEvent.report_id == MonthlyReport.id)
        .where(
            reports_clause(viewer.scope),
            MonthlyReport.child_id == child_id,
            MonthlyReport.period <= window.first,
            ReportEvent.action.in_(list(REPORT_TITLES)),
            ReportEvent.created_at >= window.start,
            ReportEvent.created_at < window.end,
        )
    )
    items = []
    for event_id, report_id, action, version_number, comment, created_at, period in db.execute(stmt):
        items.append(TimelineItem(
            when=created_at,
            kind=Kind.REPORT,
            title=_(REPORT_TITLES[action], mapping={"period": _period(period), "number": version_number}),
            link=Link.to("report.detail", report_id=report_id),
            detail=comment if action == ReportAction.RETURNED else None,
            seq=event_id,
        ))
    return items
