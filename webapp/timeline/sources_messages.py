"""Timeline source: the child's message thread (連絡帳, F-MSG).

Visibility is the messages area's own (``visible_clause``): a message belongs
to the facility the child was at when it was written, so facility staff see
only their own facility's part of the thread.
"""

from __future__ import annotations

import sqlalchemy as sa

from webapp.authz import Permission
from webapp.i18n import _
from webapp.messages.models import Message, Side
from webapp.messages.services import visible_clause
from webapp.timeline.items import Kind, Link, TimelineItem, Window
from webapp.timeline.viewer import Viewer

# The timeline shows the start of a message; the thread has the rest.
EXCERPT = 200

TITLES = {
    Side.CENTRE: _("センターからのメッセージ"),
    Side.FACILITY: _("施設からのメッセージ"),
}


def message_items(db, viewer: Viewer, child_id: int, window: Window) -> list[TimelineItem]:
    if not viewer.can(Permission.MESSAGES_USE):
        return []
    stmt = sa.select(Message).where(
        visible_clause(viewer.scope), Message.child_id == child_id,
        Message.created_at >= window.start, Message.created_at < window.end,
    )
    link = Link.to("child.messages", child_id=child_id)
    items = []
    for message in db.scalars(stmt):
        body = message.body if len(message.body) <= EXCERPT else message.body[:EXCERPT] + "…"
        items.append(TimelineItem(when=message.created_at, kind=Kind.MESSAGE, title=TITLES[Side(message.side)],
                                  link=link, detail=body, seq=message.id))
    return items
