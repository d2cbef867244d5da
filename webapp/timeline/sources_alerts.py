"""Timeline source: alerts (F-ALERT) — raised, escalated to 要対応, acknowledged, resolved (with the note).

Alerts are the centre's (``ALERTS_VIEW``): facility staff and admins get none.
One query: the child's alerts with any of these moments in the month. (Earlier
acknowledgements undone by an escalation are on the alert's page, in its history.)
"""

from __future__ import annotations

import sqlalchemy as sa

from webapp.alerts.models import LEVEL_LABELS, NO_CONTACT_LABEL, Alert, AlertLevel
from webapp.authz import Permission
from webapp.children.models import Child
from webapp.i18n import _
from webapp.timeline.items import Kind, Link, TimelineItem, Window
from webapp.timeline.viewer import Viewer


def _in(column, window: Window):
    return sa.and_(column >= window.start, column < window.end)


def _severity(level_label: str, no_contact: bool) -> str:
    # Plain text inside the title's mapping, like the other sources' names (mappings are not translated).
    return f"{level_label}・{NO_CONTACT_LABEL}" if no_contact else level_label


def alert_items(db, viewer: Viewer, child_id: int, window: Window) -> list[TimelineItem]:
    if not viewer.can(Permission.ALERTS_VIEW):
        return []
    stmt = (
        sa.select(Alert)
        .join(Child, Alert.child_id == Child.id)
        .where(viewer.scope.children_clause(), Alert.child_id == child_id,
               sa.or_(_in(Alert.raised_at, window), _in(Alert.escalated_at, window),
                      _in(Alert.acknowledged_at, window), _in(Alert.resolved_at, window)))
    )
    items = []
    for alert in db.scalars(stmt):
        link = Link.to("alert.detail", alert_id=alert.id)
        # An escalated alert was raised at 注意.
        raised_level = LEVEL_LABELS[AlertLevel.CAUTION] if alert.escalated_at else alert.level_label
        what = {"level": _severity(alert.level_label, alert.no_contact), "days": alert.streak_length}
        moments = (
            (alert.raised_at, _("アラート発生: ${level}（${days}日）",
                                mapping={**what, "level": _severity(raised_level, alert.no_contact)}), None),
            (alert.escalated_at, _("アラート要対応に引き上げ: ${level}", mapping=what), None),
            (alert.acknowledged_at, _("アラート確認: ${level}", mapping=what), None),
            (alert.resolved_at, _("アラート対応済: ${level}", mapping=what), alert.resolution_note),
        )
        for order, (when, title, detail) in enumerate(moments):
            if when is not None and window.start <= when < window.end:
                items.append(TimelineItem(when=when, kind=Kind.ALERT, title=title, link=link, detail=detail,
                                          seq=order))
    return items
