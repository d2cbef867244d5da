"""Notices from the ward to facilities (お知らせ) and who has read them (F-NOTICE, O-247)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

# The accounts table must be in the metadata wherever notices are used alone.
from webapp.accounts.models import Account  # noqa: F401
from webapp.db import Model, enum_column

BODY_MAX = 4000
TITLE_MAX = 100


class NoticeKind(enum.StrEnum):
    GENERAL = "general"  # お知らせ
    MAINTENANCE = "maintenance"  # 計画停止のお知らせ: also shown on the login page

    @property
    def label(self) -> str:
        return {NoticeKind.GENERAL: "お知らせ", NoticeKind.MAINTENANCE: "計画停止"}[self]


class Notice(Model):
    """One notice. Withdrawn notices are kept (who said what, when), only hidden."""

    __tablename__ = "notices"
    __table_args__ = (
        sa.CheckConstraint("publish_until IS NULL OR publish_until > publish_from", name="publication_ordered"),
        sa.CheckConstraint(
            "(kind = 'maintenance') = (maintenance_start IS NOT NULL AND maintenance_end IS NOT NULL)",
            name="maintenance_has_window",
        ),
    )

    kind: Mapped[NoticeKind] = mapped_column(enum_column(NoticeKind))
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    body: Mapped[str] = mapped_column(sa.Text)
    # Everyone, or only facilities of the types listed (space-separated
    # FacilityType values). A short string, not a join table: there are seven
    # types and a handful of notices a month.
    audience_all: Mapped[bool] = mapped_column(default=True)
    audience_types: Mapped[str] = mapped_column(sa.String(200), default="")
    publish_from: Mapped[dt.datetime]
    publish_until: Mapped[dt.datetime | None]
    maintenance_start: Mapped[dt.datetime | None]
    maintenance_end: Mapped[dt.datetime | None]
    withdrawn_at: Mapped[dt.datetime | None]
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))

    @property
    def audience_type_set(self) -> frozenset[str]:
        return frozenset(self.audience_types.split())

    def reaches(self, facility_type: str | None) -> bool:
        """Whether a facility of ``facility_type`` is in the audience (None: not a facility)."""
        return self.audience_all or (facility_type is not None and facility_type in self.audience_type_set)

    def is_current(self, now: dt.datetime) -> bool:
        return (self.withdrawn_at is None and self.publish_from <= now
                and (self.publish_until is None or now < self.publish_until))


class NoticeRead(Model):
    """An account has opened a notice (per account, not per facility: each person reads)."""

    __tablename__ = "notice_reads"
    __table_args__ = (sa.UniqueConstraint("notice_id", "account_id"),)

    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
