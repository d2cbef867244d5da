"""Admin screens for centres and facilities (F-ADMIN). All under /admin (S-ADMINIP)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from webapp.authz import Permission
from webapp.forms import FormErrors, clean_choice, search_text
from webapp.i18n import _
from webapp.organisations.forms import validate_centre, validate_facility
from webapp.organisations.models import FACILITY_TYPE_LABELS, CentreKind, FacilityType
from webapp.organisations.services import CentreService, FacilityService, page_number

KIND_OPTIONS = [(kind.value, kind.label) for kind in CentreKind]
TYPE_OPTIONS = [(t.value, FACILITY_TYPE_LABELS[t]) for t in FacilityType]
ACTIVE_OPTIONS = [("1", "有効"), ("0", "無効")]


def _wants_delete(request) -> bool:
    return request.POST.get("action") == "delete"


# --- Centres --------------------------------------------------------------------


@view_config(route_name="admin.centres", permission=Permission.ADMIN_MASTERS, renderer="admin/centres.html")
def centres(request):
    return {"centres": CentreService(request.db).all()}


def _centre_page(values, errors, centre=None, message=None):
    return {"values": values, "errors": errors, "centre": centre, "message": message,
            "kind_options": KIND_OPTIONS, "active_options": ACTIVE_OPTIONS}


DUPLICATE_CODE = _("このコードは既に使われています。")


def _validate_centre_form(request, centre=None):
    form = validate_centre(request.POST)
    code = form.values.get("code")
    # Checked with the other fields so every problem shows at once; save() checks again.
    if code and CentreService(request.db).code_taken(code, centre.id if centre else None):
        form.error("code", DUPLICATE_CODE)
    return form


@view_config(route_name="admin.centre_new", permission=Permission.ADMIN_MASTERS,
             renderer="admin/centre_form.html", request_method="GET")
def centre_new_form(request):
    return _centre_page({"active": "1"}, FormErrors())


@view_config(route_name="admin.centre_new", permission=Permission.ADMIN_MASTERS,
             renderer="admin/centre_form.html", request_method="POST")
def centre_create(request):
    form = _validate_centre_form(request)
    errors = form.errors
    if form.ok:
        centre, errors = CentreService(request.db).save(None, form.values)
    if errors:
        request.response.status = 400
        return _centre_page(request.POST, errors)
    return HTTPSeeOther(request.route_url("admin.centres", _query={"done": "created"}))


def _get_centre(request):
    centre = CentreService(request.db).get(int(request.matchdict["centre_id"]))
    if centre is None:
        raise HTTPNotFound()
    return centre


@view_config(route_name="admin.centre_edit", permission=Permission.ADMIN_MASTERS,
             renderer="admin/centre_form.html", request_method="GET")
def centre_edit_form(request):
    centre = _get_centre(request)
    values = {"code": centre.code, "name": centre.name, "kind": centre.kind.value,
              "active": "1" if centre.active else "0"}
    return _centre_page(values, FormErrors(), centre)


@view_config(route_name="admin.centre_edit", permission=Permission.ADMIN_MASTERS,
             renderer="admin/centre_form.html", request_method="POST")
def centre_update(request):
    centre = _get_centre(request)
    service = CentreService(request.db)
    if _wants_delete(request):
        result = service.delete(centre)
        if result.deleted:
            return HTTPSeeOther(request.route_url("admin.centres", _query={"done": "deleted"}))
        values = {"code": centre.code, "name": centre.name, "kind": centre.kind.value, "active": "0"}
        return _centre_page(values, FormErrors(), centre, message=result.reason)
    form = _validate_centre_form(request, centre)
    errors = form.errors
    if form.ok:
        _centre, errors = service.save(centre, form.values)
    if errors:
        request.response.status = 400
        return _centre_page(request.POST, errors, centre)
    return HTTPSeeOther(request.route_url("admin.centres", _query={"done": "updated"}))


# --- Facilities -----------------------------------------------------------------


@view_config(route_name="admin.facilities", permission=Permission.ADMIN_MASTERS,
             renderer="admin/facilities.html")
def facilities(request):
    q = search_text(request.params)
    page = FacilityService(request.db).search(q, page_number(request.params.get("page")))
    return {"page": page, "q": q}


def _facility_page(request, values, errors, facility=None, message=None):
    centres = CentreService(request.db).all()
    # Inactive centres are offered only when already chosen, so old data stays editable.
    options = [(c.id, c.name + ("" if c.active else "（無効）")) for c in centres
               if c.active or (facility is not None and c.id == facility.centre_id)]
    return {"values": values, "errors": errors, "facility": facility, "message": message,
            "type_options": TYPE_OPTIONS, "centre_options": options, "active_options": ACTIVE_OPTIONS}


def _validate_facility_form(request, facility=None):
    form = validate_facility(request.POST)
    centre_ids = {str(c.id): c for c in CentreService(request.db).all()
                  if c.active or (facility is not None and c.id == facility.centre_id)}
    centre_id, error = clean_choice(request.POST.get("centre_id"), centre_ids)
    if error:
        form.error("centre_id", error)
    form.values["centre_id"] = int(centre_id) if centre_id else None
    code = form.values.get("code")
    if code and FacilityService(request.db).code_taken(code, facility.id if facility else None):
        form.error("code", DUPLICATE_CODE)
    return form


@view_config(route_name="admin.facility_new", permission=Permission.ADMIN_MASTERS,
             renderer="admin/facility_form.html", request_method="GET")
def facility_new_form(request):
    return _facility_page(request, {"active": "1"}, FormErrors())


@view_config(route_name="admin.facility_new", permission=Permission.ADMIN_MASTERS,
             renderer="admin/facility_form.html", request_method="POST")
def facility_create(request):
    form = _validate_facility_form(request)
    errors = form.errors
    if form.ok:
        _facility, errors = FacilityService(request.db).save(None, form.values)
    if errors:
        request.response.status = 400
        return _facility_page(request, request.POST, errors)
    return HTTPSeeOther(request.route_url("admin.facilities", _query={"done": "created"}))


def _get_facility(request):
    facility = FacilityService(request.db).get(int(request.matchdict["facility_id"]))
    if facility is None:
        raise HTTPNotFound()
    return facility


def _facility_values(facility, active=None):
    return {"code": facility.code, "name": facility.name, "facility_type": facility.facility_type.value,
            "centre_id": facility.centre_id, "active": active or ("1" if facility.active else "0")}


@view_config(route_name="admin.facility_edit", permission=Permission.ADMIN_MASTERS,
             renderer="admin/facility_form.html", request_method="GET")
def facility_edit_form(request):
    facility = _get_facility(request)
    return _facility_page(request, _facility_values(facility), FormErrors(), facility)


@view_config(route_name="admin.facility_edit", permission=Permission.ADMIN_MASTERS,
             renderer="admin/facility_form.html", request_method="POST")
def facility_update(request):
    facility = _get_facility(request)
    service = FacilityService(request.db)
    if _wants_delete(request):
        result = service.delete(facility)
        if result.deleted:
            return HTTPSeeOther(request.route_url("admin.facilities", _query={"done": "deleted"}))
        return _facility_page(request, _facility_values(facility, "0"), FormErrors(), facility,
                              message=result.reason)
    form = _validate_facility_form(request, facility)
    errors = form.errors
    if form.ok:
        _facility, errors = service.save(facility, form.values)
    if errors:
        request.response.status = 400
        return _facility_page(request, request.POST, errors, facility)
    return HTTPSeeOther(request.route_url("admin.facilities", _query={"done": "updated"}))

