"""The child's timeline page (F-DASH): ``/children/<id>/timeline?month=2026-11``.

Thin: the scope finds the child (404 outside it), the service builds the month.
"""

from __future__ import annotations

from pyramid.view import view_config

from webapp.authz import Permission
from webapp.children.scope import scope_for
from webapp.closed_days import calendar_for
from webapp.closed_days.facility_days import DbFacilityDays
from webapp.forms import FormErrors
from webapp.reports.periods import add_months, format_period
from webapp.timeline.day_table import day_table_rows
from webapp.timeline.forms import FIRST_MONTH, clean_month
from webapp.timeline.items import Window
from webapp.timeline.services import TimelineService
from webapp.timeline.svg import month_svg


@view_config(route_name="child.timeline", permission=Permission.CHILDREN_VIEW,
             renderer="timeline/page.html", request_method="GET")
def child_timeline(request):
    scope = scope_for(request)
    child = scope.get_child(request.db, int(request.matchdict["child_id"]))
    this_month = request.clock.today().replace(day=1)
    raw = request.GET.get("month")
    first, error = clean_month(raw, this_month)
    errors = FormErrors()
    if error:
        errors["month"] = error
        request.response.status = 400
        first = this_month
    # Only the month's closures are read: the page's cost does not grow with the years kept.
    window = Window.month(first)
    calendar = calendar_for(request.registry, DbFacilityDays(request.db, between=(window.first, window.last)))
    service = TimelineService(request.db, scope, calendar, request.localizer.translate)
    month = service.month(child, first)
    previous, following = add_months(first, -1), add_months(first, 1)
    return {
        "child": child,
        "month": month,
        "svg": month_svg(month.grid, id_prefix="attendance-calendar", translate=request.localizer.translate),
        "day_rows": day_table_rows(month.grid, request.localizer.translate),
        "errors": errors,
        "values": {"month": raw if error else format_period(first)},
        "previous": format_period(previous) if previous >= FIRST_MONTH else None,
        "following": format_period(following) if following <= this_month else None,
        "this_month": format_period(this_month),
    }
