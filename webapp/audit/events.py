"""Authentication events (S-ACCESSLOG, S-AUTH): what happened, to which login, from where."""

from __future__ import annotations

import enum

from webapp.audit.models import AuthEvent


class AuthEventType(enum.StrEnum):
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    SECOND_FACTOR_SUCCEEDED = "second_factor_succeeded"
    LOGOUT = "logout"
    SESSION_EXPIRED = "session_expired"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"  # by an admin: temporary password issued
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_UNLOCKED = "account_unlocked"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled"
    SECOND_FACTOR_RESET = "second_factor_reset"
    ADDRESS_REFUSED = "address_refused"  # an admin session used from outside the ward's ranges


class FailureReason(enum.StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"
    WRONG_PASSWORD = "wrong_password"
    LOCKED = "locked"
    DISABLED = "disabled"
    SECOND_FACTOR_WRONG = "second_factor_wrong"
    ADDRESS_NOT_ALLOWED = "address_not_allowed"
    THROTTLED = "throttled"


# Their names on screen are in webapp.audit.labels.


def record_after_request(request, event: AuthEventType, **fields) -> None:
    """Record once the request's own transaction is over, whatever its outcome.

    For refusals: the request ends in a rolled-back transaction, which would
    take an event recorded inside it along. The access-log tween, which wraps
    the transaction, writes these in a transaction of its own.
    """
    request.environ.setdefault("mimamori.deferred_auth_events", []).append(
        dict(fields, event=event, occurred_at=request.clock.now()))


def write_deferred(session, environ) -> None:
    for fields in environ.get("mimamori.deferred_auth_events", ()):
        fields = dict(fields)
        session.add(AuthEvent(
            occurred_at=fields.pop("occurred_at"), event=str(fields.pop("event")),
            reason=str(fields["reason"]) if fields.get("reason") else None,
            login=fields.get("login"), account_id=fields.get("account_id"), actor_id=fields.get("actor_id"),
            client_address=fields.get("client_address"), user_agent=(fields.get("user_agent") or "")[:200] or None,
        ))


class AuthEventLog:
    def __init__(self, db, clock):
        self.db = db
        self.clock = clock

    def record(self, event: AuthEventType, *, login=None, account_id=None, reason=None,
               client_address=None, user_agent=None, actor_id=None) -> None:
        self.db.add(AuthEvent(
            occurred_at=self.clock.now(), event=str(event), reason=str(reason) if reason else None,
            login=(login or "")[:64] or None, account_id=account_id, actor_id=actor_id,
            client_address=client_address, user_agent=(user_agent or "")[:200] or None,
        ))
