"""Per-facility closures (休業期間) and extra open days (特別開所日), set by the facility or admin.

The calendar (``webapp.closed_days.services``) reads them through
``DbFacilityDays``. Foreign keys are named by table only: the calendar is the
lowest area and imports no other area's models.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Model, enum_column


class ClosureKind(enum.StrEnum):
    CLOSED = "closed"  # 休業: 夏休み, 開校記念日, 振替休業日 ...
    EXTRA_OPEN = "extra_open"  # 特別開所: 土曜授業, 行事 on an otherwise closed day

    @property
    def label(self) -> str:
        return {ClosureKind.CLOSED: "休業期間", ClosureKind.EXTRA_OPEN: "特別開所日"}[self]


LABEL_MAX = 60


class FacilityClosure(Model):
    """An inclusive day range in which a facility is closed (or, for EXTRA_OPEN, open)."""

    __tablename__ = "facility_closures"
    __table_args__ = (sa.CheckConstraint("ends_on >= starts_on", name="range_ordered"),)

    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    kind: Mapped[ClosureKind] = mapped_column(enum_column(ClosureKind))
    label: Mapped[str] = mapped_column(sa.String(LABEL_MAX))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
