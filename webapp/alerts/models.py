"""Alerts raised by the absence sweep (F-ALERT), their history, and the sweep's memory.

One alert per absence streak: (child, streak id) is unique, so a streak never
raises two alerts — not when the sweep runs again, not when two sweeps race
(the insert tolerates the conflict, see ``sweep.py``). The alert escalates
注意 → 要対応 and carries 連絡なし as a flag (rules: ``escalation.py``).

Lifecycle: 未対応 open → 確認済 acknowledged (who, when) → 対応済 resolved
(who, when, a required note). An open alert may be resolved directly.
Escalation to 要対応 sends an acknowledged alert back to 未対応; a resolved
alert stays resolved. ``alert_events`` keeps every step (raised, escalated,
flagged, acknowledged, resolved), including the separate alerts that one
streak raised before migration 0011 merged them.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.accounts.models import Account
from webapp.attendance.models import AttendanceEntry
from webapp.children.models import Child
from webapp.db import Base, Model, enum_column
from webapp.organisations.models import Facility

RESOLUTION_NOTE_MAX = 2000


class AlertLevel(enum.StrEnum):
    CAUTION = "caution"  # 注意: absent 3 open days (or a 連絡なし day)
    ACTION = "action"  # 要対応: absent 7 open days

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    @property
    def rank(self) -> int:
        return 1 if self is AlertLevel.ACTION else 0


LEVEL_LABELS = {AlertLevel.CAUTION: "注意", AlertLevel.ACTION: "要対応"}
NO_CONTACT_LABEL = "連絡なし"
# The kinds of the separate alerts before migration 0011: kept in the history, and still
# written to ``alerts.kind`` for the previous release during a rolling upgrade.
LEGACY_KIND_LABELS = {
    "absence_warning": "連続欠席（警告）",
    "absence_alert": "連続欠席（アラート）",
    "absence_no_contact": "連絡なし欠席",
}



def legacy_kind(level: str, raised_by_no_contact: bool) -> str:
    """The pre-0011 kind that best names a streak's alert, for ``alerts.kind``."""
    if level == AlertLevel.ACTION:
        return "absence_alert"
    return "absence_no_contact" if raised_by_no_contact else "absence_warning"


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
        # One alert per streak, whatever happens to the sweep: the last line of defence.
        sa.UniqueConstraint("child_id", "streak_id"),
        # The pre-0011 key, kept until the contract migration (one alert per streak satisfies it).
        sa.UniqueConstraint("child_id", "kind", "streak_id"),
        # The list and the menu badge: not-yet-resolved alerts first.
        sa.Index("ix_alerts_status_raised_at", "status", "raised_at"),
        sa.CheckConstraint("streak_length >= 1 AND current_length >= 1", name="lengths_valid"),
    )

    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"))
    # The facility of the streak's latest absent day, where the caseworker will call.
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    # Server defaults: rows the previous release inserts during a rolling upgrade get them.
    level: Mapped[AlertLevel] = mapped_column(enum_column(AlertLevel), server_default=AlertLevel.CAUTION.value)
    # 連絡なし: some day of the streak was absent without word from the family (its first day).
    no_contact: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    no_contact_day: Mapped[dt.date | None]
    # When the sweep raised an existing 注意 alert to 要対応 (None: raised at its level).
    escalated_at: Mapped[dt.datetime | None]
    # The pre-0011 kind (``legacy_kind``), written only for the previous release, which reads
    # it during a rolling upgrade; a later release's contract migration drops it (expand/contract,
    # runbooks/patching.md). Nothing in this release reads it.
    kind: Mapped[str] = mapped_column(sa.Enum(*LEGACY_KIND_LABELS, name="signalkind", native_enum=False, length=30))
    # The streak's first absent day: its id (webapp.alerts.streaks).
    streak_id: Mapped[dt.date]
    # The day the alert became due (the 3rd / 7th absent open day, or the first no-contact day).
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

    events: Mapped[list[AlertEvent]] = relationship(order_by="(AlertEvent.at, AlertEvent.id)",
                                                    back_populates="alert")

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[AlertLevel(self.level)]

    @property
    def severity(self) -> tuple[int, int]:
        """Bigger is more serious: 要対応 before 注意, 連絡なし first within a level."""
        return AlertLevel(self.level).rank, int(bool(self.no_contact))


class AlertEventKind(enum.StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"  # 注意 → 要対応
    REOPENED = "reopened"  # an acknowledgement undone by the escalation
    NO_CONTACT = "no_contact"  # the 連絡なし flag set on an existing alert
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS = {
    AlertEventKind.RAISED: "発生",
    AlertEventKind.ESCALATED: "要対応に引き上げ",
    AlertEventKind.REOPENED: "確認済を未対応に戻す（要対応への引き上げのため）",
    AlertEventKind.NO_CONTACT: "連絡なしの欠席あり",
    AlertEventKind.ACKNOWLEDGED: "確認",
    AlertEventKind.RESOLVED: "対応済",
}


class AlertEvent(Base):
    """One step of an alert's life, append-only: who (None: the sweep), when, at what level.

    Rows migrated from the separate alerts before 0011 keep the old alert's id
    and kind (``legacy_alert_id``, ``legacy_kind``): each of their raises,
    acknowledgements and resolutions is one event here."""

    __tablename__ = "alert_events"
    # The history itself: the alert's own change records already cover each decision.
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id"), index=True)
    kind: Mapped[AlertEventKind] = mapped_column(enum_column(AlertEventKind))
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    level: Mapped[AlertLevel | None] = mapped_column(enum_column(AlertLevel))
    streak_length: Mapped[int | None]
    day: Mapped[dt.date | None]  # the day the raise / escalation / flag became due
    note: Mapped[str | None] = mapped_column(sa.String(RESOLUTION_NOTE_MAX))
    legacy_alert_id: Mapped[int | None]
    legacy_kind: Mapped[str | None] = mapped_column(sa.String(30))

    alert: Mapped[Alert] = relationship(back_populates="events")
    actor: Mapped[Account | None] = relationship()

    @property
    def legacy_label(self) -> str | None:
        """The old alert's kind, for the steps migrated from before 0011."""
        return LEGACY_KIND_LABELS.get(self.legacy_kind, self.legacy_kind) if self.legacy_kind else None


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
