"""Caseworker screens for alerts (F-ALERT): the list, one alert, acknowledge and resolve."""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from webapp.alerts.forms import RECENT_DAYS, clean_before, clean_version, list_filters, validate_resolution
from webapp.alerts.models import LEVEL_LABELS, RESOLUTION_NOTE_MAX, STATUS_LABELS
from webapp.alerts.services import AlertError, AlertService
from webapp.authz import Permission
from webapp.children.scope import scope_for
from webapp.clock import JST
from webapp.forms import FormErrors
from webapp.organisations.services import page_number


def _service(request) -> AlertService:
    return AlertService(request.db, scope_for(request))


def _alert(request):
    raw = request.matchdict["alert_id"]
    alert = _service(request).get(int(raw)) if len(raw) <= 9 else None
    if alert is None:
        raise HTTPNotFound()
    return alert


def _detail(request, alert, *, errors=None, note=""):
    return {
        "alert": alert,
        "errors": errors or FormErrors(),
        "note": note,
        "note_max": RESOLUTION_NOTE_MAX,
        "can_handle": bool(request.has_permission(Permission.ALERTS_HANDLE)),
    }


@view_config(route_name="alerts.list", permission=Permission.ALERTS_VIEW, renderer="alerts/list.html",
             request_method="GET")
def alerts_list(request):
    status, level, no_contact = list_filters(request.params)
    recent_since = dt.datetime.combine(request.clock.today() - dt.timedelta(days=RECENT_DAYS), dt.time(),
                                       tzinfo=JST)
    filters = {
        "status": status.value if status else "",
        "level": level.value if level else "",
        "no_contact": "1" if no_contact else "",
        "recent_days": RECENT_DAYS,
        "status_options": [(s.value, label) for s, label in STATUS_LABELS.items()],
        "level_options": [(lv.value, label) for lv, label in reversed(LEVEL_LABELS.items())],
    }
    service = _service(request)
    if request.params.get("older") == "1":
        items, more = service.older(level=level, no_contact=no_contact, raised_before=recent_since,
                                    after_id=clean_before(request.params.get("before")))
        return {**filters, "older": True, "items": items, "next_before": items[-1].id if more else None}
    page = service.search(status=status, level=level, no_contact=no_contact, recent_since=recent_since,
                          number=page_number(request.params.get("page")))
    return {**filters, "older": False, "page": page, "items": page.items}


@view_config(route_name="alert.detail", permission=Permission.ALERTS_VIEW, renderer="alerts/detail.html",
             request_method="GET")
def alert_detail(request):
    return _detail(request, _alert(request))


@view_config(route_name="alert.acknowledge", permission=Permission.ALERTS_HANDLE, renderer="alerts/detail.html",
             request_method="POST")
def alert_acknowledge(request):
    alert = _alert(request)
    try:
        _service(request).acknowledge(alert, request.account, clean_version(request.POST.get("version")))
    except AlertError as error:
        request.response.status = 409
        return _detail(request, alert, errors=FormErrors(_form=error.message))
    return HTTPSeeOther(request.route_url("alert.detail", alert_id=alert.id, _query={"done": "acknowledged"}))


@view_config(route_name="alert.resolve", permission=Permission.ALERTS_HANDLE, renderer="alerts/detail.html",
             request_method="POST")
def alert_resolve(request):
    alert = _alert(request)
    raw = request.POST.get("note", "")
    raw = raw if isinstance(raw, str) else ""
    note, errors = validate_resolution(request.POST)
    if errors:
        request.response.status = 400
        return _detail(request, alert, errors=errors, note=raw)
    try:
        _service(request).resolve(alert, request.account, clean_version(request.POST.get("version")), note)
    except AlertError as error:
        request.response.status = 409
        return _detail(request, alert, errors=FormErrors(_form=error.message), note=raw)
    return HTTPSeeOther(request.route_url("alert.detail", alert_id=alert.id, _query={"done": "resolved"}))
