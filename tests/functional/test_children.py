"""The child register: scoped list, search, paging, register and edit (F-CHILD, F-ROLE, S-MINDATA)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.authz import Role
from webapp.children.models import Child, Grade

pytestmark = pytest.mark.req("F-CHILD")


def _fill(form, **values):
    for name, value in values.items():
        form[name] = value
    return form


def test_caseworker_registers_a_child_with_katakana_kana_stored_as_hiragana(app, make, db, login_as):
    centre = make.centre()
    facility = make.facility(centre=centre, name="世田谷第一小学校")
    caseworker = make.account(Role.CASEWORKER, centre=centre)
    login_as(caseworker)
    form = app.get("/children/new").forms["child-form"]
    _fill(form, facility_id=str(facility.id), family_name="髙𠮷", given_name="﨑子😀",
          family_name_kana="タカヨシ", given_name_kana="ｻｷｺ", grade="es3", class_name="3年2組",
          monitoring_start="2026-04-01")
    response = form.submit()
    assert response.status_int == 303 and "done=created" in response.location
    child = db.scalar(sa.select(Child).where(Child.family_name == "髙𠮷"))
    assert (child.given_name, child.family_name_kana, child.given_name_kana) == ("﨑子😀", "たかよし", "さきこ")
    assert child.grade == Grade.ES3 and child.centre_id == centre.id and child.facility_id == facility.id
    page = response.follow()
    assert "登録しました" in page.text and "髙𠮷 﨑子😀" in page.text


def test_bad_input_gets_japanese_errors_beside_fields_and_keeps_input(app, make, login_as):
    centre = make.centre()
    facility = make.facility(centre=centre)
    login_as(make.account(Role.CASEWORKER, centre=centre))
    form = app.get("/children/new").forms["child-form"]
    _fill(form, facility_id=str(facility.id), family_name="山" * 51, given_name="花子",
          family_name_kana="yamada", given_name_kana="はなこ", grade="es3",
          monitoring_start="2026-04-10", monitoring_end="2026-04-01")
    response = form.submit(status=400)
    errors = {e["id"]: e.get_text() for e in response.html.select(".field-error")}
    assert "50文字以内" in errors["family_name-error"]
    assert "ひらがなまたはカタカナ" in errors["family_name_kana-error"]
    assert "開始日以降" in errors["monitoring_end-error"]
    form = response.forms["child-form"]
    assert form["family_name"].value == "山" * 51 and form["family_name_kana"].value == "yamada"
    assert form["facility_id"].value == str(facility.id)


def test_unknown_facility_and_grade_are_field_errors_not_500(app, make, login_as):
    centre = make.centre()
    login_as(make.account(Role.CASEWORKER, centre=centre))
    token = app.get("/children/new").forms["child-form"]["csrf_token"].value
    response = app.post("/children/new", {"csrf_token": token, "facility_id": "999999", "grade": "小9",
                                          "family_name": "a", "given_name": "b", "family_name_kana": "あ",
                                          "given_name_kana": "い", "monitoring_start": "2026-02-30",
                                          "facility_code": ""}, status=400)
    errors = {e["id"]: e.get_text() for e in response.html.select(".field-error")}
    assert "選択肢から" in errors["facility_id-error"]
    assert "学年は" in errors["grade-error"]
    assert "存在しない日付" in errors["monitoring_start-error"]


def test_caseworker_can_register_at_another_districts_facility_by_code(app, make, db, login_as):
    mine, other = make.centre(), make.centre()
    far = make.facility(centre=other, code="FAR01")
    login_as(make.account(Role.CASEWORKER, centre=mine))
    page = app.get("/children/new")
    assert far.name not in page.text  # the list shows the own district only
    form = _fill(page.forms["child-form"], facility_code="FAR01", family_name="遠藤", given_name="一郎",
                 family_name_kana="えんどう", given_name_kana="いちろう", grade="jh1")
    form.submit(status=303)
    child = db.scalar(sa.select(Child).where(Child.family_name == "遠藤"))
    # The caseworker's own centre stays responsible, wherever the child goes to school.
    assert child.facility_id == far.id and child.centre_id == mine.id


def test_edit_round_trip_and_out_of_scope_child_is_404(app, make, db, login_as):
    mine, other = make.centre(), make.centre()
    child = make.child(centre=mine, facility=make.facility(centre=mine))
    foreign = make.child(facility=make.facility(centre=other))
    login_as(make.account(Role.CASEWORKER, centre=mine))
    form = app.get(f"/children/{child.id}/edit").forms["child-form"]
    assert form["given_name"].value == child.given_name
    _fill(form, grade="es4", class_name="4年1組", monitoring_end="2027-03-31")
    form.submit(status=303)
    db.refresh(child)
    assert (child.grade, child.class_name, child.monitoring_end) == (Grade.ES4, "4年1組", dt.date(2027, 3, 31))

    app.get(f"/children/{foreign.id}/edit", status=404)
    token = form["csrf_token"].value
    app.post(f"/children/{foreign.id}/edit", {"csrf_token": token, "family_name": "乗っ取り"}, status=404)
    db.refresh(foreign)
    assert foreign.family_name != "乗っ取り"


@pytest.mark.req("F-ROLE")
def test_facility_staff_see_their_children_but_cannot_register_or_edit(app, make, login_as):
    facility = make.facility()
    own = make.child(facility=facility, family_name="自園")
    other = make.child(family_name="他園")
    login_as(make.account(Role.FACILITY, facility=facility))
    page = app.get("/children")
    assert "自園" in page.text and "他園" not in page.text
    assert "児童を登録" not in page.text
    app.get("/children/new", status=403)
    app.get(f"/children/{own.id}/edit", status=403)
    app.get(f"/children/{other.id}/edit", status=403)


@pytest.mark.req("F-ROLE")
def test_auditor_cannot_see_the_register(app, make, login_as):
    login_as(make.account(Role.AUDITOR))
    app.get("/children", status=403)


def test_list_is_sorted_by_kana_and_searchable_by_name_kana_and_facility(app, make, login_as):
    centre = make.centre()
    school = make.facility(centre=centre, name="桜小学校")
    nursery = make.facility(centre=centre, name="欅保育園")
    make.child(facility=school, family_name="渡辺", family_name_kana="わたなべ", given_name_kana="けん")
    make.child(facility=nursery, family_name="相田", family_name_kana="あいだ", given_name_kana="みき")
    make.child(facility=school, family_name="加藤", family_name_kana="かとう", given_name_kana="ゆい")
    login_as(make.account(Role.CASEWORKER, centre=centre))
    names = [row.select("td")[0].get_text() for row in app.get("/children").html.select("tbody tr")]
    assert [n.split()[0] for n in names] == ["相田", "加藤", "渡辺"]

    def found(q):
        return [row.select("td")[0].get_text().split()[0] for row in app.get("/children", {"q": q}).html.select("tbody tr") if row.select("a")]

    assert found("渡辺") == ["渡辺"]
    assert found("カトウ") == ["加藤"]  # katakana finds the hiragana kana
    assert found("欅") == ["相田"]
    assert found("桜 わた") == ["渡辺"]
    assert found("%") == []  # LIKE wildcards are literal


def test_list_paginates_with_a_constant_number_of_queries(app, make, login_as, engine):
    centre = make.centre()
    facilities = [make.facility(centre=centre) for _ in range(3)]
    login_as(make.account(Role.CASEWORKER, centre=centre))

    def queries_for(path):
        statements = []

        def count(*_args):
            statements.append(1)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            app.get(path)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    make.child(facility=facilities[0])
    make.db.commit()
    few = queries_for("/children")
    for i in range(60):
        make.child(facility=facilities[i % 3], family_name_kana="ん")
    make.db.commit()
    many = queries_for("/children")
    assert many == few
    page1, page2 = app.get("/children"), app.get("/children", {"page": "2"})
    assert len(page1.html.select("tbody tr")) == 50 and len(page2.html.select("tbody tr")) == 11
    assert "61件中" in page1.text
    app.get("/children", {"page": "abc"})  # nonsense page numbers are page 1, not a 500


@pytest.mark.req("F-CHILD", "F-UI")
def test_the_grade_is_shown_in_the_readers_language_and_posted_as_stored(app, make, db, login_as):
    centre = make.centre()
    child = make.child(centre=centre, facility=make.facility(centre=centre), grade=Grade.ES2)
    login_as(make.account(Role.CASEWORKER, centre=centre))
    app.set_cookie("mimamori_locale", "en")
    assert "Elementary 2" in app.get("/children").html.select_one("table").get_text()
    assert "Elementary 2" in app.get(f"/children/{child.id}").html.select_one("dl").get_text()
    form = app.get(f"/children/{child.id}/edit").forms["child-form"]
    options = dict((value, text) for value, _selected, text in form["grade"].options)
    assert options["es2"] == "Elementary 2"
    _fill(form, grade="es4")
    form.submit(status=303)
    db.refresh(child)
    assert child.grade == Grade.ES4
