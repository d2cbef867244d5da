from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base


class AuditRecord(Base):
    """One change (or one view of a child's page). Never updated, never deleted.

    ``id`` is assigned by the recorder, not by a sequence: ids are gapless so
    a removed record shows as a gap, and the id is part of the hashed content
    so a reordering breaks the chain.
    """

    __tablename__ = "audit_records"
    __audit__ = False

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(index=True)
    account_id: Mapped[int | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(sa.String(100))  # login, or "system:<command>"
    role: Mapped[str | None] = mapped_column(sa.String(20))
    organisation: Mapped[str | None] = mapped_column(sa.String(100))
    client_address: Mapped[str | None] = mapped_column(sa.String(45))
    action: Mapped[str] = mapped_column(sa.String(10))  # create / update / delete / view
    entity: Mapped[str] = mapped_column(sa.String(50))
    entity_id: Mapped[str | None] = mapped_column(sa.String(50))
    # The child the record concerns, when there is one: "who saw / changed this child".
    child_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[str | None] = mapped_column(sa.Text)
    after: Mapped[str | None] = mapped_column(sa.Text)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_audit_records_entity_entity_id", "entity", "entity_id"),)


class AuthEvent(Base):
    """Logins, failures with their reason, logouts, password and lock changes (S-ACCESSLOG, S-AUTH).

    ``login`` is what was typed, so attempts on unknown logins are kept too.
    """

    __tablename__ = "auth_events"
    __audit__ = False

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(sa.String(30))  # see webapp.audit.events.AuthEventType
    reason: Mapped[str | None] = mapped_column(sa.String(30))
    login: Mapped[str | None] = mapped_column(sa.String(64))
    account_id: Mapped[int | None] = mapped_column(index=True)
    actor_id: Mapped[int | None]  # who did it, when not the account itself (admin unlock)
    client_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))

    __table_args__ = (sa.Index("ix_auth_events_client_address_occurred_at", "client_address", "occurred_at"),)


class AccessLogEntry(Base):
    """One row per HTTP request: when, who, from where, what, result, how long (S-ACCESSLOG)."""

    __tablename__ = "access_log"
    __audit__ = False

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(index=True)
    request_id: Mapped[str] = mapped_column(sa.String(32))
    account_id: Mapped[int | None] = mapped_column(index=True)
    login: Mapped[str | None] = mapped_column(sa.String(64))
    role: Mapped[str | None] = mapped_column(sa.String(20))
    organisation: Mapped[str | None] = mapped_column(sa.String(100))
    client_address: Mapped[str | None] = mapped_column(sa.String(45))
    method: Mapped[str] = mapped_column(sa.String(10))
    route: Mapped[str | None] = mapped_column(sa.String(50))
    path: Mapped[str] = mapped_column(sa.String(500))
    object_ids: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[int]
    duration_ms: Mapped[int]
