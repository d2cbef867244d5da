"""The outbox as the other areas see it: a request service writing into the request's transaction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pyramid.scripting import prepare

from webapp.audit.models import AuditRecord
from webapp.mail.models import MailStatus, OutboxMessage
from webapp.mail.services import MailOutbox


@pytest.mark.req("F-NOTIFY")
def test_views_get_the_outbox_as_a_service_bound_to_the_request_transaction(wsgi_app, db, clock):
    env = prepare(registry=wsgi_app.registry)
    request = env["request"]
    try:
        request.tm.begin()
        outbox = request.find_service(MailOutbox)
        assert outbox.session is request.db
        message = outbox.enqueue("centre@city.example.jp", "alerts", count=4, path="/alerts")
        request.db.flush()
        assert message.status is MailStatus.PENDING
        assert message.next_attempt_at == clock.now()
        assert message.body.startswith("新しいアラート、または要対応に引き上げられたアラートが4件あります。ログインして確認してください。\n\nhttps://localhost/alerts")
        # The enqueueing is a change like any other: recorded, naming who caused it.
        record = request.db.scalars(
            sa.select(AuditRecord).where(AuditRecord.entity == "mail_outbox").order_by(AuditRecord.id.desc())
        ).first()
        assert record.action == "create" and '"template": "alerts"' in record.after
        # Aborting the request's transaction takes the message with it.
        request.tm.abort()
    finally:
        env["closer"]()
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_a_bad_mail_setting_stops_the_application_from_starting(settings):
    from webapp.config import configure
    from webapp.mail.services import MailSettingsError
    from webapp.settings import build_settings

    with pytest.raises(MailSettingsError):
        configure(build_settings({**settings, "mimamori.smtp_port": "二十五"}, environ={}))
