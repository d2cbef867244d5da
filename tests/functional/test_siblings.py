"""Siblings (F-SIB): the admin links children; caseworkers see them together, within their scope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from webapp.audit.models import AuditRecord
from webapp.children.siblings import SelfLinkError, SiblingLink, SiblingService

pytestmark = pytest.mark.req("F-SIB")


@pytest.fixture
def family(make):
    centre, other_centre = make.centre(), make.centre()
    older = make.child(facility=make.facility(centre=centre), family_name="兄弟", given_name="一郎")
    younger = make.child(facility=make.facility(centre=centre, name="さくら保育園"), family_name="兄弟",
                         given_name="二郎")
    away = make.child(facility=make.facility(centre=other_centre), family_name="兄弟", given_name="三郎")
    return {"centre": centre, "older": older, "younger": younger, "away": away,
            "caseworker": make.account("caseworker", centre=centre), "admin": make.account("admin")}


def test_links_are_symmetric_idempotent_and_never_to_oneself(db, family):
    service = SiblingService(db)
    older, younger = family["older"], family["younger"]
    assert service.link(younger.id, older.id) is True
    assert service.link(older.id, younger.id) is False  # the same pair, either way round
    assert db.scalar(sa.select(sa.func.count()).select_from(SiblingLink)) == 1
    assert service.sibling_ids(older.id) == {younger.id} and service.sibling_ids(younger.id) == {older.id}
    with pytest.raises(SelfLinkError):
        service.link(older.id, older.id)
    assert service.unlink(older.id, younger.id) is True
    assert service.sibling_ids(older.id) == set()


def test_caseworker_sees_siblings_in_scope_and_only_a_mark_for_others(app, db, family, login_as):
    service = SiblingService(db)
    service.link(family["older"].id, family["younger"].id)
    service.link(family["older"].id, family["away"].id)
    login_as(family["caseworker"])
    page = app.get(f"/children/{family['older'].id}")
    section = page.html.select_one("#siblings-heading").parent
    assert "兄弟 二郎" in section.text and "さくら保育園" in section.text
    assert "三郎" not in page.text
    assert "他センター所管のきょうだいあり" in section.text


def test_facility_staff_do_not_see_siblings(app, db, family, make, login_as):
    SiblingService(db).link(family["older"].id, family["younger"].id)
    login_as(make.account("facility", facility=family["older"].facility))
    page = app.get(f"/children/{family['older'].id}")
    assert page.html.select_one("#siblings-heading") is None and "二郎" not in page.text


def test_admin_links_and_unlinks_on_the_siblings_screen(app, db, family, login_as):
    login_as(family["admin"])
    url = f"/admin/children/{family['older'].id}/siblings"
    form = app.get(url).forms["sibling-link-form"]
    form["sibling_id"] = str(family["away"].id)
    page = form.submit(status=303).follow()
    assert "兄弟 三郎" in page.text
    # Twice is harmless.
    form = page.forms["sibling-link-form"]
    form["sibling_id"] = str(family["away"].id)
    form.submit(status=303)
    assert SiblingService(db).sibling_ids(family["older"].id) == {family["away"].id}
    unlink = [f for f in app.get(url).forms.values() if "action" in f.fields and f["action"].value == "unlink"][0]
    unlink.submit(status=303)
    assert SiblingService(db).sibling_ids(family["older"].id) == set()


@pytest.mark.parametrize(("value", "message"), [
    ("", "入力してください。"),
    ("𠮷", "半角の整数で入力してください。"),
    ("-3", "1から999999までの数を入力してください。"),
    ("999999", "この児童IDの児童は登録されていません。"),
    ("self", "同じ児童どうしはきょうだいにできません。"),
])
def test_bad_sibling_ids_get_japanese_errors_and_keep_the_input(app, family, login_as, value, message):
    login_as(family["admin"])
    child = family["older"]
    value = str(child.id) if value == "self" else value
    form = app.get(f"/admin/children/{child.id}/siblings").forms["sibling-link-form"]
    form["sibling_id"] = value
    response = form.submit(status=400)
    assert response.html.select_one("#sibling_id-error").get_text(strip=True) == message
    assert response.forms["sibling-link-form"]["sibling_id"].value == value


def test_viewing_the_siblings_page_is_recorded(app, db, family, login_as):
    login_as(family["admin"])
    app.get(f"/admin/children/{family['older'].id}/siblings")
    view = db.scalar(sa.select(AuditRecord).where(AuditRecord.action == "view",
                                                  AuditRecord.entity_id == str(family["older"].id)))
    assert view is not None and view.actor == family["admin"].login


def test_only_admins_link_and_unknown_children_are_404(app, family, make, login_as):
    login_as(family["caseworker"])
    app.get(f"/admin/children/{family['older'].id}/siblings", status=403)
    login_as(family["admin"])
    app.get("/admin/children/999999/siblings", status=404)
