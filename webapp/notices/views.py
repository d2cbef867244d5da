"""Notices: the admin's screens (/admin/notices) and the facility's list and page (F-NOTICE, O-247)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from webapp.authz import Permission
from webapp.clock import JST
from webapp.forms import FormErrors
from webapp.notices.forms import validate_notice
from webapp.notices.maintenance import HolidayLookup
from webapp.notices.models import BODY_MAX, TITLE_MAX, Notice, NoticeKind
from webapp.notices.services import NoticeService
from webapp.organisations.models import FACILITY_TYPE_LABELS, FacilityType

KIND_OPTIONS = [(k.value, k.label) for k in NoticeKind]
TYPE_OPTIONS = [(t.value, FACILITY_TYPE_LABELS[t]) for t in FacilityType]


def _local(value) -> str:
    """The value of a datetime-local input, in Japan time."""
    return value.astimezone(JST).strftime("%Y-%m-%dT%H:%M") if value else ""


def _values(notice: Notice) -> dict:
    return {
        "kind": notice.kind.value, "title": notice.title, "body": notice.body,
        "audience": "all" if notice.audience_all else "types",
        "audience_types": sorted(notice.audience_type_set),
        "publish_from": _local(notice.publish_from), "publish_until": _local(notice.publish_until),
        "maintenance_start": _local(notice.maintenance_start), "maintenance_end": _local(notice.maintenance_end),
    }


def _form_page(values, errors, notice=None):
    # The checkboxes need the chosen types as a list, however the values arrived.
    chosen = values.getall("audience_types") if hasattr(values, "getall") else values.get("audience_types", [])
    return {"values": values, "errors": errors, "notice": notice, "kind_options": KIND_OPTIONS,
            "type_options": TYPE_OPTIONS, "chosen_types": set(chosen), "title_max": TITLE_MAX,
            "body_max": BODY_MAX}


def _validate(request, notice=None):
    return validate_notice(request.POST, now=request.clock.now(),
                           holidays=HolidayLookup(request.registry["holiday_source"]), announced=notice)


@view_config(route_name="admin.notices", permission=Permission.NOTICES_MANAGE, renderer="notices/admin_list.html")
def admin_list(request):
    return {"notices": NoticeService(request.db).all(), "now": request.clock.now(),
            "type_labels": {t.value: FACILITY_TYPE_LABELS[t] for t in FacilityType}}


@view_config(route_name="admin.notice_new", permission=Permission.NOTICES_MANAGE,
             renderer="notices/admin_form.html", request_method="GET")
def new_form(request):
    return _form_page({"kind": NoticeKind.GENERAL.value, "audience": "all",
                       "publish_from": _local(request.clock.now())}, FormErrors())


@view_config(route_name="admin.notice_new", permission=Permission.NOTICES_MANAGE,
             renderer="notices/admin_form.html", request_method="POST")
def create(request):
    form = _validate(request)
    if not form.ok:
        request.response.status = 400
        return _form_page(request.POST, form.errors)
    NoticeService(request.db).save(None, form.values, request.account)
    return HTTPSeeOther(request.route_url("admin.notices", _query={"done": "created"}))


def _get(request) -> Notice:
    notice = NoticeService(request.db).get(int(request.matchdict["notice_id"]))
    if notice is None:
        raise HTTPNotFound()
    return notice


@view_config(route_name="admin.notice_edit", permission=Permission.NOTICES_MANAGE,
             renderer="notices/admin_form.html", request_method="GET")
def edit_form(request):
    notice = _get(request)
    return _form_page(_values(notice), FormErrors(), notice)


@view_config(route_name="admin.notice_edit", permission=Permission.NOTICES_MANAGE,
             renderer="notices/admin_form.html", request_method="POST")
def update(request):
    notice = _get(request)
    service = NoticeService(request.db)
    if request.POST.get("action") == "withdraw":
        service.withdraw(notice, request.clock.now())
        return HTTPSeeOther(request.route_url("admin.notices", _query={"done": "withdrawn"}))
    form = _validate(request, notice)
    if not form.ok:
        request.response.status = 400
        return _form_page(request.POST, form.errors, notice)
    service.save(notice, form.values, request.account)
    return HTTPSeeOther(request.route_url("admin.notices", _query={"done": "updated"}))


# --- Facilities -------------------------------------------------------------------


@view_config(route_name="notices.list", permission=Permission.NOTICES_READ, renderer="notices/list.html")
def facility_list(request):
    return {"items": NoticeService(request.db).current_for(request.account, request.clock.now())}


@view_config(route_name="notice.detail", permission=Permission.NOTICES_READ, renderer="notices/detail.html",
             request_method="GET")
def facility_detail(request):
    service = NoticeService(request.db)
    notice = service.visible_to(request.account, int(request.matchdict["notice_id"]), request.clock.now())
    if notice is None:
        raise HTTPNotFound()
    # Opening the notice is reading it; the mark is per account.
    service.mark_read(notice, request.account)
    return {"notice": notice}
