"""The caseworker's side of alerts: list, open count, one alert, acknowledge, resolve.

Every query goes through the children scope (``Scope.children_clause``): a
caseworker sees the alerts of their centre's children only, and an alert
outside the scope is a 404 like its child.

Decisions are compare-and-set on the alert's ``version``: the form carries the
version it was shown, and a decision on a stale form (someone else acknowledged
or resolved it meanwhile) is refused with :class:`AlertConflict` — the view
answers 409 and keeps what the user typed. The sweep's escalation to 要対応
bumps the version too, so a form shown at 注意 cannot acknowledge 要対応.

Order, most serious first (F-DASH): not yet resolved before resolved; then
要対応 before 注意, 連絡なし before without within a level; then 未対応 before
確認済 (an escalated alert is 未対応 again); then by time.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from webapp.alerts.models import Alert, AlertEvent, AlertEventKind, AlertLevel, AlertStatus
from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.db import utcnow
from webapp.i18n import _
from webapp.organisations.services import PER_PAGE, Page, paginate

_UNRESOLVED_FIRST = sa.case((Alert.status == AlertStatus.RESOLVED, 1), else_=0)
_ACTION_FIRST = sa.case((Alert.level == AlertLevel.ACTION, 0), else_=1)
_NO_CONTACT_FIRST = sa.case((Alert.no_contact.is_(True), 0), else_=1)
_OPEN_FIRST = sa.case((Alert.status == AlertStatus.OPEN, 0), else_=1)
MOST_SERIOUS_FIRST = (_UNRESOLVED_FIRST, _ACTION_FIRST, _NO_CONTACT_FIRST, _OPEN_FIRST)


class AlertError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


class AlertConflict(AlertError):
    """The alert changed since the form was shown, or is no longer in a state that allows it."""


def _conflict():
    return AlertConflict(_("このアラートは表示したあとに更新されました（他の職員の操作、または要対応への引き上げ）。"
                           "あなたの入力内容はこの画面に残っています。最新の状態を確認してから、もう一度操作してください。"))


class AlertService:
    def __init__(self, db: Session, scope: Scope):
        self.db, self.scope = db, scope

    def _query(self) -> sa.Select:
        return (sa.select(Alert).join(Child, Alert.child_id == Child.id).where(self.scope.children_clause())
                .options(joinedload(Alert.child), joinedload(Alert.facility)))

    def search(self, *, status: AlertStatus | None, level: AlertLevel | None, no_contact: bool = False,
               recent_since: dt.datetime, number: int) -> Page:
        """One page of the list: every unresolved alert and the resolved ones raised since
        ``recent_since`` — two ranges of the (status, raised_at) index. An unfiltered list used to
        count and sort every alert the scope ever had, growing with the years (issue #19)."""
        query = self._filtered(status, level, no_contact).where(sa.or_(
            Alert.status.in_([AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED]),
            sa.and_(Alert.status == AlertStatus.RESOLVED, Alert.raised_at >= recent_since)))
        return paginate(self.db, query.order_by(*MOST_SERIOUS_FIRST, Alert.raised_at.desc(), Alert.id.desc()),
                        number)

    def older(self, *, level: AlertLevel | None, no_contact: bool = False, raised_before: dt.datetime,
              after_id: int | None) -> tuple[list[Alert], bool]:
        """Resolved alerts raised before ``raised_before``, newest first, ``limit`` at a time after the
        alert ``after_id`` (keyset: the index walked backwards from there, no count of the years);
        returns the alerts and whether there are more."""
        limit = PER_PAGE
        query = self._filtered(AlertStatus.RESOLVED, level, no_contact).where(Alert.raised_at < raised_before)
        cursor = self.get(after_id) if after_id is not None else None
        if cursor is not None:
            query = query.where(Alert.raised_at <= cursor.raised_at, sa.or_(
                Alert.raised_at < cursor.raised_at, Alert.id < cursor.id))
        found = list(self.db.scalars(query.order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(limit + 1))
                     .unique())
        return found[:limit], len(found) > limit

    def _filtered(self, status, level, no_contact) -> sa.Select:
        query = self._query()
        if status is not None:
            query = query.where(Alert.status == status)
        if level is not None:
            query = query.where(Alert.level == level)
        if no_contact:
            query = query.where(Alert.no_contact.is_(True))
        return query

    def open_count_query(self) -> sa.Select:
        return (sa.select(sa.func.count(Alert.id)).join(Child, Alert.child_id == Child.id)
                .where(self.scope.children_clause(), Alert.status == AlertStatus.OPEN))

    def open_count(self) -> int:
        return self.db.scalar(self.open_count_query()) or 0

    def needing_action(self, limit: int = 20) -> list[Alert]:
        """Open and acknowledged alerts for the dashboard, most serious first, oldest first within."""
        return list(self.db.scalars(
            # IN rather than != RESOLVED: a range of the (status, raised_at) index, not every alert ever raised.
            self._query().where(Alert.status.in_([AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED]))
            .order_by(*MOST_SERIOUS_FIRST, Alert.raised_at, Alert.id).limit(limit)
        ).unique())

    def for_child(self, child_id: int) -> list[Alert]:
        return list(self.db.scalars(
            self._query().where(Alert.child_id == child_id)
            .order_by(*MOST_SERIOUS_FIRST, Alert.raised_at.desc(), Alert.id.desc())
        ).unique())

    def get(self, alert_id: int) -> Alert | None:
        return self.db.scalars(self._query().where(Alert.id == alert_id)).unique().first()

    def acknowledge(self, alert: Alert, account, version: int | None) -> Alert:
        now = utcnow()
        self._claim(alert, version, (AlertStatus.OPEN,), now)
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at, alert.acknowledged_by_id = now, account.id
        self._event(alert, AlertEventKind.ACKNOWLEDGED, account, now)
        self.db.flush()
        return alert

    def resolve(self, alert: Alert, account, version: int | None, note: str) -> Alert:
        now = utcnow()
        self._claim(alert, version, (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED), now)
        if alert.acknowledged_at is None:
            # Resolved straight away: whoever resolved it also saw it.
            alert.acknowledged_at, alert.acknowledged_by_id = now, account.id
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at, alert.resolved_by_id, alert.resolution_note = now, account.id, note
        self._event(alert, AlertEventKind.RESOLVED, account, now, note=note)
        self.db.flush()
        return alert

    def _event(self, alert: Alert, kind: AlertEventKind, account, now, note: str | None = None) -> None:
        self.db.add(AlertEvent(alert_id=alert.id, kind=kind, at=now, actor_id=account.id, level=alert.level,
                               streak_length=alert.current_length, note=note))

    def _claim(self, alert: Alert, version: int | None, allowed, now) -> None:
        """Compare-and-set on version and status in one UPDATE (it locks the row, so of two
        caseworkers acting at once exactly one wins); the change itself then goes through
        the ORM so the change records (S-AUDIT) see it."""
        if version is None or version != alert.version:
            raise _conflict()
        result = self.db.execute(
            sa.update(Alert)
            .where(Alert.id == alert.id, Alert.version == version, Alert.status.in_(allowed))
            .values(version=version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            self.db.expire(alert)
            raise _conflict()
        alert.version = version + 1
