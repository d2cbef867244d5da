"""The route table is pinned, and every view declares a permission (DESIGN.md §6, §10)."""

from __future__ import annotations

import pytest
from pyramid.security import NO_PERMISSION_REQUIRED

from webapp.authz import Permission

# Views that must work without logging in. Anything else without a permission fails.
# metrics: no login, but only from the monitoring host (webapp.metrics checks the address).
ANONYMOUS_ROUTES = {"healthz", "metrics", "login", "logout", "locale", "login.second_factor"}


@pytest.fixture(scope="module")
def introspector():
    from webapp.config import configure
    from webapp.settings import build_settings

    config = configure(build_settings({"sqlalchemy.url": "sqlite://", "mimamori.session_secret": "s" * 40}, environ={}))
    return config.registry.introspector


def routes(introspector) -> dict[str, str]:
    return {r["name"]: r["pattern"] for r in (i for i in introspector.get_category("routes"))
            for r in [r["introspectable"]]}


def test_route_table_is_pinned(introspector):
    table = routes(introspector)
    table.pop("__static/", None)
    assert table == PINNED_ROUTES


def test_every_route_has_a_view(introspector):
    routes_with_views = {
        view["introspectable"]["route_name"] for view in introspector.get_category("views")
    }
    missing = set(routes(introspector)) - routes_with_views - {"__static/"}
    assert missing == set()


def test_every_view_declares_a_known_permission(introspector):
    problems = []
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        route = intr["route_name"]
        if route is None or route.startswith("__static"):
            continue  # exception and not-found views
        permissions = [
            related["value"] for related in view["related"] if related.category_name == "permissions"
        ]
        permission = permissions[0] if permissions else None
        if route in ANONYMOUS_ROUTES:
            if permission != NO_PERMISSION_REQUIRED:
                problems.append((route, "should be NO_PERMISSION_REQUIRED", permission))
        elif permission is None or permission not in set(Permission):
            problems.append((route, "has no Permission", permission))
    assert problems == []


PINNED_ROUTES = {
    "healthz": "/healthz",
    "metrics": "/metrics",
    "login": "/login",
    "logout": "/logout",
    "locale": "/locale/{code}",
    "login.second_factor": "/login/verify",
    "home": "/",
    "account.password": "/account/password",
    "account.second_factor": "/account/second-factor",
    "logs.access": "/logs/access",
    "logs.auth": "/logs/auth",
    "logs.changes": "/logs/changes",
    "facility.today": "/today",
    "facility.period": "/reports/period/{period}",
    "facility.report_edit": "/reports/period/{period}/children/{child_id:\\d+}",
    "facility.report_next": "/reports/period/{period}/next",
    "report.detail": "/reports/{report_id:\\d+}",
    "report.version": "/reports/{report_id:\\d+}/versions/{number:\\d+}",
    "report.acknowledge": "/reports/{report_id:\\d+}/acknowledge",
    "report.return": "/reports/{report_id:\\d+}/return",
    "centre.matrix": "/centre/submissions",
    "centre.facility_period": "/centre/facilities/{facility_id:\\d+}/{period}",
    "centre.review_queue": "/centre/review",
    "centre.review_bulk": "/centre/review/bulk",
    "children.list": "/children",
    "children.new": "/children/new",
    "child.detail": "/children/{child_id:\\d+}",
    "child.edit": "/children/{child_id:\\d+}/edit",
    "export.reports": "/export/reports.csv",
    "admin.home": "/admin",
    "admin.centres": "/admin/centres",
    "admin.centre_new": "/admin/centres/new",
    "admin.centre_edit": "/admin/centres/{centre_id:\\d+}",
    "admin.facilities": "/admin/facilities",
    "admin.facility_new": "/admin/facilities/new",
    "admin.facility_edit": "/admin/facilities/{facility_id:\\d+}",
    "admin.accounts": "/admin/accounts",
    "admin.account_new": "/admin/accounts/new",
    "admin.account_edit": "/admin/accounts/{account_id:\\d+}",
    "admin.account_reset": "/admin/accounts/{account_id:\\d+}/reset-password",
    "admin.account_unlock": "/admin/accounts/{account_id:\\d+}/unlock",
    "admin.account_reset_second_factor": "/admin/accounts/{account_id:\\d+}/reset-second-factor",
    "admin.import": "/admin/import",
    "admin.mail": "/admin/mail",
    "admin.mail_requeue": "/admin/mail/requeue",
    "urgent.list": "/urgent",
    "urgent.new": "/urgent/new",
    "urgent.detail": "/urgent/{urgent_id:\\d+}",
    "urgent.acknowledge": "/urgent/{urgent_id:\\d+}/acknowledge",
    "urgent.respond": "/urgent/{urgent_id:\\d+}/respond",
    "urgent.close": "/urgent/{urgent_id:\\d+}/close",
    "messages.list": "/messages",
    "child.messages": "/children/{child_id:\\d+}/messages",
    "help": "/help/{topic}",
    "help.manual": "/help/manual/{role}",
    "attendance.home": "/attendance",
    "attendance.day": "/attendance/facilities/{facility_id:\\d+}/{day}",
    "attendance.child": "/attendance/children/{child_id:\\d+}",
    "centre.attendance_day": "/centre/facilities/{facility_id:\\d+}/attendance/{day}",
    "closures.list": "/facilities/{facility_id:\\d+}/closures",
    "closures.delete": "/facilities/{facility_id:\\d+}/closures/delete",
    "alerts.list": "/alerts",
    "alert.detail": "/alerts/{alert_id:\\d+}",
    "alert.acknowledge": "/alerts/{alert_id:\\d+}/acknowledge",
    "alert.resolve": "/alerts/{alert_id:\\d+}/resolve",
    "child.timeline": "/children/{child_id:\\d+}/timeline",
    "notices.list": "/notices",
    "notice.detail": "/notices/{notice_id:\\d+}",
    "admin.notices": "/admin/notices",
    "admin.notice_new": "/admin/notices/new",
    "admin.notice_edit": "/admin/notices/{notice_id:\\d+}",
    "admin.child_siblings": "/admin/children/{child_id:\\d+}/siblings",
    "admin.rollover": "/admin/rollover",
}
