"""Alerts raised by the absence sweep (F-ALERT), their lifecycle, and the sweep's memory.

An alert is one signal of one streak: (child, kind, streak id) is unique, so a
streak never raises the same signal twice — not when the sweep runs again, not
when two sweeps race (the insert tolerates the conflict, see ``sweep.py``).

Lifecycle: 未対応 open → 確認済 acknowledged (who, when) → 対応済 resolved
(who, when, a required note). An open alert may be resolved directly. A
resolved alert stays resolved: a streak that goes on raises its next level
(警告 → アラート) as a new alert, which is what the caseworker must see.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import Account
from webapp.alerts.streaks import SignalKind
from webapp.attendance.models import AttendanceEntry
from webapp.children.models import Child
from webapp.db import Base, Model, enum_column
from webapp.organisations.models import Facility

RESOLUTION_NOTE_MAX = 2000

KIND_LABELS = {
    SignalKind.WARNING: "連続欠席（警告）",
    SignalKind.ALERT: "連続欠席（アラート）",
    SignalKind.NO_CONTACT: "連絡なし欠席",
}


class AlertStatus(enum.StrEnum):
    OPEN = "open"  # 未対応
    ACKNOWLEDGED = "acknowledged"  # 確認済: someone at the centre is on it
    RESOLVED = "resolved"  # 対応済: closed with a note of what was done

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    AlertStatus.OPEN: "未対応",
    AlertStatus.ACKNOWLEDGED: "確認済",
    AlertStatus.RESOLVED: "対応済",
}


class Alert(Model):
    __tablename__ = "alerts"
    __table_args__ = (
        # One signal per streak, whatever happens to the sweep: the last line of defence.
        sa.UniqueConstraint("child_id", "kind", "streak_id"),
        # The list and the menu badge: not-yet-resolved alerts first.
        sa.Index("ix_alerts_status_raised_at", "status", "raised_at"),
        sa.CheckConstraint("streak_length >= 1 AND current_length >= 1", name="lengths_valid"),
    )

    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"))
    # The facility of the streak's latest absent day, where the caseworker will call.
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    kind: Mapped[SignalKind] = mapped_column(enum_column(SignalKind, 30))
    # The streak's first absent day: its id (webapp.alerts.streaks).
    streak_id: Mapped[dt.date]
    # The day the signal became true (the 3rd / 7th absent open day, the first no-contact day).
    signal_day: Mapped[dt.date]
    streak_length: Mapped[int]  # open days absent when raised
    current_length: Mapped[int]  # kept up to date by the sweep while the alert is not resolved
    last_absent_day: Mapped[dt.date]
    raised_at: Mapped[dt.datetime]
    status: Mapped[AlertStatus] = mapped_column(enum_column(AlertStatus), default=AlertStatus.OPEN)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    resolved_at: Mapped[dt.datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    resolution_note: Mapped[str | None] = mapped_column(sa.String(RESOLUTION_NOTE_MAX))
    # Bumped by every decision, carried by the forms: a stale form gets 409, not a silent overwrite.
    version: Mapped[int] = mapped_column(default=1)

    child: Mapped[Child] = relationship()
    facility: Mapped[Facility] = relationship()
    acknowledged_by: Mapped[Account | None] = relationship(foreign_keys=[acknowledged_by_id])
    resolved_by: Mapped[Account | None] = relationship(foreign_keys=[resolved_by_id])

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[SignalKind(self.kind)]


class AlertSweepState(Base):
    """What the sweep remembers per child between runs (``streaks.AlertState``), so that a
    sweep reads only the days since the last one, not years of history."""

    __tablename__ = "alert_sweep_states"
    # The sweep's bookkeeping, rewritten daily for every child: not a change anyone made.
    __audit__ = False

    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"), primary_key=True)
    evaluated_through: Mapped[dt.date]
    # streaks.RaisedStreak records as JSON: [[streak_id, last_day, level, no_contact], ...]
    raised: Mapped[str] = mapped_column(sa.Text)
    # Entries changed after this (their updated_at) are re-read by the next sweep.
    checked_at: Mapped[dt.datetime]


# The sweep asks "which entries changed since the last sweep?": a range scan on
# this index instead of reading years of attendance. Declared here, beside the
# query that needs it, and created by migration 0007.
sa.Index("ix_attendance_entries_updated_at", AttendanceEntry.__table__.c.updated_at)
