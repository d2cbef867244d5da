"""The caseworker's side of alerts: list, open count, one alert, acknowledge, resolve.

Every query goes through the children scope (``Scope.children_clause``): a
caseworker sees the alerts of their centre's children only, and an alert
outside the scope is a 404 like its child.

Decisions are compare-and-set on the alert's ``version``: the form carries the
version it was shown, and a decision on a stale form (someone else acknowledged
or resolved it meanwhile) is refused with :class:`AlertConflict` — the view
answers 409 and keeps what the user typed.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from webapp.alerts.models import Alert, AlertStatus
from webapp.alerts.streaks import SignalKind
from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.db import utcnow
from webapp.i18n import _
from webapp.organisations.services import Page, paginate

# Not yet resolved first (open before acknowledged), newest first within each.
_STATUS_ORDER = sa.case(
    (Alert.status == AlertStatus.OPEN, 0), (Alert.status == AlertStatus.ACKNOWLEDGED, 1), else_=2
)


class AlertError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


class AlertConflict(AlertError):
    """The alert changed since the form was shown, or is no longer in a state that allows it."""


def _conflict():
    return AlertConflict(_("他の職員がこのアラートを先に更新しました。あなたの入力内容はこの画面に残っています。"
                           "最新の状態を確認してから、もう一度操作してください。"))


class AlertService:
    def __init__(self, db: Session, scope: Scope):
        self.db, self.scope = db, scope

    def _query(self) -> sa.Select:
        return (sa.select(Alert).join(Child, Alert.child_id == Child.id).where(self.scope.children_clause())
                .options(joinedload(Alert.child), joinedload(Alert.facility)))

    def search(self, *, status: AlertStatus | None, kind: SignalKind | None, number: int) -> Page:
        query = self._query()
        if status is not None:
            query = query.where(Alert.status == status)
        if kind is not None:
            query = query.where(Alert.kind == kind)
        return paginate(self.db, query.order_by(_STATUS_ORDER, Alert.raised_at.desc(), Alert.id.desc()), number)

    def open_count(self) -> int:
        return self.db.scalar(
            sa.select(sa.func.count(Alert.id)).join(Child, Alert.child_id == Child.id)
            .where(self.scope.children_clause(), Alert.status == AlertStatus.OPEN)
        ) or 0

    def needing_action(self, limit: int = 20) -> list[Alert]:
        """Open and acknowledged alerts for the dashboard: open first, then the
        7-day alerts before no-contact before warnings, oldest first within."""
        severity = sa.case((Alert.kind == SignalKind.ALERT, 0), (Alert.kind == SignalKind.NO_CONTACT, 1), else_=2)
        return list(self.db.scalars(
            # IN rather than != RESOLVED: a range of the (status, raised_at) index, not every alert ever raised.
            self._query().where(Alert.status.in_([AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED]))
            .order_by(_STATUS_ORDER, severity, Alert.raised_at, Alert.id).limit(limit)
        ).unique())

    def for_child(self, child_id: int) -> list[Alert]:
        return list(self.db.scalars(
            self._query().where(Alert.child_id == child_id)
            .order_by(_STATUS_ORDER, Alert.raised_at.desc(), Alert.id.desc())
        ).unique())

    def get(self, alert_id: int) -> Alert | None:
        return self.db.scalars(self._query().where(Alert.id == alert_id)).unique().first()

    def acknowledge(self, alert: Alert, account, version: int | None) -> Alert:
        now = utcnow()
        self._claim(alert, version, (AlertStatus.OPEN,), now)
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at, alert.acknowledged_by_id = now, account.id
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
        self.db.flush()
        return alert

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
