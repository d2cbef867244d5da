"""Message threads (連絡帳, F-MSG): one thread per child between the centre and the facility.

A message belongs to the facility the child was at when it was written, so
after a transfer the old facility no longer sees the thread and the new one
does not see the old messages; the centre sees the whole history.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import Account
from webapp.db import Model, enum_column

BODY_MAX = 2000


class Side(enum.StrEnum):
    CENTRE = "centre"
    FACILITY = "facility"


class Message(Model):
    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_child_id_facility_id", "child_id", "facility_id"),)

    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"))
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    side: Mapped[Side] = mapped_column(enum_column(Side))
    body: Mapped[str] = mapped_column(sa.Text)

    author: Mapped[Account] = relationship()


class MessageRead(Model):
    """Per account and child: the last message read, and when a new-message email last went out.

    ``notified_at`` limits email to one per thread per hour per recipient.
    """

    __tablename__ = "message_reads"
    __table_args__ = (sa.UniqueConstraint("account_id", "child_id"),)

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"), index=True)
    last_read_message_id: Mapped[int | None]
    notified_at: Mapped[dt.datetime | None]
