"""Urgent reports (緊急連絡, F-URGENT): filed by a facility at any time, handled by the responsible centre.

The lifecycle is received → acknowledged → responding → closed. Every step
keeps when and who; responses are separate rows so several can be recorded.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import Account
from webapp.children.models import Child
from webapp.db import Model, enum_column
from webapp.organisations.models import Centre, Facility

DESCRIPTION_MAX = 2000
RESPONSE_MAX = 2000


class UrgentCategory(enum.StrEnum):
    """A closed list: the centre triages by it, so free text would not do."""

    INJURY = "injury"
    DISCLOSURE = "disclosure"
    GUARDIAN = "guardian"
    UNEXPLAINED_ABSENCE = "unexplained_absence"
    LONG_ABSENCE = "long_absence"
    NOT_SEEN = "not_seen"
    ABDUCTION = "abduction"
    OTHER = "other"

    @property
    def label(self) -> str:
        return URGENT_CATEGORY_LABELS[self]


URGENT_CATEGORY_LABELS = {
    UrgentCategory.INJURY: "けが・あざなど身体の傷（不自然なもの）",
    UrgentCategory.DISCLOSURE: "本人からの訴え",
    UrgentCategory.GUARDIAN: "保護者の様子",
    UrgentCategory.UNEXPLAINED_ABSENCE: "理由の分からない欠席",
    UrgentCategory.LONG_ABSENCE: "長期欠席（7日以上）・所在不明",
    UrgentCategory.NOT_SEEN: "本人に会えない・姿を確認できない",
    UrgentCategory.ABDUCTION: "不審者・連れ去り",
    UrgentCategory.OTHER: "その他",
}


class UrgentStatus(enum.StrEnum):
    RECEIVED = "received"  # filed, nobody at the centre has taken it yet
    ACKNOWLEDGED = "acknowledged"  # a caseworker has taken it
    RESPONDING = "responding"  # at least one response recorded
    CLOSED = "closed"  # finished, with a closing note

    @property
    def label(self) -> str:
        return URGENT_STATUS_LABELS[self]


URGENT_STATUS_LABELS = {
    UrgentStatus.RECEIVED: "未確認",
    UrgentStatus.ACKNOWLEDGED: "確認済",
    UrgentStatus.RESPONDING: "対応中",
    UrgentStatus.CLOSED: "終了",
}

OPEN_STATUSES = (UrgentStatus.RECEIVED, UrgentStatus.ACKNOWLEDGED, UrgentStatus.RESPONDING)


class UrgentReport(Model):
    __tablename__ = "urgent_reports"
    __table_args__ = (
        # The dashboard's query: a centre's open reports, oldest first.
        sa.Index("ix_urgent_reports_centre_id_status", "centre_id", "status"),
    )

    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    # The centre responsible when it was filed: the child's centre, or for a
    # facility-wide matter the facility's. Fixed, so a later transfer does not
    # move a report away from the people already handling it.
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"))
    # None: a matter of the whole facility (e.g. a stranger near the gate).
    child_id: Mapped[int | None] = mapped_column(sa.ForeignKey("children.id"), index=True)
    category: Mapped[UrgentCategory] = mapped_column(enum_column(UrgentCategory, 30))
    description: Mapped[str] = mapped_column(sa.Text)
    observed_at: Mapped[dt.datetime]
    status: Mapped[UrgentStatus] = mapped_column(enum_column(UrgentStatus), default=UrgentStatus.RECEIVED)
    reported_by_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    # Centre-only, like internal responses: it may carry case details.
    closing_note: Mapped[str | None] = mapped_column(sa.Text)

    facility: Mapped[Facility] = relationship()
    centre: Mapped[Centre] = relationship()
    child: Mapped[Child | None] = relationship()
    reported_by: Mapped[Account] = relationship(foreign_keys=[reported_by_id])
    acknowledged_by: Mapped[Account | None] = relationship(foreign_keys=[acknowledged_by_id])
    closed_by: Mapped[Account | None] = relationship(foreign_keys=[closed_by_id])
    responses: Mapped[list[UrgentResponse]] = relationship(
        back_populates="report", order_by="UrgentResponse.id", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status != UrgentStatus.CLOSED


class UrgentResponse(Model):
    """One recorded response. ``shared`` ones are the centre's reply the facility sees."""

    __tablename__ = "urgent_responses"

    report_id: Mapped[int] = mapped_column(sa.ForeignKey("urgent_reports.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    shared: Mapped[bool] = mapped_column(default=False)

    report: Mapped[UrgentReport] = relationship(back_populates="responses")
    author: Mapped[Account] = relationship()

    @property
    def child_id(self) -> int | None:
        # Change records name the child (S-AUDIT) when the object has a child_id.
        return self.report.child_id if self.report is not None else None
