"""Notices from the ward to facilities (お知らせ) and planned-stop notices on the login page (F-NOTICE, O-247).

Two request properties let any template show notices without its view
knowing about them: ``request.planned_stops`` (the login page, before login)
and ``request.notice_board`` (a facility's current notices and unread count,
for its home page and the menu).
"""

from __future__ import annotations

import dataclasses

from webapp.notices.services import NoticeService


@dataclasses.dataclass(frozen=True)
class NoticeBoard:
    items: list
    unread: int


def _planned_stops(request):
    return NoticeService(request.db).planned_stops(request.clock.now())


def _notice_board(request) -> NoticeBoard:
    if request.identity is None:
        return NoticeBoard([], 0)
    items = NoticeService(request.db).current_for(request.account, request.clock.now())
    return NoticeBoard(items, sum(1 for item in items if not item.read))


def includeme(config):
    config.add_request_method(_planned_stops, "planned_stops", reify=True)
    config.add_request_method(_notice_board, "notice_board", reify=True)
    config.scan(".views")
