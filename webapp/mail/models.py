"""The mail outbox: one row per email, written in the transaction that caused it (F-NOTIFY).

A row holds the finished subject and body, rendered from a fixed template at
enqueue time, so what is sent is exactly what was checked for personal data
(see :mod:`webapp.mail.templates`).
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Model, enum_column, utcnow


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    SENT = "sent"  # accepted by the SMTP server; never sent again
    FAILED = "failed"  # given up on (too many attempts or refused for good); admins look here


class OutboxMessage(Model):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        # The sender's query: due pending messages, oldest first.
        sa.Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    template: Mapped[str] = mapped_column(sa.String(40))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    # Fixed at enqueue: if the process dies between the server accepting a
    # message and the row being marked sent, the retry carries the same
    # Message-ID, so the receiving side can recognise the duplicate.
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    sent_at: Mapped[dt.datetime | None]
