"""The IDOR sweep: every route × every role × objects outside the user's scope (F-ROLE, S-WEB).

Generated from the route table, so a new route is swept without anyone
remembering to add it. For each role, a request for an object the role may
not see must be refused (403 when the role lacks the permission, 404 when it
has the permission but the object is outside its scope), for GET and POST
alike; and no page a role may open shows a child outside its scope.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pyramid.security import NO_PERMISSION_REQUIRED

from tests.conftest import login
from webapp.authz import Role, role_has
from webapp.reports.models import MonthlyReport, MonthlyReportVersion, ReportStatus

# A name that appears only on objects outside the sweeping user's scope.
FOREIGN_MARK = "圏外"


@pytest.fixture
def world(make, db):
    centre_in, centre_out = make.centre(), make.centre(name=f"{FOREIGN_MARK}センター")
    facility_in = make.facility(centre=centre_in)
    facility_out = make.facility(centre=centre_out, name=f"{FOREIGN_MARK}小学校")
    child_in = make.child(facility=facility_in)
    child_out = make.child(facility=facility_out, family_name=FOREIGN_MARK, given_name="花子")
    accounts = {
        Role.ADMIN: make.account(Role.ADMIN),
        Role.AUDITOR: make.account(Role.AUDITOR),
        Role.CASEWORKER: make.account(Role.CASEWORKER, centre=centre_in),
        Role.FACILITY: make.account(Role.FACILITY, facility=facility_in),
    }
    other_account = make.account(Role.FACILITY, facility=facility_out, display_name=f"{FOREIGN_MARK}職員")

    def report(child, facility, author):
        r = MonthlyReport(child=child, facility=facility, period=dt.date(2026, 10, 1),
                          status=ReportStatus.SUBMITTED, submitted_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
        db.add(r)
        db.flush()
        db.add(MonthlyReportVersion(report=r, number=1, days_expected=20, days_attended=20,
                                    nothing_special=True, author_id=author.id,
                                    submitted_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC)))
        db.flush()
        return r

    report(child_in, facility_in, accounts[Role.FACILITY])
    report_out = report(child_out, facility_out, other_account)
    # Urgent reports and messages (F-URGENT, F-MSG): one in scope, and foreign ones that must not show.
    from webapp.messages.models import Message, Side
    from webapp.urgent.models import UrgentCategory, UrgentReport

    def urgent(child, facility, author, text):
        u = UrgentReport(facility_id=facility.id, centre_id=facility.centre_id, child_id=child.id if child else None,
                         category=UrgentCategory.OTHER, description=text, reported_by_id=author.id,
                         observed_at=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
        db.add(u)
        db.flush()
        return u

    urgent(child_in, facility_in, accounts[Role.FACILITY], "見守り中")
    urgent_out = urgent(child_out, facility_out, other_account, f"{FOREIGN_MARK}の連絡")
    urgent(None, facility_out, other_account, f"{FOREIGN_MARK}の施設全体の連絡")
    for child, facility, author in ((child_in, facility_in, accounts[Role.FACILITY]),
                                    (child_out, facility_out, other_account)):
        db.add(Message(child_id=child.id, facility_id=facility.id, author_id=author.id, side=Side.FACILITY,
                       body=f"{child.family_name}の連絡"))
    db.flush()
    # Alerts (F-ALERT): one in scope, one foreign.
    make.alert(child_in)
    alert_out = make.alert(child_out)
    # Notices (F-NOTICE): one for every facility, and one for junior highs only (facility_in is an elementary school).
    from webapp.notices.models import Notice, NoticeKind

    def notice(title, types):
        n = Notice(kind=NoticeKind.GENERAL, title=title, body=title, audience_all=not types, audience_types=types,
                   publish_from=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), author_id=accounts[Role.ADMIN].id)
        db.add(n)
        db.flush()
        return n

    notice("全施設へのお知らせ", "")
    notice_out = notice(f"{FOREIGN_MARK}のお知らせ", "junior_high")
    foreign_ids = {
        "notice_id": notice_out.id,
        "alert_id": alert_out.id,
        "child_id": child_out.id,
        "report_id": report_out.id,
        "urgent_id": urgent_out.id,
        "facility_id": facility_out.id,
        "centre_id": centre_out.id,
        "account_id": other_account.id,
        "number": 1,
        "period": "2026-10",
        "code": "ja",
    }
    return accounts, foreign_ids


def swept_views(app):
    """(route name, pattern, request method or None, permission) for every routed view."""
    introspector = app.app.registry.introspector
    patterns = {i["introspectable"]["name"]: i["introspectable"]["pattern"]
                for i in introspector.get_category("routes")}
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        route = intr["route_name"]
        if route is None or route.startswith("__static"):
            continue
        permission = next((r["value"] for r in view["related"] if r.category_name == "permissions"), None)
        if permission == NO_PERMISSION_REQUIRED:
            continue
        methods = intr["request_methods"]
        method = methods if isinstance(methods, str) else (sorted(methods)[0] if methods else None)
        yield route, patterns[route], method, permission


# Placeholders that name no object (a help topic, a day, a manual's role): any valid value will do.
PLAIN_PLACEHOLDERS = {"topic": "index", "day": "2026-11-20", "role": "facility"}


def fill(pattern: str, ids: dict) -> str:
    ids = {**PLAIN_PLACEHOLDERS, **ids}
    return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: str(ids[m.group(1)]), pattern)


@pytest.mark.req("F-ROLE", "S-WEB")
@pytest.mark.parametrize("role", list(Role))
def test_no_route_reaches_an_object_outside_the_users_scope(app, world, role, db):
    accounts, foreign_ids = world
    login(app, accounts[role])
    token = re.search(r'name="csrf_token" value="([^"]+)"', app.get("/account/password").text).group(1)
    failures = []
    for route, pattern, method, permission in swept_views(app):
        url = fill(pattern, foreign_ids)
        has_object = "{" in pattern and not set(re.findall(r"\{(\w+)", pattern)) <= {"period", "code", *PLAIN_PLACEHOLDERS}
        allowed = role_has(role, permission)
        for verb in ([method] if method else ["GET", "POST"]):
            if verb == "POST":
                response = app.post(url, {"csrf_token": token}, status="*", expect_errors=True)
            else:
                response = app.get(url, status="*", expect_errors=True)
            status = response.status_int
            if not allowed:
                if status != 403:
                    failures.append((route, verb, status, "expected 403: role lacks the permission"))
            elif has_object and role != Role.ADMIN:
                # Admins see every object by design; everyone else must get 404.
                if status != 404:
                    failures.append((route, verb, status, "expected 404: object outside scope"))
            elif (status == 200 and FOREIGN_MARK in response.text and role != Role.ADMIN
                  # The logs are ward-wide by design: auditing means reading every organisation's trail (S-AUDIT).
                  and not route.startswith("logs.")):
                failures.append((route, verb, status, "page shows an object outside scope"))
            elif status >= 500:
                failures.append((route, verb, status, "server error"))
    assert failures == []


def test_anonymous_requests_to_protected_routes_go_to_login(app, world):
    _accounts, foreign_ids = world
    for route, pattern, method, _permission in swept_views(app):
        if method in (None, "GET"):
            response = app.get(fill(pattern, foreign_ids), status="*")
            assert response.status_int == 303 and "/login" in response.location, route
