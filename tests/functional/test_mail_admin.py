"""The admin's outbox page: counts, failed and retrying mail, queueing failed mail again (F-NOTIFY)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import csrf_token
from webapp.authz import Role
from webapp.mail.models import MailStatus, OutboxMessage


def outbox_row(db, clock, n, status, attempts=0, error=None):
    message = OutboxMessage(
        template="urgent_report", recipient=f"centre{n}@city.example.jp", subject="【見守り】新しい緊急連絡があります",
        body="新しい緊急連絡があります。ログインして確認してください。", message_id=f"<test-{n}@mimamori.example.jp>",
        status=status, attempts=attempts, next_attempt_at=clock.now() + dt.timedelta(minutes=attempts),
        last_error=error,
    )
    db.add(message)
    db.flush()
    return message


@pytest.fixture
def outbox(db, clock):
    return {
        "sent": outbox_row(db, clock, 1, MailStatus.SENT, attempts=1),
        "retrying": outbox_row(db, clock, 2, MailStatus.PENDING, attempts=2, error="ConnectionRefusedError: [Errno 111]"),
        "failed": outbox_row(db, clock, 3, MailStatus.FAILED, attempts=12, error="SMTPRecipientsRefused: 550 no such user"),
        "failed2": outbox_row(db, clock, 4, MailStatus.FAILED, attempts=12, error="TimeoutError: timed out"),
    }


@pytest.mark.req("F-NOTIFY")
def test_admins_see_failed_and_retrying_mail_and_queue_one_again(app, make, login_as, outbox, db):
    login_as(make.account(Role.ADMIN))
    page = app.get("/admin/mail")
    counts = page.html.select_one("#mail-counts").get_text(" ", strip=True)
    assert "送信待ち 1" in counts and "送信済み 1" in counts and "送信失敗 2" in counts
    rows = [row.get_text(" ", strip=True) for row in page.html.select("#mail-problems tbody tr")]
    assert len(rows) == 3  # the sent message is not a problem
    assert "centre2@city.example.jp" in rows[0] and "再送待ち" in rows[0] and "ConnectionRefusedError" in rows[0]
    assert "centre3@city.example.jp" in rows[1] and "送信失敗" in rows[1] and "550 no such user" in rows[1]

    form = next(f for f in page.forms.values() if f.fields.get("message_id", [None])[0]
                and f["message_id"].value == str(outbox["failed"].id))
    done = form.submit(status=303).follow()
    assert "再送待ちに戻しました。" in done.text
    db.expire_all()
    assert outbox["failed"].status is MailStatus.PENDING and outbox["failed"].attempts == 0
    assert outbox["failed2"].status is MailStatus.FAILED

    done.forms["requeue-all-form"].submit(status=303)
    db.expire_all()
    assert outbox["failed2"].status is MailStatus.PENDING
    # Queued again with fresh attempts: only the message still retrying is listed.
    assert len(app.get("/admin/mail").html.select("#mail-problems tbody tr")) == 1


@pytest.mark.parametrize("message_id", ["999999", "abc", "１", "𠮷", "-1", "9" * 40, ""])
def test_requeueing_an_unknown_or_not_failed_message_is_404(app, make, login_as, outbox, message_id):
    login_as(make.account(Role.ADMIN))
    token = csrf_token(app)
    app.post("/admin/mail/requeue", {"csrf_token": token, "message_id": message_id}, status=404)
    app.post("/admin/mail/requeue", {"csrf_token": token, "message_id": str(outbox["sent"].id)}, status=404)


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.FACILITY, Role.AUDITOR])
def test_only_admins_see_the_outbox(app, make, login_as, outbox, role):
    login_as(make.account(role))
    app.get("/admin/mail", status=403)
    app.post("/admin/mail/requeue", {"csrf_token": csrf_token(app)}, status=403)
