"""Who may open which child and report (F-ROLE, S-WEB): outside the scope is 404, wrong role 403."""

from __future__ import annotations

import datetime as dt

import pytest

OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def two_centres(make):
    made = {}
    for key in ("x", "y"):
        centre = make.centre()
        facility = make.facility(centre=centre)
        child = make.child(facility=facility)
        made[key] = {
            "centre": centre, "facility": facility, "child": child,
            "report": make.report(child, OCTOBER),
            "staff": make.account("facility", facility=facility),
            "caseworker": make.account("caseworker", centre=centre),
        }
    return made


def pages_of(world):
    child, report, facility = world["child"], world["report"], world["facility"]
    return [
        f"/children/{child.id}",
        f"/reports/{report.id}",
        f"/reports/{report.id}/versions/1",
    ], [
        f"/reports/period/2026-10/children/{child.id}",
    ], [
        f"/centre/facilities/{facility.id}/2026-10",
    ]


@pytest.mark.req("F-ROLE", "S-WEB")
def test_facility_cannot_open_another_facilitys_child_or_report(app, two_centres, login_as):
    login_as(two_centres["x"]["staff"])
    shared, facility_only, _centre_only = pages_of(two_centres["x"])
    for path in shared:
        app.get(path, status=200)
    other_shared, other_facility_only, _ = pages_of(two_centres["y"])
    for path in other_shared + other_facility_only:
        app.get(path, status=404)
    token = app.get(shared[0]).forms[0]["csrf_token"].value
    app.post(other_facility_only[0], {"csrf_token": token, "action": "save", "edit_token": "new"}, status=404)
    # Not the facility's business at all:
    app.get("/centre/submissions", status=403)
    app.get("/export/reports.csv", status=403)


@pytest.mark.req("F-ROLE", "S-WEB")
def test_caseworker_sees_only_their_centres_children(app, two_centres, login_as):
    login_as(two_centres["x"]["caseworker"])
    shared, _facility_only, centre_only = pages_of(two_centres["x"])
    for path in shared + centre_only:
        app.get(path, status=200)
    other_shared, _, other_centre_only = pages_of(two_centres["y"])
    for path in other_shared + other_centre_only:
        app.get(path, status=404)
    token = app.get(shared[0]).forms[0]["csrf_token"].value
    other_report = two_centres["y"]["report"].id
    app.post(f"/reports/{other_report}/acknowledge", {"csrf_token": token}, status=404)
    app.post(f"/reports/{other_report}/return", {"csrf_token": token, "comment": "x"}, status=404)
    matrix = app.get("/centre/submissions")
    assert two_centres["x"]["facility"].name in matrix.text
    assert two_centres["y"]["facility"].name not in matrix.text
    queue = app.get("/centre/review")
    assert two_centres["x"]["child"].name in queue.text
    assert two_centres["y"]["child"].name not in queue.text
    # Caseworkers do not write facility reports.
    app.get("/reports/period/current", status=403)


@pytest.mark.req("F-ROLE")
def test_admin_can_read_children_and_reports_but_not_review(app, make, two_centres, login_as):
    admin = make.account("admin")
    login_as(admin)
    shared, _f, _c = pages_of(two_centres["y"])
    for path in shared:
        page = app.get(path, status=200)
    assert "/acknowledge" not in page.text
    app.get("/centre/submissions", status=403)


@pytest.mark.req("F-ROLE")
def test_auditor_sees_no_children_or_reports(app, make, two_centres, login_as):
    login_as(make.account("auditor"))
    shared, facility_only, centre_only = pages_of(two_centres["x"])
    for path in shared + facility_only + centre_only + ["/export/reports.csv", "/centre/review"]:
        app.get(path, status=403)
