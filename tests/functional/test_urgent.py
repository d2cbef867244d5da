"""Urgent reports end to end (F-URGENT, F-NOTIFY, F-DASH): filing, notification, lifecycle, scope."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.audit.models import AccessLogEntry, AuditRecord
from webapp.mail.models import OutboxMessage
from webapp.urgent.models import UrgentReport, UrgentResponse, UrgentStatus


@pytest.fixture
def world(make):
    centre = make.centre()
    guidance = make.centre(name="テスト児童相談所", kind="guidance_centre")
    facility = make.facility(centre=centre)
    child = make.child(facility=facility, family_name="𠮷田", given_name="花子")
    # A child of the facility watched by the 児童相談所 rather than the facility's district centre.
    guided = make.child(facility=facility, centre=guidance, family_name="鈴木", given_name="一郎")
    other_facility = make.facility(centre=centre)
    other_child = make.child(facility=other_facility, family_name="佐藤", given_name="次郎")
    return {
        "centre": centre, "guidance": guidance, "facility": facility, "child": child, "guided": guided,
        "other_facility": other_facility, "other_child": other_child,
        "staff": make.account("facility", facility=facility),
        "other_staff": make.account("facility", facility=other_facility),
        "caseworker": make.account("caseworker", centre=centre, email="cw1@city.example.jp"),
        "caseworker2": make.account("caseworker", centre=centre, email="cw2@city.example.jp"),
        "no_mail_caseworker": make.account("caseworker", centre=centre),
        "guidance_worker": make.account("caseworker", centre=guidance, email="jisou@city.example.jp"),
        "other_centre_worker": make.account("caseworker", centre=make.centre(), email="other@city.example.jp"),
    }


def file_report(app, child_value, category="injury", description="左腕に複数のあざ。本人は転んだと言う。",
                date="2026-11-26", time="08:30", status=303):
    form = app.get("/urgent/new").forms["urgent-form"]
    form["child"] = str(child_value)
    form["category"] = category
    form["description"] = description
    form["observed_date"] = date
    form["observed_time"] = time
    return form.submit(status=status)


def outbox(db):
    return list(db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.req("F-URGENT", "F-NOTIFY")
def test_facility_files_and_the_centre_is_emailed_without_personal_data(app, db, world, login_as):
    login_as(world["staff"])
    response = file_report(app, world["child"].id)
    assert "done=urgent_sent" in response.location
    page = response.follow()
    assert "緊急連絡を送信しました" in page.text and "未確認" in page.text

    report = db.scalar(sa.select(UrgentReport))
    assert report.child_id == world["child"].id and report.centre_id == world["centre"].id
    assert report.status == UrgentStatus.RECEIVED and report.reported_by_id == world["staff"].id
    assert report.observed_at == dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC)  # 08:30 JST

    mails = outbox(db)
    # Every caseworker of the responsible centre with an address; nobody else.
    assert sorted(m.recipient for m in mails) == ["cw1@city.example.jp", "cw2@city.example.jp"]
    for mail in mails:
        assert mail.template == "urgent_report"
        text = mail.subject + mail.body
        assert "緊急連絡" in mail.subject and "ログインして確認してください" in mail.body
        for personal in ("𠮷田", "花子", "あざ", world["facility"].name, "injury", "けが"):
            assert personal not in text
        assert f"/urgent/{report.id}" in mail.body


@pytest.mark.req("F-URGENT")
def test_facility_wide_report_goes_to_the_facilitys_centre(app, db, world, login_as):
    login_as(world["staff"])
    file_report(app, "none", category="abduction", description="下校時に校門付近で不審な車を見た。")
    report = db.scalar(sa.select(UrgentReport))
    assert report.child_id is None and report.centre_id == world["centre"].id
    assert len(outbox(db)) == 2


@pytest.mark.req("F-URGENT")
def test_a_guidance_centre_child_goes_to_the_guidance_centre_and_it_sees_it(app, db, world, login_as):
    login_as(world["staff"])
    file_report(app, world["guided"].id, category="disclosure", description="家に帰りたくないと話した。")
    report = db.scalar(sa.select(UrgentReport))
    assert report.centre_id == world["guidance"].id
    assert [m.recipient for m in outbox(db)] == ["jisou@city.example.jp"]
    login_as(world["guidance_worker"])
    assert "家に帰りたくないと話した。" in app.get(f"/urgent/{report.id}").text
    # The district centre does not handle the guidance centre's child.
    login_as(world["caseworker"])
    app.get(f"/urgent/{report.id}", status=404)


@pytest.mark.req("F-URGENT", "F-DASH")
def test_lifecycle_with_timestamps_and_who(app, db, world, login_as, clock):
    login_as(world["staff"])
    file_report(app, world["child"].id)
    report_id = db.scalar(sa.select(UrgentReport.id))

    # The caseworker's home shows it first, under 対応が必要なもの.
    login_as(world["caseworker"])
    home = app.get("/").follow()
    section = home.html.select_one("section.dashboard")
    assert "対応が必要なもの" in section.get_text() and "𠮷田 花子" in section.get_text()
    assert "未終了1件" in home.html.select_one("nav").get_text()

    page = app.get(f"/urgent/{report_id}")
    # Nothing can be recorded before acknowledging: only the acknowledge button.
    assert "respond-form" not in page.forms and "close-form" not in page.forms
    clock.set(dt.datetime(2026, 11, 26, 1, 5, tzinfo=dt.UTC))
    page = page.forms["acknowledge-form"].submit().follow()
    assert "確認済にしました" in page.text
    db.expire_all()
    report = db.get(UrgentReport, report_id)
    assert report.status == UrgentStatus.ACKNOWLEDGED
    assert report.acknowledged_at == dt.datetime(2026, 11, 26, 1, 5, tzinfo=dt.UTC)
    assert report.acknowledged_by_id == world["caseworker"].id

    # Two responses, each timestamped: one a reply to the facility, one internal.
    clock.set(dt.datetime(2026, 11, 26, 1, 10, tzinfo=dt.UTC))
    form = page.forms["respond-form"]
    form["response"] = "施設に電話で状況を確認。本日家庭訪問する。"
    form["shared"] = True
    page = form.submit().follow()
    clock.set(dt.datetime(2026, 11, 26, 1, 15, tzinfo=dt.UTC))
    form = page.forms["respond-form"]
    form["response"] = "内部メモ：過去に同様の通告あり。"
    page = form.submit().follow()
    assert "対応を記録しました" in page.text
    responses = list(db.scalars(sa.select(UrgentResponse).order_by(UrgentResponse.id)))
    assert [(r.shared, r.created_at.minute, r.author_id) for r in responses] == [
        (True, 10, world["caseworker"].id), (False, 15, world["caseworker"].id)]
    db.expire_all()
    assert db.get(UrgentReport, report_id).status == UrgentStatus.RESPONDING

    clock.set(dt.datetime(2026, 11, 26, 1, 20, tzinfo=dt.UTC))
    form = page.forms["close-form"]
    form["closing_note"] = "家庭訪問で安全を確認。見守り継続。"
    page = form.submit().follow()
    assert "対応を終了しました" in page.text and "close-form" not in page.forms
    db.expire_all()
    report = db.get(UrgentReport, report_id)
    assert report.status == UrgentStatus.CLOSED and report.closed_by_id == world["caseworker"].id
    assert report.closed_at == dt.datetime(2026, 11, 26, 1, 20, tzinfo=dt.UTC)
    assert report.closing_note == "家庭訪問で安全を確認。見守り継続。"
    # Closed: gone from the dashboard.
    home = app.get("/centre/submissions")
    assert "𠮷田 花子" not in home.html.select_one("section.dashboard").get_text()

    # The facility sees the status and the centre's reply, not internal notes or the closing note.
    login_as(world["staff"])
    page = app.get(f"/urgent/{report_id}")
    assert "終了" in page.text and "施設に電話で状況を確認。本日家庭訪問する。" in page.text
    assert "内部メモ" not in page.text and "家庭訪問で安全を確認" not in page.text
    assert "acknowledge-form" not in page.forms

    # Every step is a change record (S-AUDIT).
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditRecord)
                     .where(AuditRecord.entity == "urgent_reports")) >= 4


@pytest.mark.req("F-URGENT")
def test_steps_out_of_order_are_refused_with_a_message(app, db, world, login_as):
    login_as(world["staff"])
    file_report(app, world["child"].id)
    report_id = db.scalar(sa.select(UrgentReport.id))
    login_as(world["caseworker"])
    token = app.get(f"/urgent/{report_id}").forms["acknowledge-form"]["csrf_token"].value
    # Respond or close before acknowledging: 409, with the reason.
    page = app.post(f"/urgent/{report_id}/respond", {"csrf_token": token, "response": "電話した"}, status=409)
    assert "確認してから対応を記録してください。" in page.text
    page = app.post(f"/urgent/{report_id}/close", {"csrf_token": token, "closing_note": "終了"}, status=409)
    assert "確認してから終了してください。" in page.text
    app.post(f"/urgent/{report_id}/acknowledge", {"csrf_token": token}, status=303)
    # A second acknowledgement (e.g. a colleague at the same time) is refused; the first one stands.
    page = app.post(f"/urgent/{report_id}/acknowledge", {"csrf_token": token}, status=409)
    assert "すでに確認されています" in page.text
    app.post(f"/urgent/{report_id}/close", {"csrf_token": token, "closing_note": "対応不要と判断"}, status=303)
    page = app.post(f"/urgent/{report_id}/respond", {"csrf_token": token, "response": "追記"}, status=409)
    assert "終了した緊急連絡には記録できません。" in page.text
    page = app.post(f"/urgent/{report_id}/close", {"csrf_token": token, "closing_note": "再度"}, status=409)
    assert "すでに終了しています" in page.text


@pytest.mark.req("F-URGENT", "F-UI")
@pytest.mark.parametrize("field, value, message", [
    ("description", "", "入力してください。"),
    ("description", "あ" * 2001, "2000文字以内で入力してください（現在2001文字）。"),
    ("description", "𠮷😀" * 1001, "2000文字以内で入力してください（現在2002文字）。"),
    ("category", "unknown", "選択肢から選んでください。"),
    ("category", "", "選択してください。"),
    ("child", "", "選択してください。"),
    ("child", "abc", "選択肢から選んでください。"),
    ("observed_date", "2026-02-30", "日付は 2026-04-01 の形式で入力してください。"),
    ("observed_date", "2026-11-27", "未来の日時は入力できません。"),
    ("observed_date", "2025-01-01", "1年以上前の日時は入力できません。"),
    ("observed_time", "25:00", "時刻は 09:30 の形式で入力してください。"),
    ("observed_time", "😀", "時刻は 09:30 の形式で入力してください。"),
])
def test_bad_input_is_kept_with_a_japanese_error_beside_the_field(app, db, world, login_as, field, value, message):
    login_as(world["staff"])
    values = {"child": str(world["child"].id), "category": "guardian", "description": "迎えの保護者が酒に酔っていた。",
              "observed_date": "2026-11-26", "observed_time": "08:30", field: value}
    token = app.get("/urgent/new").forms["urgent-form"]["csrf_token"].value
    page = app.post("/urgent/new", {"csrf_token": token, **values}, status=400)
    assert page.html.select_one(f"#{field}-error").get_text(strip=True) == message
    assert page.forms["urgent-form"]["description"].value == values["description"]
    assert db.scalar(sa.select(sa.func.count()).select_from(UrgentReport)) == 0
    assert outbox(db) == []


@pytest.mark.req("F-URGENT", "F-ROLE")
def test_another_facilitys_child_cannot_be_named(app, db, world, login_as):
    login_as(world["staff"])
    token = app.get("/urgent/new").forms["urgent-form"]["csrf_token"].value
    page = app.post("/urgent/new", {"csrf_token": token, "child": str(world["other_child"].id), "category": "other",
                                    "description": "テスト", "observed_date": "2026-11-26", "observed_time": "08:00"},
                    status=400)
    assert page.html.select_one("#child-error").get_text(strip=True) == "選択肢から選んでください。"
    # The other facility's child is not even offered.
    assert "佐藤 次郎" not in page.text
    assert db.scalar(sa.select(sa.func.count()).select_from(UrgentReport)) == 0


@pytest.mark.req("F-URGENT", "F-UI")
def test_emoji_and_rare_kanji_are_stored_as_typed(app, db, world, login_as):
    login_as(world["staff"])
    file_report(app, world["child"].id, description="𠮷田さんが「😢」の絵を描いた。\n家のことを話した。")
    report = db.scalar(sa.select(UrgentReport))
    assert report.description == "𠮷田さんが「😢」の絵を描いた。\n家のことを話した。"


@pytest.mark.req("F-URGENT", "F-ROLE")
def test_scope_each_side_sees_only_its_own(app, db, world, login_as, make):
    login_as(world["staff"])
    file_report(app, world["child"].id, description="自施設の連絡")
    login_as(world["other_staff"])
    file_report(app, world["other_child"].id, description="他施設の連絡")
    mine, theirs = db.scalars(sa.select(UrgentReport).order_by(UrgentReport.id)).all()

    login_as(world["staff"])
    listing = app.get("/urgent")
    assert "𠮷田 花子" in listing.text and "佐藤 次郎" not in listing.text
    app.get(f"/urgent/{theirs.id}", status=404)

    # The same centre handles both facilities; another centre neither.
    login_as(world["caseworker"])
    listing = app.get("/urgent")
    assert "𠮷田 花子" in listing.text and "佐藤 次郎" in listing.text
    login_as(world["other_centre_worker"])
    assert "𠮷田 花子" not in app.get("/urgent").text
    app.get(f"/urgent/{mine.id}", status=404)

    # Roles without the permission: 403.
    login_as(make.account("admin"))
    app.get("/urgent", status=403)
    app.get(f"/urgent/{mine.id}", status=403)
    login_as(world["staff"])
    app.get("/urgent/new")
    csrf = app.get("/urgent/new").forms["urgent-form"]["csrf_token"].value
    app.post(f"/urgent/{mine.id}/acknowledge", {"csrf_token": csrf}, status=403)
    login_as(world["caseworker"])
    app.get("/urgent/new", status=403)


@pytest.mark.req("F-URGENT", "F-ROLLOVER")
def test_a_child_who_moved_away_takes_the_report_out_of_the_old_facilitys_view(app, db, world, login_as):
    login_as(world["staff"])
    file_report(app, world["child"].id)
    report_id = db.scalar(sa.select(UrgentReport.id))
    world["child"].facility_id = world["other_facility"].id
    db.commit()
    app.get(f"/urgent/{report_id}", status=404)
    # The centre keeps it.
    login_as(world["caseworker"])
    app.get(f"/urgent/{report_id}")
    # The new facility did not write it and does not see it.
    login_as(world["other_staff"])
    app.get(f"/urgent/{report_id}", status=404)


@pytest.mark.req("F-URGENT")
def test_response_and_closing_errors_keep_the_input(app, db, world, login_as):
    login_as(world["staff"])
    file_report(app, world["child"].id)
    report_id = db.scalar(sa.select(UrgentReport.id))
    login_as(world["caseworker"])
    page = app.get(f"/urgent/{report_id}").forms["acknowledge-form"].submit().follow()
    form = page.forms["respond-form"]
    form["response"] = "𠮷" * 2001
    form["shared"] = True
    page = form.submit(status=400)
    assert page.html.select_one("#response-error").get_text(strip=True) == "2000文字以内で入力してください（現在2001文字）。"
    assert page.forms["respond-form"]["response"].value == "𠮷" * 2001
    assert page.forms["respond-form"]["shared"].checked
    form = page.forms["close-form"]
    form["closing_note"] = "   "
    page = form.submit(status=400)
    assert page.html.select_one("#closing_note-error").get_text(strip=True) == "入力してください。"
    db.expire_all()
    assert db.get(UrgentReport, report_id).status == UrgentStatus.ACKNOWLEDGED


@pytest.mark.req("S-AUDIT")
def test_viewing_a_report_is_recorded_with_the_child(app, db, world, login_as):
    login_as(world["staff"])
    file_report(app, world["child"].id)
    report_id = db.scalar(sa.select(UrgentReport.id))
    login_as(world["caseworker"])
    app.get(f"/urgent/{report_id}")
    record = db.scalar(sa.select(AuditRecord).where(AuditRecord.action == "view",
                                                     AuditRecord.entity == "urgent_reports"))
    assert record.entity_id == str(report_id) and record.child_id == world["child"].id
    # The access log names the report too (S-ACCESSLOG).
    entry = db.scalar(sa.select(AccessLogEntry).where(AccessLogEntry.route == "urgent.detail"))
    assert entry.object_ids == f'{{"urgent_id": "{report_id}"}}'
