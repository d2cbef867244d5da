"""GET /today: the facility's to-do. Thin: the service counts, the template shows."""

from __future__ import annotations

from pyramid.view import view_config

from webapp.authz import Permission
from webapp.children.scope import scope_for
from webapp.closed_days import calendar_for
from webapp.closed_days.facility_days import DbFacilityDays
from webapp.reports import periods
from webapp.today.services import TodayService


@view_config(route_name="facility.today", permission=Permission.REPORTS_ENTER,
             renderer="today/facility.html", request_method="GET")
def facility_today(request):
    today = request.clock.today()
    # Only today's closures are read: the page's cost does not grow with the years kept.
    calendar = calendar_for(request.registry, DbFacilityDays(request.db, only_day=today))
    service = TodayService(request.db, calendar, periods.deadline_day_setting(request.registry.settings))
    todo = service.for_facility(scope_for(request), today, unread_by_child=request.unread_by_child,
                                notices=request.notice_board.items)
    return {"todo": todo}
