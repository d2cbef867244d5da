"""Message threads: the list of threads with unread counts, and one child's thread with the post form."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from webapp.authz import Permission
from webapp.children.scope import scope_for
from webapp.forms import FormErrors, Validator, clean_text
from webapp.messages.models import BODY_MAX
from webapp.messages.services import MessageService, side_of


def _service(request) -> MessageService:
    return request.find_service(MessageService)


@view_config(route_name="messages.list", permission=Permission.MESSAGES_USE,
             renderer="messages/list.html", request_method="GET")
def message_list(request):
    scope = scope_for(request)
    return {"threads": _service(request).threads(scope)}


def _child(request):
    value = int(request.matchdict["child_id"])
    if value > 2**31 - 1:
        raise HTTPNotFound()
    return scope_for(request).get_child(request.db, value)


def _thread_context(request, child, body="", errors=None):
    service = _service(request)
    messages = service.thread(scope_for(request), child)
    # Shown means read; on a failed post the page is shown again, so the same holds.
    service.mark_read(request.account, child, messages)
    return {"child": child, "messages": messages, "my_side": side_of(request.account),
            "body": body, "errors": errors or FormErrors(), "body_max": BODY_MAX}


@view_config(route_name="child.messages", permission=Permission.MESSAGES_USE,
             renderer="messages/thread.html", request_method="GET")
def thread(request):
    return _thread_context(request, _child(request))


@view_config(route_name="child.messages", permission=Permission.MESSAGES_USE,
             renderer="messages/thread.html", request_method="POST")
def post(request):
    child = _child(request)
    v = Validator(request.POST)
    body = v.field("body", clean_text, max_length=BODY_MAX, required=True, multiline=True)
    if not v.ok:
        request.response.status = 400
        return _thread_context(request, child, request.POST.get("body", ""), v.errors)
    _service(request).post(request.account, child, body)
    return HTTPSeeOther(request.route_url("child.messages", child_id=child.id, _query={"done": "message_sent"},
                                          _anchor="latest"))
