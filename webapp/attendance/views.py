"""Daily attendance screens: the facility's day (entry), the centre's day (read-only),
a child's last 60 days with corrections, and the facility's closures.

Views stay thin: parse the URL, fetch through the user's scope (404 outside
it), call a service, render or redirect (post/redirect/get with ``?done=``).
Every page that shows children records a view in the audit chain.
"""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from webapp.attendance.day_rows import DayRows
from webapp.attendance.forms import day_filter, field, raw_rows, rows_from_entries, validate_day
from webapp.attendance.models import ATTENDANCE_LABELS, NOTE_MAX, AbsenceReason
from webapp.attendance.services import (
    HISTORY_DAYS,
    AttendanceError,
    AttendanceService,
    DayNotOpen,
    EntryConflict,
)
from webapp.attendance.status import Attendance
from webapp.audit.recorder import actor_for_request
from webapp.audit.view_records import record_views
from webapp.authz import Permission, Role
from webapp.children.scope import scope_for
from webapp.closed_days import calendar_for
from webapp.closed_days.facility_days import DbFacilityDays, why_closed
from webapp.forms import FormErrors, clean_date, path_day, shift_day
from webapp.i18n import _
from webapp.organisations.models import Facility

STATUSES = [(a.value, ATTENDANCE_LABELS[a]) for a in Attendance]
REASONS = [(r.value, r.label) for r in AbsenceReason]


def _id(request, name: str) -> int:
    # Digits only by the route, but a huge number must not overflow a database integer.
    value = int(request.matchdict[name])
    if value > 2**31 - 1:
        raise HTTPNotFound()
    return value


def _day(request) -> dt.date:
    day = path_day(request.matchdict["day"])
    if day is None:
        raise HTTPNotFound()
    return day


def _record_views(request, entity: str, entity_id, child_ids) -> None:
    """Who saw which children's attendance (S-AUDIT), one record per child shown.

    Written after the request, with other requests' records in one batch
    (webapp/audit/view_records.py): the page itself stays a read.
    """
    record_views(request, entity, entity_id, child_ids)


def _goto(request, route: str, facility_id: int, query=None):
    """The date picker (a GET form with ``goto``): a redirect, or the error to show beside it.

    ``query`` (the day page's grade/class filter) is kept on the day it goes to.
    """
    value, error = clean_date(request.GET.get("goto"))
    if error is not None:
        return None, error
    return HTTPSeeOther(request.route_url(route, facility_id=facility_id, day=value.isoformat(),
                                          _query=query or {})), None


# --- The facility's day -------------------------------------------------------------


@view_config(route_name="attendance.home", permission=Permission.ATTENDANCE_ENTER,
             renderer="attendance/home.html", request_method="GET")
def attendance_home(request):
    today = request.clock.today()
    if request.account.role == Role.FACILITY:
        return HTTPSeeOther(request.route_url("attendance.day", facility_id=request.account.facility_id,
                                              day=today.isoformat()))
    facilities = request.db.query(Facility).filter(Facility.active.is_(True)).order_by(Facility.code).all()
    return {"facilities": facilities, "today": today}


class _Day:
    """Everything the day page needs, built the same way for GET and POST."""

    def __init__(self, request):
        self.request = request
        self.service = AttendanceService(request.db)
        self.facility = self.service.facility_for_entry(request.account, _id(request, "facility_id"))
        if self.facility is None:
            raise HTTPNotFound()
        self.day = _day(request)
        self.today = request.clock.today()
        self.calendar = calendar_for(request.registry, DbFacilityDays(request.db))
        self.scope = scope_for(request)
        # The grade/class filter comes from the query string on GET and POST alike (the form
        # posts to the filtered URL): only the children shown are read, validated and saved.
        self.filter = day_filter(request.GET, self.service.children_for_day(self.scope, self.facility.id, self.day))
        self.children = self.filter.children
        self.entries = self.service.entries_for_day(self.facility.id, self.day, [c.id for c in self.children])
        self.closed_reason = why_closed(self.calendar, self.facility.id, self.day)
        self.future = self.day > self.today

    @property
    def open_for_entry(self) -> bool:
        return self.closed_reason is None and not self.future

    def context(self, rows, errors, *, conflict_ids=frozenset(), goto_error=None):
        day_rows = DayRows(self.request, statuses=STATUSES, reasons=REASONS, open_for_entry=self.open_for_entry,
                           errors=errors, conflict_ids=conflict_ids)
        return {
            "filter": self.filter,
            # For the save bar: counted from what is saved, not from what is being typed (no script).
            "missing": sum(1 for c in self.children if c.id not in self.entries),
            "facility": self.facility,
            "day": self.day,
            "today": self.today,
            "children": self.children,
            "day_rows": day_rows.render(self.children, rows, self.entries),
            "errors": errors,
            "closed_reason": self.closed_reason,
            "future": self.future,
            "open_for_entry": self.open_for_entry,
            "previous": shift_day(self.day, -1),
            "next": shift_day(self.day, 1),
            "note_max": NOTE_MAX,
            "goto_error": goto_error,
            "can_manage_closures": self.request.has_permission(Permission.CLOSURES_MANAGE),
        }


@view_config(route_name="attendance.day", permission=Permission.ATTENDANCE_ENTER,
             renderer="attendance/day.html", request_method="GET")
def attendance_day(request):
    page = _Day(request)
    goto_error = None
    if "goto" in request.GET:
        redirect, goto_error = _goto(request, "attendance.day", page.facility.id, page.filter.query)
        if redirect is not None:
            return redirect
        request.response.status = 400
    child_ids = [c.id for c in page.children]
    _record_views(request, "attendance_days", f"{page.facility.id}:{page.day.isoformat()}", child_ids)
    return page.context(rows_from_entries(page.entries, child_ids), FormErrors(), goto_error=goto_error)


@view_config(route_name="attendance.day", permission=Permission.ATTENDANCE_ENTER,
             renderer="attendance/day.html", request_method="POST")
def attendance_day_submit(request):
    page = _Day(request)
    child_ids = [c.id for c in page.children]
    post = request.POST
    if post.get("action") == "all_present":
        # The explicit 全員出席 button: rows left empty become 出席; rows already chosen stay as chosen.
        post = post.copy()
        for child_id in child_ids:
            if not post.get(field("status", child_id)):
                post[field("status", child_id)] = Attendance.PRESENT.value
    raw = raw_rows(post, child_ids)
    rows, errors = validate_day(post, child_ids)
    if errors:
        request.response.status = 400
        return page.context(raw, errors)
    try:
        result = page.service.save_day(
            facility_id=page.facility.id, day=page.day, children=page.children, rows=rows,
            account=request.account, calendar=page.calendar, today=page.today,
            actor=actor_for_request(request),
        )
    except EntryConflict as error:
        request.response.status = 409
        # Show the entries as they are now, and carry their versions so a
        # deliberate second save goes through; keep everything else typed.
        page.entries = page.service.entries_for_day(page.facility.id, page.day, child_ids)
        current = rows_from_entries(page.entries, child_ids)
        for child_id in child_ids:
            raw[child_id]["version"] = current[child_id]["version"]
        return page.context(raw, FormErrors(_form=error.message), conflict_ids=error.child_ids)
    except (DayNotOpen, AttendanceError) as error:
        request.response.status = 400
        return page.context(raw, FormErrors(_form=error.message))
    done = "attendance_saved" if result.created or result.corrected else "attendance_unchanged"
    return HTTPSeeOther(request.route_url("attendance.day", facility_id=page.facility.id,
                                          day=page.day.isoformat(), _query={**page.filter.query, "done": done}))


# --- The centre's read-only day and a child's days ----------------------------------


@view_config(route_name="centre.attendance_day", permission=Permission.ATTENDANCE_VIEW,
             renderer="attendance/centre_day.html", request_method="GET")
def centre_attendance_day(request):
    scope = scope_for(request)
    service = AttendanceService(request.db)
    facility = service.facility_in_scope(scope, _id(request, "facility_id"))
    if facility is None:
        raise HTTPNotFound()
    day = _day(request)
    goto_error = None
    if "goto" in request.GET:
        redirect, goto_error = _goto(request, "centre.attendance_day", facility.id)
        if redirect is not None:
            return redirect
        request.response.status = 400
    calendar = calendar_for(request.registry, DbFacilityDays(request.db))
    children = service.children_for_day(scope, facility.id, day)
    entries = service.entries_for_day(facility.id, day, [c.id for c in children])
    _record_views(request, "attendance_days", f"{facility.id}:{day.isoformat()}", [c.id for c in children])
    return {
        "facility": facility,
        "day": day,
        "children": children,
        "entries": entries,
        "closed_reason": why_closed(calendar, facility.id, day),
        "previous": shift_day(day, -1),
        "next": shift_day(day, 1),
        "goto_error": goto_error,
    }


@view_config(route_name="attendance.child", permission=Permission.ATTENDANCE_VIEW,
             renderer="attendance/child.html", request_method="GET")
def attendance_child(request):
    scope = scope_for(request)
    child = scope.get_child(request.db, _id(request, "child_id"))
    entries = AttendanceService(request.db).child_history(scope, child, request.clock.today())
    _record_views(request, "children", child.id, [child.id])
    return {
        "child": child,
        "entries": entries,
        "days": HISTORY_DAYS,
        "can_enter": request.has_permission(Permission.ATTENDANCE_ENTER),
    }
