"""The log screens speak in words and Japan time; the codes stay beside them (issue #18 item 9; S-AUDIT, F-UI).

The ``clock`` fixture stands at 2026-11-26 10:00 JST (01:00 UTC).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from tests.conftest import login
from webapp.audit.models import AccessLogEntry, AuditRecord, AuthEvent
from webapp.audit.recorder import append_records, system_actor

UTC = dt.UTC


@pytest.fixture
def auditor(make):
    return make.account("auditor")


def access_row(db, occurred_at, route, path, login="names-user", **kw):
    db.add(AccessLogEntry(occurred_at=occurred_at, login=login, route=route, path=path, method="GET",
                          request_id=f"r-{path}"[:32], status=200, duration_ms=3, **kw))
    db.flush()


@pytest.fixture
def three_requests(db):
    access_row(db, dt.datetime(2026, 11, 26, 1, 0, tzinfo=UTC), "admin.account_edit", "/admin/accounts/3",
               role="admin")
    # 15:30 UTC on the 25th is 00:30 on the 26th in Japan.
    access_row(db, dt.datetime(2026, 11, 25, 15, 30, tzinfo=UTC), "centre.review_queue", "/centre/review")
    # An old record of a route since removed: shown as its code.
    access_row(db, dt.datetime(2026, 11, 25, 15, 0, tzinfo=UTC), "old.failed_logins", "/old")
    db.commit()


def _cells(page, column):
    return [row.select("td")[column] for row in page.html.select("table tbody tr")]


@pytest.mark.req("S-ACCESSLOG", "F-UI")
def test_access_log_names_screens_and_shows_japan_time(app, auditor, three_requests):
    login(app, auditor)
    page = app.get("/logs/access", {"login": "names-user"})
    screens = _cells(page, 5)
    assert [cell.select_one("span[title]").get_text() for cell in screens] == [
        "アカウントの編集", "確認待ちの報告", "old.failed_logins"]
    # The code is still on the page (an auditor searches by it), under the name and as its title.
    assert screens[0].select_one(".raw").get_text() == "admin.account_edit"
    assert screens[0].select_one("span[title]")["title"] == "admin.account_edit"
    assert screens[1].select_one(".raw").get_text() == "centre.review_queue"
    assert screens[2].select_one(".raw") is None  # no name: the code once is enough
    assert "GET /admin/accounts/3" in screens[0].get_text()

    times = [cell.select_one("time") for cell in _cells(page, 0)]
    assert [t.get_text() for t in times] == ["2026-11-26 10:00:00", "2026-11-26 00:30:00", "2026-11-26 00:00:00"]
    assert times[1]["datetime"] == "2026-11-25T15:30:00+00:00"
    assert "2026-11-25T15:30:00+00:00" in times[1]["title"]
    assert [cell.get_text() for cell in _cells(page, 2)] == ["区管理者", "", ""]

    # The screen filter offers names with their codes, and filters by the code.
    option = page.html.select_one('select[name="route"] option[value="admin.account_edit"]')
    assert option.get_text() == "アカウントの編集 (admin.account_edit)"
    page = app.get("/logs/access", {"login": "names-user", "route": "centre.review_queue"})
    assert len(page.html.select("table tbody tr")) == 1


@pytest.mark.req("S-ACCESSLOG", "F-EXPORT")
def test_access_csv_keeps_codes_and_adds_names_and_utc_at_the_end(app, auditor, three_requests):
    login(app, auditor)
    body = app.get("/logs/access", {"login": "names-user", "format": "csv"}).body.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(body)))
    # The columns consumers already read, in their old places...
    assert header[:12] == ["日時（日本時間）", "ログインID", "役割", "所属", "接続元", "メソッド", "画面", "パス",
                           "対象ID", "結果", "処理時間（ミリ秒）", "リクエストID"]
    # ...then the new ones.
    assert header[12:] == ["日時（UTC）", "画面名"]
    by_path = {row[7]: row for row in rows}
    edit = by_path["/admin/accounts/3"]
    assert (edit[0], edit[6], edit[12], edit[13]) == (
        "2026-11-26 10:00:00", "admin.account_edit", "2026-11-26T01:00:00+00:00", "アカウントの編集")
    queue = by_path["/centre/review"]
    assert (queue[0], queue[12], queue[13]) == ("2026-11-26 00:30:00", "2026-11-25T15:30:00+00:00", "確認待ちの報告")
    assert by_path["/old"][13] == "old.failed_logins"


@pytest.mark.req("S-AUDIT", "F-UI")
def test_change_records_name_tables_and_actions_and_show_stored_times_in_japan_time(app, make, db, auditor):
    admin = make.account("admin")
    centre = make.centre(name="名前センター")
    db.commit()
    # A record of a table this version no longer has, by an action it no longer records.
    append_records(db.connection(), system_actor("legacy"), [{
        "action": "purge", "entity": "failed_logins", "entity_id": "7", "child_id": None,
        "before": None, "after": json.dumps({"seen_at": "2026-11-25T15:30:00+00:00"})}])
    db.commit()
    login(app, admin)
    login(app, auditor)

    page = app.get("/logs/changes", {"entity": "centres", "action": "create"})
    row = page.html.select("table.change-records tbody tr")[0]
    cells = row.select("td")
    assert cells[5].select_one("span[title]").get_text() == "作成"
    assert cells[5].select_one(".raw").get_text() == "create"
    assert cells[6].select_one("span[title]").get_text() == "センター"
    assert cells[6].select_one(".raw").get_text() == "centres"
    assert f"ID {centre.id}" in cells[6].get_text()
    # created_at is stored in UTC and shown in Japan time, the stored text as a title.
    stored = {dt_.get_text(): dd for dt_, dd in zip(cells[-1].select("dt"), cells[-1].select("dd"))}
    created = stored["created_at"].select_one("[title]")
    raw = json.loads(db.scalars(sa.select(AuditRecord.after).where(
        AuditRecord.entity == "centres", AuditRecord.entity_id == str(centre.id))).first())["created_at"]
    assert raw.endswith("+00:00") and created["title"] == raw
    expected = dt.datetime.fromisoformat(raw) + dt.timedelta(hours=9)
    assert created.get_text() == expected.strftime("%Y-%m-%d %H:%M:%S")

    page = app.get("/logs/changes", {"entity": "failed_logins"})
    cells = page.html.select("table.change-records tbody tr")[0].select("td")
    assert cells[5].get_text(strip=True) == "purge" and cells[6].get_text(" ", strip=True) == "failed_logins ID 7"
    assert cells[-1].select_one("dd [title]").get_text() == "2026-11-26 00:30:00"

    # The table filter offers names with their codes.
    option = page.html.select_one('select[name="entity"] option[value="monthly_reports"]')
    assert option.get_text() == "月次報告 (monthly_reports)"

    body = app.get("/logs/changes", {"entity": "centres", "format": "csv"}).body.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(body)))
    assert header[:13] == ["記録番号", "日時（日本時間）", "操作者", "役割", "所属", "接続元", "操作", "対象", "対象ID",
                           "児童ID", "変更前", "変更後", "ハッシュ"]
    assert header[13:] == ["日時（UTC）", "操作コード", "対象名"]
    created_row = next(r for r in rows if r[12 + 2] == "create")
    assert (created_row[6], created_row[7], created_row[15]) == ("作成", "centres", "センター")
    record = db.scalars(sa.select(AuditRecord).where(AuditRecord.id == int(created_row[0]))).one()
    assert created_row[13] == record.occurred_at.astimezone(UTC).isoformat()


@pytest.mark.req("S-ACCESSLOG", "S-AUTH", "F-EXPORT")
def test_auth_log_and_csv_keep_event_codes(app, db, auditor, clock):
    db.add(AuthEvent(occurred_at=dt.datetime(2026, 11, 25, 15, 30, tzinfo=UTC), event="login_failed",
                     reason="wrong_password", login="someone", client_address="192.0.2.9"))
    db.commit()
    login(app, auditor)
    page = app.get("/logs/auth", {"login": "someone"})
    cells = page.html.select("table tbody tr")[0].select("td")
    assert cells[0].get_text() == "2026-11-26 00:30:00"
    assert cells[1].select_one("span[title]").get_text() == "ログイン失敗"
    assert cells[1].select_one(".raw").get_text() == "login_failed"
    assert cells[2].select_one("span[title]").get_text() == "パスワード誤り"
    body = app.get("/logs/auth", {"login": "someone", "format": "csv"}).body.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(body)))
    assert header == ["日時（日本時間）", "種別", "理由", "ログインID", "アカウントID", "操作者アカウントID", "接続元",
                      "ブラウザ", "日時（UTC）", "種別コード", "理由コード"]
    assert row[:3] == ["2026-11-26 00:30:00", "ログイン失敗", "パスワード誤り"]
    assert row[8:] == ["2026-11-25T15:30:00+00:00", "login_failed", "wrong_password"]


@pytest.mark.req("F-UI")
def test_english_locale_shows_english_names(app, make, db, auditor, three_requests):
    make.centre()
    db.add(AuthEvent(occurred_at=dt.datetime(2026, 11, 26, 0, 0, tzinfo=UTC), event="account_locked",
                     login="someone"))
    db.commit()
    login(app, auditor)
    app.get("/locale/en", {"next": "/logs/access"})
    page = app.get("/logs/access", {"login": "names-user"})
    screens = _cells(page, 5)
    assert screens[0].select_one("span[title]").get_text() == "Edit account"
    assert screens[0].select_one(".raw").get_text() == "admin.account_edit"
    assert [cell.get_text() for cell in _cells(page, 2)][0] == "Ward administrator"
    option = page.html.select_one('select[name="route"] option[value="centre.review_queue"]')
    assert option.get_text() == "Reports awaiting acknowledgement (centre.review_queue)"

    page = app.get("/logs/auth", {"login": "someone"})
    assert page.html.select("table tbody tr")[0].select("td")[1].select_one("span[title]").get_text() == "Account locked"

    page = app.get("/logs/changes", {"entity": "centres"})
    cells = page.html.select("table.change-records tbody tr")[0].select("td")
    assert cells[5].select_one("span[title]").get_text() == "Created"
    assert cells[6].select_one("span[title]").get_text() == "Centres"
