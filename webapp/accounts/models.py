from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.authz import Role
from webapp.db import Base, Model, enum_column, utcnow
from webapp.organisations.models import Centre, Facility


class Account(Model):
    """A person's login. Caseworkers belong to a centre, facility staff to a facility."""

    __tablename__ = "accounts"
    __table_args__ = (
        # The organisation must match the role, so scoping can rely on it.
        sa.CheckConstraint(
            "(role = 'caseworker' AND centre_id IS NOT NULL AND facility_id IS NULL)"
            " OR (role = 'facility' AND facility_id IS NOT NULL AND centre_id IS NULL)"
            " OR (role IN ('admin', 'auditor') AND centre_id IS NULL AND facility_id IS NULL)",
            name="organisation_matches_role",
        ),
    )

    login: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    centre_id: Mapped[int | None] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    facility_id: Mapped[int | None] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[dt.datetime | None]
    # Lockout (S-AUTH): consecutive failures, and until when the account is locked.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    # Second factor: base32 TOTP secret once enrolled, and hashes of unused recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enrolled_at: Mapped[dt.datetime | None]
    recovery_codes: Mapped[str | None] = mapped_column(sa.Text)
    # The last TOTP time step accepted: codes of that step or earlier are refused (no replay).
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Where notifications (alerts, reminders) go; optional. Emails carry no personal data (F-NOTIFY).
    email: Mapped[str | None] = mapped_column(sa.String(254))

    centre: Mapped[Centre | None] = relationship()
    facility: Mapped[Facility | None] = relationship()

    @property
    def organisation_name(self) -> str:
        if self.facility is not None:
            return self.facility.name
        if self.centre is not None:
            return self.centre.name
        return "世田谷区"


class LoginSession(Base):
    """A server-side login session, so logout and timeouts are enforced by us.

    The cookie carries a random token; only its SHA-256 is stored, so a copy of
    the database does not let anyone take over a session.
    """

    __tablename__ = "login_sessions"
    # Logins and logouts are authentication events, not data changes.
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    # True between a correct password and a correct second factor: such a
    # session may only reach the second-factor page.
    second_factor_pending: Mapped[bool] = mapped_column(default=False)

    account: Mapped[Account] = relationship()
