"""The caseworker's alert screens (F-ALERT): list (open first, filters, scope), alert page,
acknowledge and resolve (note required, input kept, 409 on a stale form), the child page and
the menu badge; facility staff get 403."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from webapp.alerts.forms import RECENT_DAYS
from webapp.alerts.models import Alert, AlertStatus
from webapp.audit.models import AuditRecord


@pytest.fixture
def world(make):
    centre = make.centre()
    facility = make.facility(centre=centre, name="みどり小学校")
    child = make.child(facility=facility, family_name="佐藤", given_name="花子")
    other = make.child(family_name="圏外", given_name="太郎")  # another centre's child
    caseworker = make.account("caseworker", centre=centre, display_name="担当 一郎")
    colleague = make.account("caseworker", centre=centre)
    staff = make.account("facility", facility=facility)
    return {"centre": centre, "facility": facility, "child": child, "other": other, "caseworker": caseworker,
            "colleague": colleague, "staff": staff}


def rows(page):
    return [row.get_text(" ", strip=True) for row in page.html.select("tbody tr")]


@pytest.mark.req("F-ALERT", "F-ROLE")
def test_the_list_shows_the_most_serious_first_and_only_the_centres_children(app, make, world, login_as):
    child = world["child"]
    make.alert(child, "action", dt.date(2026, 10, 1), streak_length=7, status=AlertStatus.RESOLVED,
               resolution_note="訪問済")
    make.alert(child, "caution", dt.date(2026, 11, 2), streak_length=3)
    make.alert(child, "action", dt.date(2026, 11, 10), streak_length=7, status=AlertStatus.ACKNOWLEDGED)
    make.alert(child, "caution", dt.date(2026, 11, 26), streak_length=1, no_contact=True,
               no_contact_day=dt.date(2026, 11, 26))
    make.alert(world["other"])
    login_as(world["caseworker"])

    page = app.get("/alerts")

    found = rows(page)
    # Unresolved first; 要対応 before 注意; 連絡なし before without; resolved last.
    assert [r.split()[:3] for r in found] == [
        ["確認済", "要対応", "佐藤"], ["未対応", "注意", "連絡なし"], ["未対応", "注意", "佐藤"], ["対応済", "要対応", "佐藤"]]
    assert "要対応 佐藤 花子 みどり小学校 2026-11-10 7" in found[0]
    assert "圏外" not in page.text
    # The menu badge counts open alerts in scope: two (the foreign one is not counted).
    assert page.html.select_one(".menu .badge").get_text() == "2"

    filtered = app.get("/alerts", {"status": "resolved"})
    assert [r.split()[0] for r in rows(filtered)] == ["対応済"]
    assert len(rows(app.get("/alerts", {"no_contact": "1"}))) == 1
    assert len(rows(app.get("/alerts", {"level": "action"}))) == 2
    # Unknown filter values mean "all", never an error.
    assert len(rows(app.get("/alerts", {"status": "<script>", "level": "𠮷", "no_contact": "x"}))) == 4


@pytest.mark.req("F-ALERT")
def test_the_list_shows_unresolved_and_recent_alerts_and_pages_back_through_older_ones(
        app, make, world, login_as, monkeypatch):
    """The default list does not grow with the years: every unresolved alert, and resolved ones raised
    in the last 90 days (the test clock stands at 2026-11-26); older resolved ones newest first, a
    page at a time by keyset."""
    monkeypatch.setattr("webapp.alerts.services.PER_PAGE", 2)
    child = world["child"]

    def alert(streak, status):
        return make.alert(child, "caution", streak, status=status, resolution_note="済",
                          raised_at=dt.datetime.combine(streak + dt.timedelta(days=2), dt.time(9), tzinfo=dt.UTC))

    alert(dt.date(2023, 5, 8), AlertStatus.OPEN)  # unresolved for years: still shown first
    alert(dt.date(2026, 8, 31), AlertStatus.RESOLVED)  # raised 2026-09-02, within 90 days
    for streak in (dt.date(2026, 6, 1), dt.date(2025, 1, 6), dt.date(2024, 3, 4), dt.date(2021, 2, 1)):
        alert(streak, AlertStatus.RESOLVED)
    login_as(world["caseworker"])

    page = app.get("/alerts")
    assert [r.split()[0] for r in rows(page)] == ["未対応", "対応済"]
    assert "2023-05-08" in rows(page)[0] and "2026-08-31" in rows(page)[1]
    assert "2件（未解決のすべてと、直近90日に発生した解決済み）" in page.text
    older = page.click(description="それより前の解決済みアラート")
    assert [r.split()[5] for r in rows(older)] == ["2026-06-01", "2025-01-06"]
    assert "90日より前に発生した解決済みのアラートです" in older.text
    older = older.click(description="さらに前へ")
    assert [r.split()[5] for r in rows(older)] == ["2024-03-04", "2021-02-01"]
    assert older.html.select_one("a[rel=next]") is None
    # A cursor that is no alert of the scope, or nonsense, starts from the newest again.
    foreign = make.alert(world["other"], status=AlertStatus.RESOLVED)
    for odd in (str(foreign.id), "x", "９", "99999999999"):
        assert [r.split()[5] for r in rows(app.get("/alerts", {"older": "1", "before": odd}))] == [
            "2026-06-01", "2025-01-06"]
    # The help page's number (a literal in its template) is the list's.
    assert f"直近{RECENT_DAYS}日に発生した対応済" in app.get("/help/alerts").text
    app.set_cookie("mimamori_locale", "en")
    assert "Older resolved alerts" in app.get("/alerts").text


@pytest.mark.req("F-ALERT")
def test_acknowledge_then_resolve_with_a_note(app, db, make, world, login_as):
    alert = make.alert(world["child"])
    login_as(world["caseworker"])

    page = app.get(f"/alerts/{alert.id}")
    assert "佐藤 花子" in page.text and "2026-11-20" in page.text
    response = page.forms[1].submit()  # forms[0] is logout
    assert response.status_int == 303 and "done=acknowledged" in response.location
    page = response.follow()
    assert "確認済にしました。" in page.text and "担当 一郎" in page.text

    form = page.forms[1]
    form["note"] = "施設に電話で確認。家庭訪問の予定。"
    response = form.submit()
    assert response.status_int == 303 and "done=resolved" in response.location
    assert "対応完了にしました。" in response.follow().text

    db.expire_all()
    alert = db.get(Alert, alert.id)
    assert alert.status == AlertStatus.RESOLVED and alert.resolution_note == "施設に電話で確認。家庭訪問の予定。"
    assert alert.acknowledged_by_id == alert.resolved_by_id == world["caseworker"].id
    assert alert.acknowledged_at is not None and alert.resolved_at is not None and alert.version == 3
    actions = db.scalars(sa.select(AuditRecord.action).where(AuditRecord.entity == "alerts",
                                                            AuditRecord.entity_id == str(alert.id))).all()
    assert actions.count("update") == 2 and "view" in actions


@pytest.mark.req("F-ALERT")
@pytest.mark.parametrize("note, message", [
    ("", "対応内容を入力してください。"),
    ("   ", "対応内容を入力してください。"),
    ("あ" * 2001, "2000文字以内で入力してください（現在2001文字）。"),
    ("電話\x07した", "使用できない制御文字が含まれています。"),
])
def test_a_bad_note_is_refused_beside_the_field_and_the_input_kept(app, db, make, world, login_as, note, message):
    alert = make.alert(world["child"])
    login_as(world["caseworker"])
    form = app.get(f"/alerts/{alert.id}").forms[2]
    form["note"] = note

    response = form.submit(status=400)

    assert response.html.select_one("#note-error").get_text() == message
    assert response.html.select_one("#note").get_text() == note
    db.expire_all()
    assert db.get(Alert, alert.id).status == AlertStatus.OPEN


@pytest.mark.req("F-ALERT")
def test_emoji_and_rare_kanji_in_the_note_are_kept(app, db, make, world, login_as):
    alert = make.alert(world["child"])
    login_as(world["caseworker"])
    form = app.get(f"/alerts/{alert.id}").forms[2]
    form["note"] = "𠮷田さん宅を訪問 🙂"
    form.submit(status=303)
    db.expire_all()
    assert db.get(Alert, alert.id).resolution_note == "𠮷田さん宅を訪問 🙂"


@pytest.mark.req("F-ALERT")
def test_a_stale_form_gets_409_and_keeps_the_note(app, db, make, world, login_as):
    alert = make.alert(world["child"])
    login_as(world["caseworker"])
    page = app.get(f"/alerts/{alert.id}")
    # A colleague acknowledges meanwhile.
    db.execute(sa.update(Alert).where(Alert.id == alert.id).values(status=AlertStatus.ACKNOWLEDGED, version=2))
    db.commit()

    stale_ack = page.forms[1].submit(status=409)
    assert "このアラートは表示したあとに更新されました" in stale_ack.text
    form = page.forms[2]
    form["note"] = "訪問した"
    stale = form.submit(status=409)
    assert "このアラートは表示したあとに更新されました" in stale.text
    assert stale.html.select_one("#note").get_text() == "訪問した"
    db.expire_all()
    assert db.get(Alert, alert.id).resolution_note is None

    # A garbled version is stale too, not a server error.
    token = re.search(r'name="csrf_token" value="([^"]+)"', stale.text).group(1)
    app.post(f"/alerts/{alert.id}/resolve", {"csrf_token": token, "note": "x", "version": "二"}, status=409)
    app.post(f"/alerts/{alert.id}/resolve", {"csrf_token": token, "note": "x", "version": "9" * 40}, status=409)


@pytest.mark.req("F-ALERT", "F-ROLE")
def test_out_of_scope_alerts_are_404_and_facility_staff_get_403(app, make, world, login_as):
    foreign = make.alert(world["other"])
    mine = make.alert(world["child"])
    login_as(world["caseworker"])
    app.get(f"/alerts/{foreign.id}", status=404)
    app.get("/alerts/99999999", status=404)
    token = re.search(r'name="csrf_token" value="([^"]+)"', app.get("/alerts").text).group(1)
    app.post(f"/alerts/{foreign.id}/acknowledge", {"csrf_token": token, "version": "1"}, status=404)
    app.post(f"/alerts/{foreign.id}/resolve", {"csrf_token": token, "version": "1", "note": "x"}, status=404)

    login_as(world["staff"])
    app.get("/alerts", status=403)
    app.get(f"/alerts/{mine.id}", status=403)
    page = app.get(f"/children/{world['child'].id}")
    assert "alerts-heading" not in page.text and "badge" not in page.text


@pytest.mark.req("F-ALERT")
def test_the_child_page_lists_the_childs_alerts_for_the_centre(app, make, world, login_as):
    make.alert(world["child"], "caution", dt.date(2026, 11, 25), streak_length=1, no_contact=True)
    login_as(world["caseworker"])
    page = app.get(f"/children/{world['child'].id}")
    section = page.html.select_one("section[aria-labelledby=alerts-heading]")
    assert "注意 連絡なし" in section.get_text(" ", strip=True) and "2026-11-25" in section.get_text()

    empty = make.child(facility=world["facility"])
    login_as(world["caseworker"])
    assert "この児童のアラートはありません。" in app.get(f"/children/{empty.id}").text


def test_the_help_page_for_alerts_is_in_japanese(app, world, login_as):
    login_as(world["caseworker"])
    page = app.get("/help/alerts")
    assert "アラートの見方と対応" in page.text and "開所日の欠席が3日続いたときに作られます。" in page.text


@pytest.mark.req("F-ALERT", "F-DASH")
def test_the_dashboard_lists_unresolved_alerts_after_urgent_reports(app, make, world, login_as):
    child = world["child"]
    make.alert(child, "caution", dt.date(2026, 11, 2), streak_length=3)
    make.alert(child, "action", dt.date(2026, 11, 10), streak_length=7, escalated_at=dt.datetime(2026, 11, 19, tzinfo=dt.UTC))
    make.alert(child, "caution", dt.date(2026, 10, 1), streak_length=1, no_contact=True,
               status=AlertStatus.RESOLVED, resolution_note="家庭訪問で確認")
    make.alert(world["other"], "action")
    login_as(world["caseworker"])

    home = app.get("/").follow()
    section = home.html.select_one("section.dashboard-section.alerts")
    items = [li.get_text(" ", strip=True) for li in section.select("li")]
    # 要対応 (escalated, and it says so) before 注意; resolved and foreign alerts left out.
    assert len(items) == 2
    assert items[0].startswith("要対応 注意から引き上げ") and "佐藤 花子" in items[0]
    assert items[1].startswith("注意")
    assert "圏外" not in section.get_text()


@pytest.mark.req("F-DASH")
def test_the_dashboard_has_no_alerts_section_when_nothing_is_unresolved(app, make, world, login_as):
    make.alert(world["child"], "action", dt.date(2026, 11, 10), status=AlertStatus.RESOLVED,
               resolution_note="解決")
    login_as(world["caseworker"])
    home = app.get("/").follow()
    assert home.html.select_one("section.dashboard-section.alerts") is None


@pytest.mark.req("F-ALERT")
def test_an_escalated_streak_is_acknowledged_and_resolved_once_with_its_history(app, db, make, world, login_as):
    from webapp.alerts.models import AlertEvent

    escalated = dt.datetime(2026, 11, 26, 0, 30, tzinfo=dt.UTC)
    alert = make.alert(world["child"], "action", streak_length=3, current_length=7, no_contact=True,
                       no_contact_day=dt.date(2026, 11, 24), escalated_at=escalated)
    db.add(AlertEvent(alert_id=alert.id, kind="reopened", at=escalated, level="action"))
    db.commit()
    login_as(world["caseworker"])

    page = app.get(f"/alerts/{alert.id}")
    assert page.html.select_one("h1").get_text() == "連続欠席（要対応）：佐藤 花子"
    assert "要対応に引き上げられたため、もう一度確認が必要です。" in page.text
    assert "2026-11-24から（家庭からの連絡なし）" in page.text and "2026-11-26 09:30" in page.text
    page = page.forms[1].submit().follow()
    form = page.forms[1]
    assert form.action.endswith("/resolve") and len(page.forms) == 2  # no second acknowledge
    form["note"] = "家庭訪問で本人の無事を確認"
    page = form.submit().follow()

    assert len(page.forms) == 1  # resolved: nothing left to do
    history = [li.get_text(" ", strip=True) for li in page.html.select("ol.alert-history li")]
    assert [h.split()[2] for h in history] == ["確認済を未対応に戻す（要対応への引き上げのため）（要対応）",
                                               "確認（要対応）", "対応済（要対応）"]
    assert "家庭訪問で本人の無事を確認" in history[-1]
    db.expire_all()
    kinds = [e.kind.value for e in db.scalars(sa.select(AlertEvent).where(AlertEvent.alert_id == alert.id))]
    assert kinds == ["reopened", "acknowledged", "resolved"]
