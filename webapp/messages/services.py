"""Message threads (F-MSG): post, read in order, read status and unread counts on both sides.

Which messages an account sees: messages about children in its scope; a
facility additionally only those written while the child was at that
facility (``Message.facility_id``), so a transferred child's thread starts
afresh at the new facility and the old one loses it, while the centre keeps
the whole history.

"Unread" means messages from the *other* side newer than the account's last
read message in that thread; what colleagues on one's own side wrote is not
waiting for one's attention.

Email (no personal data, F-NOTIFY): a new message queues at most one email
per thread per hour per recipient of the other side.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.accounts.models import Account
from webapp.authz import Role
from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.messages.models import Message, MessageRead, Side

NOTICE_INTERVAL = dt.timedelta(hours=1)
# The account's read marker joined to its messages. Made once per process: building
# an alias builds a proxy of each of its columns, which cost every page (the menu's
# unread badge) more than running the query.
_OWN_READ = sa.orm.aliased(MessageRead)


def side_of(account: Account) -> Side:
    return Side.FACILITY if account.role == Role.FACILITY else Side.CENTRE


def visible_clause(scope: Scope) -> sa.ColumnElement[bool]:
    clause = Message.child_id.in_(sa.select(Child.id).where(scope.children_clause()))
    if scope.account.role == Role.FACILITY:
        clause = sa.and_(clause, Message.facility_id == scope.account.facility_id)
    return clause


@dataclasses.dataclass(frozen=True)
class Thread:
    child: Child
    last_at: dt.datetime | None
    count: int
    unread: int


class MessageService:
    def __init__(self, session: Session, outbox, clock):
        self.session, self.outbox, self.clock = session, outbox, clock

    # --- reading -------------------------------------------------------------

    def thread(self, scope: Scope, child: Child) -> list[Message]:
        return list(self.session.scalars(
            sa.select(Message).where(visible_clause(scope), Message.child_id == child.id).order_by(Message.id)
        ))

    def _unread_query(self, scope: Scope) -> sa.Select:
        """(child_id, unread count) for the scope's account, threads with something unread only."""
        account = scope.account
        read = _OWN_READ
        return (
            sa.select(Message.child_id, sa.func.count(Message.id))
            .outerjoin(read, sa.and_(read.account_id == account.id, read.child_id == Message.child_id))
            .where(visible_clause(scope), Message.side != side_of(account),
                   Message.id > sa.func.coalesce(read.last_read_message_id, 0))
            .group_by(Message.child_id)
        )

    def unread_counts(self, scope: Scope) -> dict[int, int]:
        # The menu's unread badge, on every page: the statement is built once per scope key.
        query = scope.statement("messages.unread", lambda: self._unread_query(scope))
        return dict(self.session.execute(query).all())

    def unread_total(self, scope: Scope) -> int:
        return sum(self.unread_counts(scope).values())

    def threads(self, scope: Scope, *, unread_only: bool = False, limit: int = 300) -> list[Thread]:
        """Threads with messages the account may see: unread ones first, then the most recent."""
        unread = self.unread_counts(scope)
        rows = self.session.execute(
            sa.select(Message.child_id, sa.func.max(Message.created_at), sa.func.count(Message.id))
            .where(visible_clause(scope))
            .where(Message.child_id.in_(list(unread)) if unread_only else sa.true())
            .group_by(Message.child_id)
        ).all()
        children = {c.id: c for c in self.session.scalars(
            sa.select(Child).where(Child.id.in_([r[0] for r in rows])))} if rows else {}
        threads = [Thread(children[child_id], last_at, count, unread.get(child_id, 0))
                   for child_id, last_at, count in rows if child_id in children]
        # Unread threads first, then the most recent activity on top.
        threads.sort(key=lambda t: (t.unread == 0, -(t.last_at.timestamp() if t.last_at else 0), t.child.id))
        return threads[:limit]

    def _read_row(self, account_id: int, child_id: int) -> MessageRead:
        row = self.session.scalar(sa.select(MessageRead).where(
            MessageRead.account_id == account_id, MessageRead.child_id == child_id))
        if row is not None:
            return row
        # Two requests of one account (or two posts notifying it) may race to
        # create the row: a savepoint keeps the loser's transaction usable.
        try:
            with self.session.begin_nested():
                row = MessageRead(account_id=account_id, child_id=child_id)
                self.session.add(row)
        except sa.exc.IntegrityError:
            row = self.session.scalar(sa.select(MessageRead).where(
                MessageRead.account_id == account_id, MessageRead.child_id == child_id))
        return row

    def mark_read(self, account: Account, child: Child, messages: list[Message]) -> None:
        """Everything shown to the account is read (the marker never moves back)."""
        if not messages:
            return
        newest = max(m.id for m in messages)
        row = self._read_row(account.id, child.id)
        if row.last_read_message_id is None or row.last_read_message_id < newest:
            row.last_read_message_id = newest

    # --- writing -------------------------------------------------------------

    def post(self, account: Account, child: Child, body: str) -> Message:
        """Add a message (the author has read the thread up to it) and notify the other side."""
        message = Message(child_id=child.id, facility_id=child.facility_id, author_id=account.id,
                          side=side_of(account), body=body, created_at=self.clock.now())
        self.session.add(message)
        self.session.flush()
        self.mark_read(account, child, [message])
        self._notify(message, child)
        return message

    def _recipients(self, message: Message, child: Child) -> list[Account]:
        if message.side == Side.FACILITY:
            where = sa.and_(Account.role == Role.CASEWORKER, Account.centre_id == child.centre_id)
        else:
            where = sa.and_(Account.role == Role.FACILITY, Account.facility_id == message.facility_id)
        return list(self.session.scalars(
            sa.select(Account).where(where, Account.active.is_(True), Account.email.is_not(None),
                                     Account.email != "").order_by(Account.id)))

    def _notify(self, message: Message, child: Child) -> None:
        now = self.clock.now()
        for recipient in self._recipients(message, child):
            row = self._read_row(recipient.id, child.id)
            if row.notified_at is not None and row.notified_at > now - NOTICE_INTERVAL:
                continue  # told within the hour; the unread badge shows the rest
            unread = self.session.scalar(
                sa.select(sa.func.count(Message.id)).where(
                    Message.child_id == child.id, Message.side == message.side,
                    Message.id > (row.last_read_message_id or 0),
                    # A facility recipient counts only its own facility's messages.
                    Message.facility_id == message.facility_id if message.side == Side.CENTRE else sa.true()))
            # The path holds the child's number only: no name or text leaves the system.
            self.outbox.enqueue(recipient.email, "messages", count=unread or 1,
                                path=f"/children/{child.id}/messages")
            row.notified_at = now
