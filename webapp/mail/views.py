"""Admin: the outbox's state, and putting failed messages back in the queue (F-NOTIFY).

Under /admin, so only from the ward office's addresses (S-ADMINIP). The page
shows recipients and template names only; mail bodies hold no personal data.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from webapp.authz import Permission
from webapp.mail.services import OutboxAdmin


def _admin(request) -> OutboxAdmin:
    return OutboxAdmin(request.db, request.clock)


@view_config(route_name="admin.mail", permission=Permission.ADMIN_MASTERS, renderer="mail/admin.html",
             request_method="GET")
def outbox_page(request):
    admin = _admin(request)
    return {"counts": admin.counts(), "problems": admin.problems(), "recent": admin.recent()}


@view_config(route_name="admin.mail_requeue", permission=Permission.ADMIN_MASTERS, request_method="POST")
def outbox_requeue(request):
    """``message_id``: one failed message; without it, every failed message."""
    raw = request.POST.get("message_id")
    ids = None
    if raw is not None:
        if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
            raise HTTPNotFound()
        ids = [int(raw)]
    if _admin(request).requeue_failed(ids) == 0 and ids is not None:
        raise HTTPNotFound()  # no such failed message (unknown, or already sent or queued)
    return HTTPSeeOther(request.route_url("admin.mail", _query={"done": "requeued"}))
