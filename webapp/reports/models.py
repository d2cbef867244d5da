from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import Account
from webapp.children.models import Child
from webapp.db import Base, Model, enum_column, utcnow
from webapp.organisations.models import Facility


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"  # 下書き: the facility is still writing
    SUBMITTED = "submitted"  # 提出済: waiting for the centre
    RETURNED = "returned"  # 差戻し: the centre asked for a correction
    ACKNOWLEDGED = "acknowledged"  # 確認済: the centre has read it

    @property
    def label(self) -> str:
        return {
            ReportStatus.DRAFT: "下書き",
            ReportStatus.SUBMITTED: "提出済",
            ReportStatus.RETURNED: "差戻し",
            ReportStatus.ACKNOWLEDGED: "確認済",
        }[self]


class FamilyContact(enum.StrEnum):
    YES = "yes"
    NO = "no"
    PARTIAL = "partial"

    @property
    def label(self) -> str:
        return {FamilyContact.YES: "有", FamilyContact.NO: "無", FamilyContact.PARTIAL: "一部"}[self]


# Absence reasons of the national guideline, each with its own day count so the
# centre sees how many days were, say, 不明. Column name -> label.
ABSENCE_REASONS: dict[str, str] = {
    "absent_illness": "病気・けが",
    "absent_family": "家庭の事情",
    "absent_bereavement": "忌引",
    "absent_suspension": "出席停止",
    "absent_unknown": "不明",
    "absent_other": "その他",
}

CONTENT_FIELDS = (
    "days_expected",
    "days_attended",
    "days_absent",
    "late_count",
    "early_leave_count",
    *ABSENCE_REASONS,
    "absence_note",
    "family_contact",
    "condition",
    "nothing_special",
)


class MonthlyReport(Model):
    """One child's report for one month (``period`` is the first day of the month)."""

    __tablename__ = "monthly_reports"
    __table_args__ = (
        sa.UniqueConstraint("child_id", "period"),
        # The review queue: counts and pages of submitted reports, oldest submission first.
        sa.Index("ix_monthly_reports_status_submitted_at", "status", "submitted_at"),
        # A facility's months without its other years (migration 0012).
        sa.Index("ix_monthly_reports_facility_id_period", "facility_id", "period"),
        # The reports waiting in a scope, among the few submitted ones (migration 0012).
        sa.Index("ix_monthly_reports_status_child_id", "status", "child_id"),
    )

    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"))
    # The facility that reports; kept so a transferred child's history stays
    # attributed (and hidden from the new facility).
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    period: Mapped[dt.date] = mapped_column(index=True)
    status: Mapped[ReportStatus] = mapped_column(enum_column(ReportStatus), default=ReportStatus.DRAFT)
    submitted_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))

    child: Mapped[Child] = relationship()
    facility: Mapped[Facility] = relationship()
    acknowledged_by: Mapped[Account | None] = relationship()
    versions: Mapped[list[MonthlyReportVersion]] = relationship(
        back_populates="report", order_by="MonthlyReportVersion.number"
    )
    events: Mapped[list[ReportEvent]] = relationship(back_populates="report", order_by="ReportEvent.id")


class MonthlyReportVersion(Base):
    """The report's content. Submitted versions are never changed again.

    A draft is edited in place; submitting freezes it. A return followed by a
    correction starts a new version, so every version the centre saw is kept.
    """

    __tablename__ = "monthly_report_versions"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "number"),
        sa.CheckConstraint(
            "days_expected >= 0 AND days_attended >= 0 AND days_absent >= 0"
            " AND late_count >= 0 AND early_leave_count >= 0",
            name="counts_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("monthly_reports.id"), index=True)
    number: Mapped[int]
    days_expected: Mapped[int] = mapped_column(default=0)
    days_attended: Mapped[int] = mapped_column(default=0)
    days_absent: Mapped[int] = mapped_column(default=0)
    late_count: Mapped[int] = mapped_column(default=0)
    early_leave_count: Mapped[int] = mapped_column(default=0)
    absent_illness: Mapped[int] = mapped_column(default=0)
    absent_family: Mapped[int] = mapped_column(default=0)
    absent_bereavement: Mapped[int] = mapped_column(default=0)
    absent_suspension: Mapped[int] = mapped_column(default=0)
    absent_unknown: Mapped[int] = mapped_column(default=0)
    absent_other: Mapped[int] = mapped_column(default=0)
    absence_note: Mapped[str | None] = mapped_column(sa.String(200))
    family_contact: Mapped[FamilyContact | None] = mapped_column(enum_column(FamilyContact, 10))
    condition: Mapped[str | None] = mapped_column(sa.Text)
    nothing_special: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None]

    report: Mapped[MonthlyReport] = relationship(back_populates="versions")
    author: Mapped[Account] = relationship()

    @property
    def is_frozen(self) -> bool:
        return self.submitted_at is not None

    def content(self) -> dict:
        return {name: getattr(self, name) for name in CONTENT_FIELDS}


class ReportAction(enum.StrEnum):
    SAVED = "saved"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACKNOWLEDGED = "acknowledged"

    @property
    def label(self) -> str:
        return {
            ReportAction.SAVED: "下書き保存",
            ReportAction.SUBMITTED: "提出",
            ReportAction.RETURNED: "差戻し",
            ReportAction.ACKNOWLEDGED: "確認",
        }[self]


class ReportEvent(Base):
    """What happened to a report, by whom and when (with the centre's comment on return)."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("monthly_reports.id"), index=True)
    action: Mapped[ReportAction] = mapped_column(enum_column(ReportAction))
    version_number: Mapped[int]
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    report: Mapped[MonthlyReport] = relationship(back_populates="events")
    account: Mapped[Account] = relationship()
