"""Daily attendance (日々の出欠, F-DAILY): one current entry per child and day, plus its history.

``AttendanceEntry`` is what the facility says now; every correction moves the
previous content into ``AttendanceEntryVersion`` first, so the centre can see
what was entered before and by whom (a changed absence to presence is exactly
what a centre must be able to notice).
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.attendance.status import Attendance
from webapp.db import Base, Model, UTCDateTime, enum_column, utcnow

ATTENDANCE_LABELS = {
    Attendance.PRESENT: "出席",
    Attendance.ABSENT: "欠席",
    Attendance.LATE: "遅刻",
    Attendance.LEFT_EARLY: "早退",
}

NOTE_MAX = 200


class AbsenceReason(enum.StrEnum):
    ILLNESS = "illness"  # 病気・けが
    FAMILY = "family"  # 家庭の事情
    BEREAVEMENT = "bereavement"  # 忌引
    OTHER = "other"  # その他
    UNKNOWN = "unknown"  # 理由不明

    @property
    def label(self) -> str:
        return ABSENCE_REASON_LABELS[self]


ABSENCE_REASON_LABELS = {
    AbsenceReason.ILLNESS: "病気・けが",
    AbsenceReason.FAMILY: "家庭の事情",
    AbsenceReason.BEREAVEMENT: "忌引",
    AbsenceReason.OTHER: "その他",
    AbsenceReason.UNKNOWN: "理由不明",
}


class _EntryContent:
    """The payload shared by an entry and its superseded versions."""

    status: Mapped[Attendance] = mapped_column(enum_column(Attendance))
    absence_reason: Mapped[AbsenceReason | None] = mapped_column(enum_column(AbsenceReason))
    # 連絡なし欠席: absent without any contact from the family (its own alert, F-ALERT).
    no_contact: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(sa.String(NOTE_MAX))
    version: Mapped[int] = mapped_column(default=1)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def status_label(self) -> str:
        return ATTENDANCE_LABELS[Attendance(self.status)]

    @property
    def reason_label(self) -> str:
        return ABSENCE_REASON_LABELS[AbsenceReason(self.absence_reason)] if self.absence_reason else ""


class AttendanceEntry(_EntryContent, Model):
    """The current entry of one child on one day."""

    __tablename__ = "attendance_entries"
    __table_args__ = (
        sa.UniqueConstraint("child_id", "day"),
        sa.Index("ix_attendance_entries_facility_id_day", "facility_id", "day"),
    )

    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"), index=True)
    # The facility the child attended THAT day: a transfer leaves old days with the old facility.
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"))
    day: Mapped[dt.date]

    versions: Mapped[list[AttendanceEntryVersion]] = relationship(
        back_populates="entry", order_by="AttendanceEntryVersion.version"
    )


class AttendanceEntryVersion(_EntryContent, Base):
    """A superseded content of an entry, kept when it is corrected."""

    __tablename__ = "attendance_entry_versions"
    __table_args__ = (
        sa.UniqueConstraint("entry_id", "version"),
        # The child's timeline: one month of superseded versions (migration 0012).
        sa.Index("ix_attendance_entry_versions_child_id_day", "child_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("attendance_entries.id"), index=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"))
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"))
    day: Mapped[dt.date]
    superseded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[AttendanceEntry] = relationship(back_populates="versions")
