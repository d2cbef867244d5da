"""Urgent reports: the facility files one; both sides see the list and the page; the centre
acknowledges, records responses and closes. Thin: scope, validate, call the service, redirect.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from webapp.authz import Permission, Role
from webapp.children.models import Child
from webapp.children.scope import scope_for
from webapp.forms import FormErrors
from webapp.urgent.forms import (
    NO_CHILD,
    default_form_values,
    validate_closing,
    validate_new_report,
    validate_response,
)
from webapp.urgent.models import DESCRIPTION_MAX, RESPONSE_MAX, UrgentCategory, UrgentStatus
from webapp.urgent.notify import deliver_after_commit
from webapp.urgent.scope import get_urgent_report
from webapp.urgent.services import NewReport, UrgentError, UrgentReportService

FORM_FIELDS = ("child", "category", "description", "observed_date", "observed_time")


def _service(request) -> UrgentReportService:
    return request.find_service(UrgentReportService)


def _report(request, *, for_update: bool = False):
    value = int(request.matchdict["urgent_id"])
    if value > 2**31 - 1:  # larger than any database id: cannot exist
        raise HTTPNotFound()
    return get_urgent_report(request.db, scope_for(request), value, for_update=for_update)


@view_config(route_name="urgent.list", permission=Permission.URGENT_VIEW,
             renderer="urgent/list.html", request_method="GET")
def urgent_list(request):
    return {"reports": _service(request).listing(scope_for(request)),
            "can_file": request.has_permission(Permission.URGENT_FILE)}


def _form_context(request, values, errors):
    children = list(request.db.scalars(
        scope_for(request).children().order_by(Child.family_name_kana, Child.given_name_kana, Child.id)))
    return {
        "values": values,
        "errors": errors,
        "children": children,
        "no_child": NO_CHILD,
        "categories": list(UrgentCategory),
        "description_max": DESCRIPTION_MAX,
    }


@view_config(route_name="urgent.new", permission=Permission.URGENT_FILE,
             renderer="urgent/new.html", request_method="GET")
def urgent_new_form(request):
    values = default_form_values(request.clock.now())
    # Coming from a child's page: the child is chosen already (ignored if not in scope).
    values["child"] = request.params.get("child", "")[:12]
    return _form_context(request, values, FormErrors())


@view_config(route_name="urgent.new", permission=Permission.URGENT_FILE,
             renderer="urgent/new.html", request_method="POST")
def urgent_new_submit(request):
    scope = scope_for(request)
    child_ids = set(request.db.scalars(scope.children().with_only_columns(Child.id)))
    values, errors = validate_new_report(request.POST, child_ids=child_ids, now=request.clock.now())
    if errors:
        request.response.status = 400
        raw = {name: request.POST.get(name, "") for name in FORM_FIELDS}
        return _form_context(request, raw, errors)
    child = scope.get_child(request.db, values["child_id"]) if values["child_id"] is not None else None
    report = _service(request).file(request.account, NewReport(
        child=child, category=values["category"], description=values["description"],
        observed_at=values["observed_at"]))
    deliver_after_commit(request)
    return HTTPSeeOther(request.route_url("urgent.detail", urgent_id=report.id, _query={"done": "urgent_sent"}))


def _detail_context(request, report, errors=None, **values):
    is_centre = request.account.role == Role.CASEWORKER
    return {
        "report": report,
        # The facility sees the centre's replies only; internal notes and the closing note stay at the centre.
        "responses": [r for r in report.responses if is_centre or r.shared],
        "is_centre": is_centre,
        "can_handle": request.has_permission(Permission.URGENT_HANDLE) and report.is_open,
        "errors": errors or FormErrors(),
        "values": values,
        "response_max": RESPONSE_MAX,
        "statuses": UrgentStatus,
    }


@view_config(route_name="urgent.detail", permission=Permission.URGENT_VIEW,
             renderer="urgent/detail.html", request_method="GET")
def urgent_detail(request):
    return _detail_context(request, _report(request))


def _handle(request, action):
    report = _report(request, for_update=True)
    try:
        done = action(report)
    except UrgentError as error:
        request.response.status = 409
        return _detail_context(request, report, FormErrors(_form=error.message))
    if isinstance(done, dict):  # a form error: re-render with the input kept
        return done
    return HTTPSeeOther(request.route_url("urgent.detail", urgent_id=report.id, _query={"done": done}))


@view_config(route_name="urgent.acknowledge", permission=Permission.URGENT_HANDLE,
             renderer="urgent/detail.html", request_method="POST")
def urgent_acknowledge(request):
    def action(report):
        _service(request).acknowledge(report, request.account)
        return "urgent_acknowledged"
    return _handle(request, action)


@view_config(route_name="urgent.respond", permission=Permission.URGENT_HANDLE,
             renderer="urgent/detail.html", request_method="POST")
def urgent_respond(request):
    def action(report):
        values, errors = validate_response(request.POST)
        if errors:
            request.response.status = 400
            return _detail_context(request, report, errors, response=request.POST.get("response", ""),
                                   shared=request.POST.get("shared", ""))
        _service(request).respond(report, request.account, values["text"], shared=values["shared"])
        if values["shared"]:
            deliver_after_commit(request)  # the facility's email, like the centre's, goes at once
        return "urgent_responded"
    return _handle(request, action)


@view_config(route_name="urgent.close", permission=Permission.URGENT_HANDLE,
             renderer="urgent/detail.html", request_method="POST")
def urgent_close(request):
    def action(report):
        values, errors = validate_closing(request.POST)
        if errors:
            request.response.status = 400
            return _detail_context(request, report, errors, closing_note=request.POST.get("closing_note", ""))
        _service(request).close(report, request.account, values["note"])
        return "urgent_closed"
    return _handle(request, action)
