"""The roll-over screen and what a transfer does to who sees what (F-ROLLOVER, F-ROLE)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from webtest import Upload

from webapp.audit.models import AuditRecord
from webapp.children.models import Grade
from webapp.clock import JST
from webapp.organisations.models import FacilityType
from webapp.rollover.models import RolloverRun

pytestmark = pytest.mark.req("F-ROLLOVER")


@pytest.fixture
def april(clock):
    clock.set(dt.datetime(2027, 4, 2, 9, 0, tzinfo=JST))
    return clock


@pytest.fixture
def world(make):
    centre = make.centre()
    old = make.facility(centre=centre, name="旧小学校", facility_type=FacilityType.ELEMENTARY)
    new = make.facility(centre=centre, name="新小学校", facility_type=FacilityType.ELEMENTARY)
    child = make.child(facility=old, grade=Grade.ES2, family_name="移動", given_name="一郎")
    report = make.report(child, dt.date(2027, 2, 1))
    return {"centre": centre, "old": old, "new": new, "child": child, "report": report,
            "admin": make.account("admin"),
            "old_staff": make.account("facility", facility=old),
            "new_staff": make.account("facility", facility=new),
            "caseworker": make.account("caseworker", centre=centre)}


def _dry_run(app, year, csv_text=None):
    form = app.get("/admin/rollover").forms["rollover-form"]
    form["year"] = str(year)
    if csv_text is not None:
        form["transfers_file"] = Upload("transfers.csv", csv_text.encode("utf-8"), "text/csv")
    return form.submit()


def test_dry_run_then_apply_moves_the_child_and_the_old_facility_loses_it(app, db, world, april, login_as):
    child, report = world["child"], world["report"]
    login_as(world["admin"])
    plan = _dry_run(app, 2027, f"児童ID,移動先施設コード\n{child.id},{world['new'].code}\n")
    row = [tr for tr in plan.html.select("tbody tr") if tr.select_one("th") and "移動 一郎" in tr.text][0]
    assert "小2 → 小3" in row.text and "旧小学校 → 新小学校" in row.text
    db.refresh(child)
    assert child.grade == Grade.ES2  # the dry run changed nothing
    apply = plan.forms["rollover-apply"]
    apply.submit(status=303)
    db.refresh(child)
    assert (child.grade, child.facility_id) == (Grade.ES3, world["new"].id)
    # Audit: the change record names the admin and holds before and after.
    record = db.scalar(sa.select(AuditRecord).where(AuditRecord.entity == "children",
                                                    AuditRecord.entity_id == str(child.id),
                                                    AuditRecord.action == "update"))
    assert record is not None and record.actor == world["admin"].login

    # The old facility no longer sees the child or the report it wrote.
    login_as(world["old_staff"])
    app.get(f"/children/{child.id}", status=404)
    app.get(f"/reports/{report.id}", status=404)
    assert "移動 一郎" not in app.get("/children").text
    # ... nor its daily attendance or its message thread.
    app.get(f"/attendance/children/{child.id}", status=404)
    app.get(f"/children/{child.id}/messages", status=404)
    # The new facility sees the child but not the old facility's report.
    login_as(world["new_staff"])
    assert "移動 一郎" in app.get(f"/children/{child.id}").text
    app.get(f"/reports/{report.id}", status=404)
    # The centre sees the whole history.
    login_as(world["caseworker"])
    page = app.get(f"/children/{child.id}")
    assert "旧小学校" in page.text
    app.get(f"/reports/{report.id}", status=200)


def test_applying_twice_changes_nothing_the_second_time(app, db, world, april, login_as):
    login_as(world["admin"])
    plan = _dry_run(app, 2027)
    plan.forms["rollover-apply"].submit(status=303)
    db.refresh(world["child"])
    assert world["child"].grade == Grade.ES3
    again = _dry_run(app, 2027)
    assert "実行済み" in again.text
    assert "rollover-apply" not in again.forms
    # A replayed apply request is refused with a Japanese message, and nothing moves.
    token = again.forms["rollover-form"]["csrf_token"].value
    refused = app.post("/admin/rollover", {"csrf_token": token, "action": "apply", "year": "2027",
                                           "transfers": ""}, status=400)
    assert "実行済みです" in refused.text
    db.refresh(world["child"])
    assert world["child"].grade == Grade.ES3
    assert db.scalar(sa.select(sa.func.count()).select_from(RolloverRun)) == 1


def test_apply_before_april_is_refused_on_screen(app, db, world, login_as):
    login_as(world["admin"])  # the clock is 2026-11-26
    plan = _dry_run(app, 2027)
    refused = plan.forms["rollover-apply"].submit(status=400)
    assert "2027年4月1日から2028年3月31日までの間に実行できます" in refused.text
    db.refresh(world["child"])
    assert world["child"].grade == Grade.ES2


@pytest.mark.parametrize(("year", "message"), [
    ("", "入力してください。"), ("二〇二七", "半角の整数で入力してください。"), ("1999", "2000から2100までの数を入力してください。"),
    ("-5", "2000から2100までの数を入力してください。"),
])
def test_bad_year_gets_a_japanese_error_and_keeps_the_input(app, world, login_as, year, message):
    login_as(world["admin"])
    form = app.get("/admin/rollover").forms["rollover-form"]
    form["year"] = year
    response = form.submit(status=400)
    assert response.html.select_one("#year-error").get_text(strip=True) == message
    assert response.forms["rollover-form"]["year"].value == year


def test_bad_csv_lines_are_listed_and_block_the_apply(app, world, april, login_as):
    login_as(world["admin"])
    plan = _dry_run(app, 2027, "𠮷,😀\n999999,NOPE\n")
    assert "1行目" in plan.text and "2行目" in plan.text
    assert "rollover-apply" not in plan.forms


def test_binary_upload_is_refused_beside_the_field(app, world, login_as):
    login_as(world["admin"])
    form = app.get("/admin/rollover").forms["rollover-form"]
    form["year"] = "2027"
    form["transfers_file"] = Upload("x.csv", b"\x00\x01\x02binary", "text/csv")
    response = form.submit(status=400)
    assert response.html.select_one("#transfers_file-error") is not None


def test_only_admins_reach_the_rollover(app, world, login_as):
    for who in ("caseworker", "old_staff"):
        login_as(world[who])
        app.get("/admin/rollover", status=403)
