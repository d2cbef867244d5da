"""Notices: the admin's register, what a facility sees, read marks, the login page's planned stops."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.accounts.models import Account
from webapp.authz import Role
from webapp.notices.models import Notice, NoticeKind, NoticeRead


@dataclasses.dataclass(frozen=True)
class NoticeItem:
    notice: Notice
    read: bool


class NoticeService:
    def __init__(self, db: Session):
        self.db = db

    # --- Admin ------------------------------------------------------------------

    def all(self) -> list[Notice]:
        return list(self.db.scalars(sa.select(Notice).order_by(Notice.publish_from.desc(), Notice.id.desc())))

    def get(self, notice_id: int) -> Notice | None:
        return self.db.get(Notice, notice_id)

    def save(self, notice: Notice | None, values: dict, author: Account) -> Notice:
        if notice is None:
            notice = Notice(author_id=author.id)
            self.db.add(notice)
        kind = NoticeKind(values["kind"])
        notice.kind = kind
        notice.title = values["title"]
        notice.body = values["body"]
        notice.audience_all = kind == NoticeKind.MAINTENANCE or values["audience"] == "all"
        notice.audience_types = "" if notice.audience_all else " ".join(values["audience_types"])
        notice.publish_from = values["publish_from"]
        notice.maintenance_start = values.get("maintenance_start")
        notice.maintenance_end = values.get("maintenance_end")
        # A planned stop stays published until the stop is over unless told otherwise.
        notice.publish_until = values.get("publish_until") or (
            notice.maintenance_end if kind == NoticeKind.MAINTENANCE else None)
        self.db.flush()
        return notice

    def withdraw(self, notice: Notice, now: dt.datetime) -> None:
        if notice.withdrawn_at is None:
            notice.withdrawn_at = now
            self.db.flush()

    # --- Readers ------------------------------------------------------------------

    def _facility_type(self, account: Account) -> str | None:
        if account.role != Role.FACILITY or account.facility is None:
            return None
        # The facility came with the account (webapp.accounts.services.SESSION_WITH_ACCOUNT).
        return account.facility.facility_type

    def current_for(self, account: Account, now: dt.datetime) -> list[NoticeItem]:
        """Published notices whose audience includes the account's facility, newest first.

        With whether the account has read each, in the same statement: every
        page of a facility shows the unread count in its menu. (A notice is read
        at most once per account: notice_reads is unique on the pair.)
        """
        facility_type = self._facility_type(account)
        if facility_type is None:
            return []
        own_read = sa.and_(NoticeRead.notice_id == Notice.id, NoticeRead.account_id == account.id)
        rows = self.db.execute(
            sa.select(Notice, NoticeRead.id).outerjoin(NoticeRead, own_read).where(
                Notice.withdrawn_at.is_(None), Notice.publish_from <= now,
                sa.or_(Notice.publish_until.is_(None), Notice.publish_until > now),
            ).order_by(Notice.publish_from.desc(), Notice.id.desc()))
        return [NoticeItem(notice, read_id is not None) for notice, read_id in rows
                if notice.reaches(str(facility_type))]

    def visible_to(self, account: Account, notice_id: int, now: dt.datetime) -> Notice | None:
        """The notice if it is current and addressed to the account's facility; else None (→ 404)."""
        notice = self.db.get(Notice, notice_id)
        facility_type = self._facility_type(account)
        if notice is None or facility_type is None or not notice.is_current(now):
            return None
        return notice if notice.reaches(str(facility_type)) else None

    def mark_read(self, notice: Notice, account: Account) -> None:
        exists = self.db.scalar(sa.select(NoticeRead.id).where(
            NoticeRead.notice_id == notice.id, NoticeRead.account_id == account.id))
        if exists is None:
            self.db.add(NoticeRead(notice_id=notice.id, account_id=account.id))
            self.db.flush()

    def planned_stops(self, now: dt.datetime) -> list[Notice]:
        """Planned stops for the login page: from publication until the stop has ended."""
        query = sa.select(Notice).where(
            Notice.kind == NoticeKind.MAINTENANCE, Notice.withdrawn_at.is_(None),
            Notice.publish_from <= now, Notice.maintenance_end > now,
        ).order_by(Notice.maintenance_start)
        return list(self.db.scalars(query))
