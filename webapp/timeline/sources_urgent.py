"""Timeline source: urgent reports (緊急連絡, F-URGENT) about the child — filed, acknowledged, responses, closed.

Visibility is the urgent area's own scope (``urgent_clause``): facility staff
see their own facility's reports and only the responses shared with them,
never the centre's closing note.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from webapp.authz import Permission
from webapp.i18n import _
from webapp.timeline.items import Kind, Link, TimelineItem, Window
from webapp.timeline.viewer import Viewer
from webapp.urgent.models import UrgentReport, UrgentResponse
from webapp.urgent.scope import urgent_clause


def _in(column, window: Window):
    return sa.and_(column >= window.start, column < window.end)


def urgent_items(db, viewer: Viewer, child_id: int, window: Window) -> list[TimelineItem]:
    if not viewer.can(Permission.URGENT_VIEW):
        return []
    has_response = sa.exists().where(UrgentResponse.report_id == UrgentReport.id,
                                     _in(UrgentResponse.created_at, window))
    stmt = (
        sa.select(UrgentReport)
        .where(urgent_clause(viewer.scope), UrgentReport.child_id == child_id,
               sa.or_(_in(UrgentReport.created_at, window), _in(UrgentReport.acknowledged_at, window),
                      _in(UrgentReport.closed_at, window), has_response))
        .options(selectinload(UrgentReport.responses))
    )
    items = []
    for report in db.scalars(stmt):
        link = Link.to("urgent.detail", urgent_id=report.id)
        what = {"category": report.category.label}
        moments = [
            (report.created_at, _("緊急連絡を受信: ${category}", mapping=what), report.description),
            (report.acknowledged_at, _("緊急連絡を確認: ${category}", mapping=what), None),
            (report.closed_at, _("緊急連絡を終了: ${category}", mapping=what),
             None if viewer.is_facility else report.closing_note),
        ]
        for response in report.responses:
            if response.shared or not viewer.is_facility:
                moments.append((response.created_at, _("緊急連絡への対応: ${category}", mapping=what), response.text))
        for order, (when, title, detail) in enumerate(moments):
            if when is not None and window.start <= when < window.end:
                items.append(TimelineItem(when=when, kind=Kind.URGENT, title=title, link=link, detail=detail,
                                          seq=order))
    return items
