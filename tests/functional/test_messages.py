"""Message threads per child (F-MSG, F-NOTIFY, F-DASH): posting, order, read status, unread counts,
email at most once an hour per thread and recipient, scope and transfers."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.mail.models import OutboxMessage
from webapp.messages.models import Message, MessageRead, Side


@pytest.fixture
def world(make):
    centre = make.centre()
    facility = make.facility(centre=centre)
    other_facility = make.facility(centre=centre)
    child = make.child(facility=facility, family_name="𠮷田", given_name="花子")
    other_child = make.child(facility=other_facility, family_name="佐藤", given_name="次郎")
    return {
        "centre": centre, "facility": facility, "other_facility": other_facility,
        "child": child, "other_child": other_child,
        "staff": make.account("facility", facility=facility, email="school@city.example.jp"),
        "staff2": make.account("facility", facility=facility),
        "other_staff": make.account("facility", facility=other_facility, email="other-school@city.example.jp"),
        "caseworker": make.account("caseworker", centre=centre, email="cw1@city.example.jp"),
        "caseworker2": make.account("caseworker", centre=centre, email="cw2@city.example.jp"),
        "foreign_caseworker": make.account("caseworker", centre=make.centre(), email="x@city.example.jp"),
    }


def post(app, child, body, status=303):
    form = app.get(f"/children/{child.id}/messages").forms["message-form"]
    form["body"] = body
    return form.submit(status=status)


def mails(db, recipient=None):
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if recipient:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(db.scalars(query))


def menu_badge(page) -> str:
    link = page.html.find("a", href=lambda h: h and h.endswith("/messages"))
    return link.get_text(" ", strip=True)


@pytest.mark.req("F-MSG")
def test_thread_in_order_with_unread_counts_on_both_sides(app, db, world, login_as, clock):
    child = world["child"]
    login_as(world["staff"])
    post(app, child, "今日は元気に登校しました。")
    clock.set(clock.now() + dt.timedelta(minutes=1))
    page = post(app, child, "昼食もよく食べています。").follow()
    assert "メッセージを送信しました" in page.text
    # The writer has nothing unread; their own side's messages never count.
    assert "未読" not in menu_badge(page)

    login_as(world["caseworker"])
    home = app.get("/centre/submissions")
    assert menu_badge(home) == "連絡帳 未読2件"
    dashboard = home.html.select_one("section.dashboard").get_text(" ", strip=True)
    assert "未読の連絡帳" in dashboard and "𠮷田 花子" in dashboard and "未読2件" in dashboard
    listing = app.get("/messages")
    row = listing.html.find("a", string="𠮷田 花子").find_parent("tr")
    assert row.select_one(".badge").get_text() == "2"

    thread = app.get(f"/children/{child.id}/messages")
    bodies = [li.select_one(".multiline").get_text() for li in thread.html.select("ol.messages li")]
    assert bodies == ["今日は元気に登校しました。", "昼食もよく食べています。"]
    # Opening the thread reads it, for this caseworker only.
    assert "未読" not in menu_badge(app.get("/messages"))
    login_as(world["caseworker2"])
    assert menu_badge(app.get("/messages")) == "連絡帳 未読2件"

    post(app, child, "ありがとうございます。引き続きお願いします。")
    login_as(world["staff"])
    assert menu_badge(app.get("/messages")) == "連絡帳 未読1件"
    # Each facility account has its own read status.
    login_as(world["staff2"])
    assert menu_badge(app.get("/messages")) == "連絡帳 未読1件"
    app.get(f"/children/{child.id}/messages")
    assert "未読" not in menu_badge(app.get("/messages"))
    reads = {r.account_id: r.last_read_message_id for r in db.scalars(sa.select(MessageRead))}
    newest = db.scalar(sa.select(sa.func.max(Message.id)))
    assert reads[world["staff2"].id] == newest and reads[world["caseworker2"].id] == newest


@pytest.mark.req("F-MSG", "F-NOTIFY")
def test_email_to_the_other_side_at_most_once_an_hour_per_thread_without_personal_data(app, db, world, login_as,
                                                                                        clock):
    child = world["child"]
    login_as(world["staff"])
    post(app, child, "𠮷田さんの件で相談があります。")
    first = mails(db)
    # Both caseworkers of the child's centre; not the facility's own staff, not another centre.
    assert sorted(m.recipient for m in first) == ["cw1@city.example.jp", "cw2@city.example.jp"]
    for mail in first:
        assert mail.template == "messages" and "新しいメッセージ" in mail.subject
        text = mail.subject + mail.body
        assert "𠮷田" not in text and "花子" not in text and "相談" not in text
        assert world["facility"].name not in text
        assert f"/children/{child.id}/messages" in mail.body and "未読のメッセージが1件" in mail.body

    # More messages within the hour: no more email.
    clock.set(clock.now() + dt.timedelta(minutes=20))
    post(app, child, "追加の連絡です。")
    clock.set(clock.now() + dt.timedelta(minutes=20))
    post(app, child, "さらに追加です。")
    assert len(mails(db)) == 2

    # After the hour: one more each, counting what is still unread.
    clock.set(clock.now() + dt.timedelta(minutes=21))
    login_as(world["staff"])
    post(app, child, "一時間後の連絡です。")
    assert len(mails(db, "cw1@city.example.jp")) == 2
    assert "未読のメッセージが4件" in mails(db, "cw1@city.example.jp")[-1].body

    # A different thread is counted separately.
    login_as(world["other_staff"])
    post(app, world["other_child"], "別の児童の連絡です。")
    assert len(mails(db, "cw1@city.example.jp")) == 3

    # The centre's reply goes to the facility's staff with an address, once.
    login_as(world["caseworker"])
    post(app, child, "承知しました。")
    post(app, child, "追って連絡します。")
    assert [m.recipient for m in mails(db, "school@city.example.jp")] == ["school@city.example.jp"]
    assert mails(db, "other-school@city.example.jp") == []


@pytest.mark.req("F-MSG", "F-UI")
@pytest.mark.parametrize("body, message", [
    ("", "入力してください。"),
    ("   \n  ", "入力してください。"),
    ("あ" * 2001, "2000文字以内で入力してください（現在2001文字）。"),
    ("😀" * 2001, "2000文字以内で入力してください（現在2001文字）。"),
    ("ベル\x07", "使用できない制御文字が含まれています。"),
])
def test_bad_messages_are_kept_with_a_japanese_error(app, db, world, login_as, body, message):
    login_as(world["staff"])
    page = post(app, world["child"], body, status=400)
    assert page.html.select_one("#body-error").get_text(strip=True) == message
    assert page.forms["message-form"]["body"].value == body.replace("\r\n", "\n")
    assert db.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
    assert mails(db) == []


@pytest.mark.req("F-MSG", "F-UI")
def test_emoji_rare_kanji_and_markup_round_trip_as_text(app, db, world, login_as):
    login_as(world["staff"])
    body = "𠮷田さん😀\n<script>alert(1)</script>"
    page = post(app, world["child"], body).follow()
    assert db.scalar(sa.select(Message.body)) == body
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


@pytest.mark.req("F-MSG", "F-ROLE")
def test_scope_404_out_of_scope_and_403_for_roles_without_messages(app, db, world, login_as, make):
    login_as(world["staff"])
    app.get(f"/children/{world['other_child'].id}/messages", status=404)
    csrf = app.get(f"/children/{world['child'].id}/messages").forms["message-form"]["csrf_token"].value
    app.post(f"/children/{world['other_child'].id}/messages", {"csrf_token": csrf, "body": "x"}, status=404)
    app.get("/children/99999999999999999999/messages", status=404)
    login_as(world["foreign_caseworker"])
    app.get(f"/children/{world['child'].id}/messages", status=404)
    for role in ("admin", "auditor"):
        login_as(make.account(role))
        app.get("/messages", status=403)
        app.get(f"/children/{world['child'].id}/messages", status=403)
    assert db.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


@pytest.mark.req("F-MSG", "F-ROLLOVER")
def test_after_a_transfer_the_history_stays_with_the_centre(app, db, world, login_as):
    child = world["child"]
    login_as(world["staff"])
    post(app, child, "前の学校での連絡です。")
    child.facility_id = world["other_facility"].id
    db.commit()

    # The old facility loses the child and the thread.
    app.get(f"/children/{child.id}/messages", status=404)
    assert "𠮷田 花子" not in app.get("/messages").text
    # The new facility sees the thread start afresh, without the old messages, and nothing unread.
    login_as(world["other_staff"])
    page = app.get(f"/children/{child.id}/messages")
    assert "前の学校での連絡です。" not in page.text and "まだメッセージはありません。" in page.text
    post(app, child, "転入しました。")
    # The centre keeps the whole history.
    login_as(world["caseworker"])
    page = app.get(f"/children/{child.id}/messages")
    bodies = [li.select_one(".multiline").get_text() for li in page.html.select("ol.messages li")]
    assert bodies == ["前の学校での連絡です。", "転入しました。"]
    assert {m.facility_id for m in db.scalars(sa.select(Message))} == {world["facility"].id,
                                                                       world["other_facility"].id}


@pytest.mark.req("S-AUDIT")
def test_reading_a_thread_is_recorded_as_a_view_of_the_child(app, db, world, login_as):
    from webapp.audit.models import AuditRecord

    login_as(world["caseworker"])
    app.get(f"/children/{world['child'].id}/messages")
    record = db.scalar(sa.select(AuditRecord).where(AuditRecord.action == "view"))
    assert record.child_id == world["child"].id


@pytest.mark.req("F-HELP", "F-MSG", "F-URGENT")
@pytest.mark.parametrize("topic, title", [("urgent_reports", "緊急連絡の使い方"), ("messages", "連絡帳の使い方")])
def test_help_pages_are_served_and_linked_from_the_lists(app, world, login_as, topic, title):
    login_as(world["staff"])
    page = app.get(f"/help/{topic}")
    assert page.html.select_one("h1").get_text() == title
    listing = app.get("/urgent" if topic == "urgent_reports" else "/messages")
    assert listing.html.find("a", href=f"https://localhost/help/{topic}") is not None


@pytest.mark.req("F-MSG")
def test_the_children_list_shows_unread_per_child(app, db, world, login_as):
    login_as(world["staff"])
    post(app, world["child"], "確認をお願いします。")
    login_as(world["caseworker"])
    row = app.get("/children").html.find("a", string="𠮷田 花子").find_parent("tr")
    assert row.select_one("a.badge").get_text() == "連絡帳 未読1件"
    app.get(f"/children/{world['child'].id}/messages")
    row = app.get("/children").html.find("a", string="𠮷田 花子").find_parent("tr")
    assert row.select_one("a.badge") is None
