"""Records of the April roll-over (年度更新, F-ROLLOVER): one run per school year, and each transfer."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

# The tables the foreign keys below name must be in the metadata even where
# only this module is imported (the `mimamori rollover` command).
from webapp.accounts.models import Account  # noqa: F401
from webapp.children.models import Child  # noqa: F401
from webapp.db import Model


class RolloverRun(Model):
    """The roll-over of school year ``year`` (April ``year`` – March ``year + 1``) was applied.

    Unique per year: this row is what makes applying twice change nothing.
    """

    __tablename__ = "rollover_runs"

    year: Mapped[int] = mapped_column(unique=True)
    applied_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    summary: Mapped[str] = mapped_column(sa.String(1000))


class ChildTransfer(Model):
    """A child moved from one facility to another on ``effective_on`` (転校・転園・進学).

    The child row holds only the current facility; this keeps the placements
    so history (reports and daily entries carry their own facility) can be
    explained and streaks walked across the move.
    """

    __tablename__ = "child_transfers"

    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"), index=True)
    from_facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"))
    to_facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"))
    effective_on: Mapped[dt.date]
    rollover_year: Mapped[int | None]
