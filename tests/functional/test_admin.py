"""Admin screens: centres, facilities, accounts (F-ADMIN, S-AUTH, F-ROLE)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import login
from webapp.accounts.models import Account, LoginSession
from webapp.authz import Role
from webapp.organisations.models import Centre, CentreKind, Facility, FacilityType
from webapp.organisations.services import CentreService

pytestmark = pytest.mark.req("F-ADMIN")

ADMIN_PAGES = ["/admin", "/admin/centres", "/admin/centres/new", "/admin/facilities", "/admin/facilities/new",
               "/admin/accounts", "/admin/accounts/new", "/admin/import"]


@pytest.fixture
def admin(make, login_as):
    account = make.account(Role.ADMIN)
    login_as(account)
    return account


def _errors(response) -> dict[str, str]:
    return {e["id"].removesuffix("-error"): e.get_text() for e in response.html.select(".field-error")}


@pytest.mark.req("F-ROLE")
@pytest.mark.parametrize("role", [Role.FACILITY, Role.CASEWORKER, Role.AUDITOR])
def test_only_admins_reach_admin_pages(app, make, login_as, role):
    centre = make.centre()
    facility = make.facility(centre=centre)
    target = make.account(Role.FACILITY, facility=facility)
    login_as(make.account(role))
    for path in ADMIN_PAGES + [f"/admin/centres/{centre.id}", f"/admin/facilities/{facility.id}",
                               f"/admin/accounts/{target.id}", f"/admin/accounts/{target.id}/reset-password"]:
        app.get(path, status=403)
    token = re.search(r'name="csrf_token" value="([^"]+)"', app.get("/account/password").text).group(1)
    app.post(f"/admin/accounts/{target.id}/reset-password", {"csrf_token": token}, status=403)


def test_admin_dashboard_links_and_counts(app, make, admin):
    make.child()
    page = app.get("/admin")
    for path in ("/admin/centres", "/admin/facilities", "/admin/accounts", "/admin/import", "/children"):
        assert page.html.select_one(f'a[href$="{path}"]') is not None
    assert "見守り中 1人" in page.text


def test_centre_create_edit_duplicate_and_delete(app, db, admin):
    form = app.get("/admin/centres/new").forms["centre-form"]
    form["code"], form["name"], form["kind"] = "K01", "髙﨑子ども家庭支援センター𠮷", CentreKind.SUPPORT_CENTRE.value
    assert "done=created" in form.submit(status=303).location
    centre = db.scalar(sa.select(Centre).where(Centre.code == "K01"))
    assert centre.name == "髙﨑子ども家庭支援センター𠮷" and centre.active
    assert "髙﨑子ども家庭支援センター𠮷" in app.get("/admin/centres").text

    # Duplicate code: a field error beside the field, input kept, no 500.
    form = app.get("/admin/centres/new").forms["centre-form"]
    form["code"], form["name"], form["kind"] = "K01", "二つ目", CentreKind.GUIDANCE_CENTRE.value
    response = form.submit(status=400)
    assert "既に使われています" in _errors(response)["code"]
    assert response.forms["centre-form"]["name"].value == "二つ目"

    # Bad input of every kind is reported per field.
    form = response.forms["centre-form"]
    form["code"], form["name"] = "コード!", "x" * 101
    form["kind"].force_value("nonsense")
    errors = _errors(form.submit(status=400))
    assert "半角英数字" in errors["code"] and "100文字以内" in errors["name"] and "選択肢" in errors["kind"]

    form = app.get(f"/admin/centres/{centre.id}").forms["centre-form"]
    form["name"], form["kind"] = "児童相談所", CentreKind.GUIDANCE_CENTRE.value
    form.submit(status=303)
    db.refresh(centre)
    assert (centre.name, centre.kind) == ("児童相談所", CentreKind.GUIDANCE_CENTRE)

    centre_id = centre.id
    delete = [f for f in app.get(f"/admin/centres/{centre_id}").forms.values() if "action" in f.fields][0]
    assert "done=deleted" in delete.submit(status=303).location
    db.expire_all()
    assert db.get(Centre, centre_id) is None


def test_referenced_centre_and_facility_are_disabled_not_deleted(app, make, db, admin):
    centre = make.centre()
    facility = make.facility(centre=centre)
    make.child(facility=facility)
    db.commit()
    for path, model, obj in ((f"/admin/centres/{centre.id}", Centre, centre),
                             (f"/admin/facilities/{facility.id}", Facility, facility)):
        delete = [f for f in app.get(path).forms.values() if "action" in f.fields][0]
        response = delete.submit(status=200)
        assert "削除せずに無効にしました" in response.text
        db.expire_all()
        assert db.get(model, obj.id).active is False
    assert "児童 1件" in response.text


def test_duplicate_code_race_is_a_field_error(db, make, monkeypatch):
    """Two admins saving the same code at once: the database's unique key decides, politely."""
    make.centre(code="RACE")
    service = CentreService(db)
    monkeypatch.setattr(service, "code_taken", lambda *a, **k: False)
    centre, errors = service.save(None, {"code": "RACE", "name": "後から", "kind": CentreKind.SUPPORT_CENTRE,
                                         "active": True})
    assert centre is None and "既に使われています" in str(errors["code"])
    assert db.scalar(sa.select(sa.func.count()).select_from(Centre).where(Centre.code == "RACE")) == 1


def test_facility_crud_search_and_pagination(app, make, db, admin):
    centre = make.centre(name="北沢センター")
    form = app.get("/admin/facilities/new").forms["facility-form"]
    form["code"], form["name"] = "007", "=HYPERLINK(\"x\")保育園"
    form["facility_type"], form["centre_id"] = FacilityType.NURSERY.value, str(centre.id)
    form.submit(status=303)
    facility = db.scalar(sa.select(Facility).where(Facility.code == "007"))
    # Leading zeros and formula-like text are kept exactly as typed.
    assert facility.name == "=HYPERLINK(\"x\")保育園" and facility.centre_id == centre.id

    form = app.get(f"/admin/facilities/{facility.id}").forms["facility-form"]
    form["centre_id"].force_value("999999")
    assert "選択肢" in _errors(form.submit(status=400))["centre_id"]

    for i in range(55):
        make.facility(centre=centre, code=f"P{i:03d}", name=f"ページ小学校{i}")
    db.commit()
    first = app.get("/admin/facilities", {"q": "ページ"})
    assert len(first.html.select("tbody tr")) == 50 and "55件中" in first.text
    assert len(app.get("/admin/facilities", {"q": "ページ", "page": "2"}).html.select("tbody tr")) == 5
    assert "HYPERLINK" in app.get("/admin/facilities", {"q": "007"}).text


@pytest.mark.req("S-AUTH")
def test_new_account_temporary_password_works_once_and_forces_a_change(app, make, db, admin):
    facility = make.facility()
    db.commit()
    form = app.get("/admin/accounts/new").forms["account-form"]
    form["login"], form["display_name"], form["role"] = "sato.ichiro", "佐藤 一郎", Role.FACILITY.value
    form["facility_id"] = str(facility.id)
    page = form.submit(status=200)
    password = page.html.select_one("code.temporary-password").get_text()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)
    account = db.scalar(sa.select(Account).where(Account.login == "sato.ichiro"))
    assert account.must_change_password and password not in account.password_hash
    assert account.facility_id == facility.id and account.centre_id is None
    # Shown once: the account's pages never show it again.
    assert password not in app.get(f"/admin/accounts/{account.id}").text

    response = login(app, account, password)
    assert response.location.endswith("/account/password")
    form = app.get("/account/password").forms["password-form"]
    form["current_password"], form["new_password"], form["confirm_password"] = password, "my-own-secret-77", "my-own-secret-77"
    form.submit(status=303)
    app.get("/children", status=200)

    app.reset()
    form = app.get("/login").forms[0]
    form["login"], form["password"] = "sato.ichiro", password
    form.submit(status=400)  # the temporary password no longer works
    login(app, account, "my-own-secret-77")


def test_account_organisation_must_fit_the_role_and_login_is_unique(app, make, db, admin):
    centre = make.centre()
    existing = make.account(Role.CASEWORKER, centre=centre, login="taken.name")
    db.commit()
    form = app.get("/admin/accounts/new").forms["account-form"]
    form["login"], form["display_name"], form["role"] = "TAKEN.name", "𠮷田 😀", Role.CASEWORKER.value
    errors = _errors(form.submit(status=400))
    assert "既に使われています" in errors["login"]
    assert "所属センター" in errors["centre_id"]

    form["login"] = "a b"
    response = form.submit(status=400)
    assert "半角英数字" in _errors(response)["login"]
    assert response.forms["account-form"]["display_name"].value == "𠮷田 😀"

    # Admins belong to no organisation: a chosen centre is ignored, not stored.
    form = app.get("/admin/accounts/new").forms["account-form"]
    form["login"], form["display_name"], form["role"] = "new.admin", "管理 花子", Role.ADMIN.value
    form["centre_id"] = str(centre.id)
    form.submit(status=200)
    created = db.scalar(sa.select(Account).where(Account.login == "new.admin"))
    assert created.centre_id is None and created.role == Role.ADMIN
    assert existing.login == "taken.name"


@pytest.mark.req("S-AUTH")
def test_reset_gives_a_new_temporary_password_and_ends_sessions(app, make, db, admin, wsgi_app):
    from webtest import TestApp

    target = make.account(Role.CASEWORKER)
    db.commit()
    other_browser = TestApp(wsgi_app, extra_environ=dict(app.extra_environ))
    login(other_browser, target)
    other_browser.get("/children", status=200)

    form = [f for f in app.get(f"/admin/accounts/{target.id}/reset-password").forms.values()
         if f.action.endswith("/reset-password")][0]
    password = form.submit(status=200).html.select_one("code.temporary-password").get_text()
    db.expire_all()
    assert db.get(Account, target.id).must_change_password
    assert db.scalar(sa.select(sa.func.count()).select_from(LoginSession)
                     .where(LoginSession.account_id == target.id, LoginSession.ended_at.is_(None))) == 0
    assert other_browser.get("/children").status_int == 303  # logged out
    assert login(other_browser, target, password).location.endswith("/account/password")
    from webapp.audit.models import AuthEvent

    reset = db.scalars(sa.select(AuthEvent).where(AuthEvent.event == "password_reset")).one()
    assert (reset.account_id, reset.actor_id) == (target.id, admin.id)


def test_used_account_is_disabled_not_deleted_and_unused_is_deleted(app, make, db, admin, wsgi_app):
    from webtest import TestApp

    used, unused = make.account(Role.AUDITOR), make.account(Role.AUDITOR)
    used_id, unused_id = used.id, unused.id
    db.commit()
    login(TestApp(wsgi_app, extra_environ=dict(app.extra_environ)), used)
    for account, expected in ((used, 200), (unused, 303)):
        delete = [f for f in app.get(f"/admin/accounts/{account.id}").forms.values() if "action" in f.fields][0]
        response = delete.submit(status=expected)
    db.expire_all()
    assert db.get(Account, unused_id) is None
    assert db.get(Account, used_id).active is False


def test_admin_cannot_disable_or_demote_themselves(app, db, admin):
    form = app.get(f"/admin/accounts/{admin.id}").forms["account-form"]
    form["active"], form["role"] = "0", Role.AUDITOR.value
    errors = _errors(form.submit(status=400))
    assert "自分自身" in errors["active"] and "自分自身" in errors["role"]
    db.expire_all()
    assert db.get(Account, admin.id).active


@pytest.mark.req("S-WEB", "F-UI")
@pytest.mark.parametrize("path", ["/admin/facilities", "/admin/accounts", "/children"])
def test_search_boxes_drop_control_characters_instead_of_failing(app, make, login_as, path):
    """PostgreSQL refuses NUL in a query parameter: a pasted one was a 500 (found by the hostile-input
    sweep on PostgreSQL). The search reads what can be seen of the text."""
    make.facility(name="見守り小学校")
    login_as(make.account(Role.ADMIN))
    assert app.get(path, {"q": "\x00"}).status_int == 200
    page = app.get(path, {"q": "見守り\x00\x01 小学校"})
    assert page.status_int == 200
    assert page.html.find("input", attrs={"name": "q"})["value"] == "見守り 小学校"
