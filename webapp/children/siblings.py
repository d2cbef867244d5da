"""Sibling links (きょうだい, F-SIB): children the ward links so caseworkers see them together.

A link is symmetric and stored once, as the ordered pair (smaller id, larger
id); the check constraint forbids self-links and the unique constraint makes
linking twice a no-op. Siblings are shown only through the viewer's scope: a
sibling outside it is counted, never named (S-WEB).
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.db import Model


class SiblingLink(Model):
    __tablename__ = "sibling_links"
    __table_args__ = (
        sa.CheckConstraint("child_id < sibling_id", name="ordered_pair"),
        sa.UniqueConstraint("child_id", "sibling_id"),
    )

    child_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"))
    sibling_id: Mapped[int] = mapped_column(sa.ForeignKey("children.id"), index=True)


@dataclasses.dataclass(frozen=True)
class SiblingView:
    visible: list[Child]
    # Siblings the viewer may not see: shown as 「他センター所管のきょうだいあり」 without names.
    hidden_count: int


class SelfLinkError(ValueError):
    pass


class SiblingService:
    def __init__(self, db: Session):
        self.db = db

    def sibling_ids(self, child_id: int) -> set[int]:
        rows = self.db.execute(
            sa.select(SiblingLink.child_id, SiblingLink.sibling_id).where(
                sa.or_(SiblingLink.child_id == child_id, SiblingLink.sibling_id == child_id))
        )
        return {a if b == child_id else b for a, b in rows}

    def link(self, child_id: int, other_id: int) -> bool:
        """Links two children; True if a new link was made, False if they were already linked."""
        if child_id == other_id:
            raise SelfLinkError(child_id)
        low, high = sorted((child_id, other_id))
        exists = self.db.scalar(sa.select(SiblingLink.id).where(
            SiblingLink.child_id == low, SiblingLink.sibling_id == high))
        if exists is not None:
            return False
        self.db.add(SiblingLink(child_id=low, sibling_id=high))
        self.db.flush()
        return True

    def unlink(self, child_id: int, other_id: int) -> bool:
        low, high = sorted((child_id, other_id))
        link = self.db.scalar(sa.select(SiblingLink).where(
            SiblingLink.child_id == low, SiblingLink.sibling_id == high))
        if link is None:
            return False
        self.db.delete(link)
        self.db.flush()
        return True

    def for_viewer(self, child_id: int, scope: Scope) -> SiblingView:
        ids = self.sibling_ids(child_id)
        if not ids:
            return SiblingView([], 0)
        visible = list(self.db.scalars(
            scope.children().where(Child.id.in_(ids)).order_by(Child.family_name_kana, Child.given_name_kana)))
        return SiblingView(visible, len(ids) - len(visible))
