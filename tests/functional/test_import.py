"""CSV import: dry run, all-or-nothing, encodings, accounts without passwords (F-IMPORT)."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import sqlalchemy as sa
from webtest import Upload

from tests.conftest import DEFAULT_NOW, login
from webapp.accounts.models import Account, LoginSession
from webapp.authz import Role
from webapp.children.models import Child, Grade
from webapp.imports.services import ImportService
from webapp.organisations.models import Centre, Facility, FacilityType

pytestmark = pytest.mark.req("F-IMPORT")


@pytest.fixture
def admin(make, login_as):
    account = make.account(Role.ADMIN)
    login_as(account)
    return account


def upload(app, kind, data: bytes, action="dry_run", status=None, filename="data.csv"):
    form = app.get("/admin/import").forms["import-form"]
    form["kind"] = kind
    form["file"] = Upload(filename, data, "text/csv")
    return form.submit("action", value=action, status=status or "*")


def count(db, model, *where):
    db.expire_all()
    return db.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def problems(response) -> list[tuple[str, str, str]]:
    rows = response.html.select(".error-summary tbody tr")
    return [tuple(td.get_text() for td in row.select("td")) for row in rows]


def test_dry_run_changes_nothing_then_import_creates_and_updates(app, db, make, admin):
    make.centre(code="C01", name="古い名前")
    db.commit()
    data = "コード,名称,種別\nC01,北沢子ども家庭支援センター,子ども家庭支援センター\nG01,世田谷児童相談所,児童相談所\n"
    response = upload(app, "centres", data.encode(), "dry_run", 200)
    assert "新規 1件、更新 1件、変更なし 0件" in response.text and "まだ何も変更していません" in response.text
    results = [tuple(td.get_text() for td in tr.select("td")) for tr in response.html.select("table.import-lines tbody tr")]
    assert results == [("2", "C01", "更新"), ("3", "G01", "新規")]
    assert count(db, Centre, Centre.code == "G01") == 0
    assert db.scalar(sa.select(Centre.name).where(Centre.code == "C01")) == "古い名前"

    response = upload(app, "centres", data.encode(), "apply", 200)
    assert "取り込みました。新規 1件、更新 1件" in response.text
    assert db.scalar(sa.select(Centre.name).where(Centre.code == "C01")) == "北沢子ども家庭支援センター"
    assert count(db, Centre, Centre.code == "G01") == 1
    # The same file again changes nothing.
    assert "変更なし 2件" in upload(app, "centres", data.encode(), "apply", 200).text


def test_one_bad_line_means_nothing_is_imported_and_the_line_is_named(app, db, make, admin):
    facility = make.facility(code="F01")
    db.commit()
    data = ("施設コード,氏,名,氏（ふりがな）,名（ふりがな）,学年\n"
            "F01,山田,太郎,やまだ,たろう,小3\n"
            "F01,田中,花子,たなか,はなこ,小9\n"
            "F99,鈴木,一郎,すずき,いちろう,中1\n"
            "F01,佐藤,次郎,sato,じろう,小1\n")
    for action in ("dry_run", "apply"):
        response = upload(app, "children", data.encode(), action, 400)
        assert "1行も取り込みません" in response.text
        found = problems(response)
        assert ("3", "学年", "学年は「小3」「es3」「5歳児（年長）」のように入力してください。") in found
        assert ("4", "施設コード", "施設コード「F99」の施設はありません。") in found
        assert ("5", "氏（ふりがな）", "ふりがなは、ひらがなまたはカタカナで入力してください。") in found
    assert count(db, Child, Child.facility_id == facility.id) == 0


def test_shift_jis_file_from_excel_is_imported_correctly(app, db, make, admin):
    make.centre(code="C01")
    db.commit()
    data = ("コード,名称,種別,センターコード\r\n"
            "F001,髙﨑保育園,保育園,C01\r\n"
            "F002,ｶﾀｶﾅ第二小学校,小学校,C01\r\n").encode("cp932")
    upload(app, "facilities", data, "apply", 200)
    facility = db.scalar(sa.select(Facility).where(Facility.code == "F001"))
    assert facility.name == "髙﨑保育園" and facility.facility_type == FacilityType.NURSERY
    assert db.scalar(sa.select(Facility.name).where(Facility.code == "F002")) == "ｶﾀｶﾅ第二小学校"


def test_utf8_bom_emoji_rare_kanji_and_formula_like_values_round_trip(app, db, make, admin):
    facility = make.facility(code="007")
    db.commit()
    data = ("\ufeffID,施設コード,氏,名,氏（ふりがな）,名（ふりがな）,学年,クラス,見守り開始日\n"
            ",007,𠮷田,=cmd|' /C calc'!A0,ヨシダ,はな,小学3年,=1+2,2026/4/1\n"
            ",007,髙橋,@SUM(A1),たかはし,ゆう,5歳児（年長）,+81-3,\n").encode("utf-8")
    response = upload(app, "children", data, "apply", 200)
    assert "新規 2件" in response.text
    yoshida = db.scalar(sa.select(Child).where(Child.facility_id == facility.id, Child.family_name == "𠮷田"))
    assert yoshida.given_name == "=cmd|' /C calc'!A0" and yoshida.class_name == "=1+2"
    assert yoshida.family_name_kana == "よしだ" and yoshida.grade == Grade.ES3
    assert yoshida.monitoring_start == dt.date(2026, 4, 1) and yoshida.centre_id == facility.centre_id
    takahashi = db.scalar(sa.select(Child).where(Child.family_name == "髙橋"))
    assert takahashi.given_name == "@SUM(A1)" and takahashi.class_name == "+81-3"
    assert takahashi.monitoring_start == dt.date(2026, 11, 26)  # blank: today (the test clock)


def test_children_are_updated_by_natural_key_or_id(app, db, make, admin):
    facility = make.facility(code="F01")
    other = make.facility(code="F02")
    child = make.child(facility=facility, family_name="山田", given_name="太郎", family_name_kana="やまだ",
                       given_name_kana="たろう", grade=Grade.ES3, class_name="3-1")
    moved = make.child(facility=facility, family_name="川口", given_name="花", family_name_kana="かわぐち",
                       given_name_kana="はな")
    db.commit()
    data = ("ID,施設コード,氏,名,氏（ふりがな）,名（ふりがな）,学年,見守り終了日\n"
            f",F01,山田,太郎,ヤマダ,タロウ,小4,2026/6/30\n"
            f"{moved.id},F02,川口,花,かわぐち,はな,小3,\n").encode()
    response = upload(app, "children", data, "apply", 200)
    assert "更新 2件" in response.text
    db.expire_all()
    assert (child.grade, child.monitoring_end) == (Grade.ES4, dt.date(2026, 6, 30))
    assert child.monitoring_start == dt.date(2026, 4, 1)  # no start column: kept, not "today"
    assert child.class_name == "3-1"  # no class column in the file: kept
    assert moved.facility_id == other.id  # a transfer by id
    response = upload(app, "children", f"ID,施設コード,氏,名,氏（ふりがな）,名（ふりがな）,学年\n99999999,F01,a,b,あ,い,小1\n".encode(),
                      "dry_run", 400)
    assert "ID「99999999」の児童はいません" in response.text


def test_duplicate_lines_in_one_file_are_errors(app, db, admin):
    data = "コード,名称,種別\nC07,a,児童相談所\nC07,b,児童相談所\n".encode()
    response = upload(app, "centres", data, "apply", 400)
    assert any(line == "3" and "2行目と同じコード" in message for line, _c, message in problems(response))
    assert count(db, Centre, Centre.code == "C07") == 0


@pytest.mark.req("S-AUTH")
def test_accounts_import_refuses_passwords_and_issues_temporary_ones_once(app, db, make, admin, wsgi_app):
    from webtest import TestApp

    facility = make.facility(code="F01")
    centre = make.centre(code="C01")
    leaver = make.account(Role.CASEWORKER, centre=centre, login="leaver")
    db.commit()
    other_browser = TestApp(wsgi_app, extra_environ=dict(app.extra_environ))
    login(other_browser, leaver)

    refused = upload(app, "accounts", "ログインID,氏名,役割,パスワード\nx.y,a,施設職員,secret123\n".encode(), "dry_run", 400)
    assert "パスワードの列は取り込めません" in refused.text

    data = ("ログインID,氏名,役割,所属センターコード,所属施設コード,状態\n"
            "new.staff,新人 職員,施設職員,,F01,有効\n"
            "leaver,退職 者,センター職員,C01,,無効\n"
            "no.org,所属なし,センター職員,,,\n")
    response = upload(app, "accounts", data.encode(), "apply", 400)
    assert ("4", "所属センターコード", "センター職員には所属センターを指定してください。") in problems(response)
    assert count(db, Account, Account.login == "new.staff") == 0

    response = upload(app, "accounts", data.replace("no.org,所属なし,センター職員,,,\n", "").encode(), "apply", 200)
    issued = {tr.select("td")[0].get_text(): tr.select("td")[1].get_text()
              for tr in response.html.select("table.temporary-passwords tbody tr")}
    assert list(issued) == ["new.staff"]  # only new accounts get one
    account = db.scalar(sa.select(Account).where(Account.login == "new.staff"))
    assert account.facility_id == facility.id and account.must_change_password
    assert issued["new.staff"] not in account.password_hash
    assert login(app, account, issued["new.staff"]).location.endswith("/account/password")

    db.expire_all()
    assert db.get(Account, leaver.id).active is False
    assert count(db, LoginSession, LoginSession.account_id == leaver.id, LoginSession.ended_at.is_(None)) == 0
    assert other_browser.get("/children").status_int == 303


def test_missing_file_kind_or_oversized_file_is_a_message_not_a_500(app, db, admin):
    token = app.get("/admin/import").forms["import-form"]["csrf_token"].value
    response = app.post("/admin/import", {"csrf_token": token, "kind": "nonsense"}, status=400)
    assert "種類を選んでください" in response.text and "CSVファイルを選んでください" in response.text
    big = b"a" * (5 * 1024 * 1024 + 10)
    assert "ファイルが大きすぎます" in upload(app, "centres", big, "dry_run", 400).text
    assert "CSVファイルではない" in upload(app, "centres", b"\x00\x01\x02binary", "dry_run", 400).text
    assert "ファイルが空です" in upload(app, "centres", b"", "dry_run", 400).text
    response = upload(app, "centres", "コード,名称,種別\nC1,a\n".encode(), "dry_run", 400)
    assert ("2", "", "列の数が見出し行と違います（見出し 3 列、この行 2 列）。") in problems(response)


def test_page_documents_columns_and_offers_sample_files(app, admin):
    page = app.get("/admin/import")
    for header in ("施設コード", "氏（ふりがな）", "ログインID", "センターコード"):
        assert header in page.text
    sample = app.get("/admin/import", {"sample": "children"})
    assert sample.content_type == "text/csv" and sample.body.startswith(b"\xef\xbb\xbf")
    assert sample.body.decode("utf-8-sig").splitlines()[0].startswith("ID,施設コード,氏,名")


def test_five_thousand_children_import_with_few_queries(db, make, engine):
    """Setagaya scale: one file of 5,000 children checks and imports without a query per line."""
    centre = make.centre()
    facilities = [make.facility(centre=centre, code=f"S{i:03d}") for i in range(100)]
    lines = ["施設コード,氏,名,氏（ふりがな）,名（ふりがな）,学年,クラス"]
    for i in range(5000):
        lines.append(f"{facilities[i % 100].code},世田谷,児童{i},せたがや,じどう{i:04d},小{1 + i % 6},{i % 4 + 1}組"
                     .replace(f"じどう{i:04d}", "じどう" + "".join("あいうえおかきくけこ"[int(d)] for d in f"{i:04d}")))
    data = ("\n".join(lines) + "\n").encode()
    statements = []

    def counter(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        started = time.perf_counter()
        service = ImportService(db, today=DEFAULT_NOW.date(), now=DEFAULT_NOW)
        dry = service.run("children", data, apply=False)
        dry_queries = len(statements)
        result = service.run("children", data, apply=True)
        elapsed = time.perf_counter() - started
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    assert dry.ok and result.applied, [p.message for p in result.problems[:3]]
    assert result.counts["create"] == 5000
    assert dry_queries < 10
    # Writing is one INSERT per child (batched where the database allows), but lookups
    # never grow with the file: no SELECT per line.
    selects = [s for s in statements[dry_queries:] if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) < 10
    print(f"5,000 children: dry run + import {elapsed:.2f}s, {len(statements)} statements")
    assert count(db, Child, Child.centre_id == centre.id) == 5000


@pytest.mark.req("F-UI")
def test_import_page_and_its_errors_in_english(app, admin):
    app.get("/locale/en?next=/admin/import")
    page = app.get("/admin/import")
    assert "Check (dry run)" in page.text and "Download a sample CSV" in page.text
    response = upload(app, "centres", "コード,名称,種別\nC1,a\n".encode(), "dry_run", 400)
    assert "The number of columns differs from the header (header 3, this line 2)." in response.text
