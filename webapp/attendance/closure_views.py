"""A facility's closures (休業期間) and extra open days (特別開所日): list, add, delete.

Facility staff manage their own facility's, the ward admin any facility's.
The rules live in :class:`webapp.closed_days.facility_days.ClosureService`.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from webapp.attendance.services import AttendanceService
from webapp.authz import Permission
from webapp.closed_days.facility_days import MAX_RANGE_DAYS, ClosureService
from webapp.closed_days.models import LABEL_MAX, ClosureKind
from webapp.forms import FormErrors


def _facility(request):
    value = int(request.matchdict["facility_id"])
    facility = None if value > 2**31 - 1 else AttendanceService(request.db).facility_for_entry(request.account, value)
    if facility is None:
        raise HTTPNotFound()
    return facility


def _context(request, facility, values, errors):
    return {
        "facility": facility,
        "closures": ClosureService(request.db).list(facility.id),
        "kinds": [(k.value, k.label) for k in ClosureKind],
        "values": values,
        "errors": errors,
        "label_max": LABEL_MAX,
        "max_days": MAX_RANGE_DAYS,
        "today": request.clock.today(),
    }


@view_config(route_name="closures.list", permission=Permission.CLOSURES_MANAGE,
             renderer="closed_days/list.html", request_method="GET")
def closures_list(request):
    facility = _facility(request)
    return _context(request, facility, {"kind": ClosureKind.CLOSED.value}, FormErrors())


@view_config(route_name="closures.list", permission=Permission.CLOSURES_MANAGE,
             renderer="closed_days/list.html", request_method="POST")
def closures_add(request):
    facility = _facility(request)
    service = ClosureService(request.db)
    values, errors = service.validate(facility.id, request.POST)
    if errors:
        request.response.status = 400
        raw = {name: request.POST.get(name, "") for name in ("kind", "starts_on", "ends_on", "label")}
        return _context(request, facility, raw, errors)
    service.add(facility.id, values, request.account.id)
    return HTTPSeeOther(request.route_url("closures.list", facility_id=facility.id, _query={"done": "created"}))


@view_config(route_name="closures.delete", permission=Permission.CLOSURES_MANAGE, request_method="POST")
def closures_delete(request):
    facility = _facility(request)
    raw = request.POST.get("closure_id", "")
    closure_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    service = ClosureService(request.db)
    closure = service.get(facility.id, closure_id) if closure_id is not None else None
    if closure is None:
        # Another facility's closure, or one already deleted: nothing of ours to delete.
        raise HTTPNotFound()
    service.delete(closure)
    return HTTPSeeOther(request.route_url("closures.list", facility_id=facility.id, _query={"done": "deleted"}))
