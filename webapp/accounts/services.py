"""Passwords, authentication and server-side login sessions.

Lockout, throttling, second factor and auth-event logging hook in here (see
:class:`AuthenticationService`): each failure already carries its reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from webapp.accounts.models import Account, LoginSession


class PasswordService:
    """argon2id hashing with costs from settings."""

    def __init__(self, time_cost: int = 3, memory_cost: int = 65536):
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
        # Verifying against this when the login is unknown keeps the response
        # time the same, so timing does not reveal which logins exist.
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash or self._dummy_hash, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)


class LoginFailure(enum.StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"
    WRONG_PASSWORD = "wrong_password"
    DISABLED = "disabled"


@dataclasses.dataclass
class AuthenticationResult:
    account: Account | None
    failure: LoginFailure | None

    @property
    def ok(self) -> bool:
        return self.failure is None


class AuthenticationService:
    def __init__(self, db, passwords: PasswordService, clock):
        self.db = db
        self.passwords = passwords
        self.clock = clock

    def find_by_login(self, login: str) -> Account | None:
        return self.db.scalar(sa.select(Account).where(Account.login == login.strip()))

    def authenticate(self, login: str, password: str) -> AuthenticationResult:
        account = self.find_by_login(login)
        # Always run one argon2 verification, found or not (same time either way).
        password_ok = self.passwords.verify(account.password_hash if account else None, password)
        if account is None:
            return AuthenticationResult(None, LoginFailure.UNKNOWN_ACCOUNT)
        if not password_ok:
            return AuthenticationResult(account, LoginFailure.WRONG_PASSWORD)
        if not account.active:
            return AuthenticationResult(account, LoginFailure.DISABLED)
        if self.passwords.needs_rehash(account.password_hash):
            account.password_hash = self.passwords.hash(password)
        account.last_login_at = self.clock.now()
        return AuthenticationResult(account, None)

    def set_password(self, account: Account, password: str, *, must_change: bool = False) -> None:
        account.password_hash = self.passwords.hash(password)
        account.must_change_password = must_change


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionService:
    """Server-side sessions: a random cookie token, idle and absolute timeouts."""

    # Writing last_seen_at on every request would turn every page view into a
    # write; a minute's resolution is plenty for a 30-minute idle timeout.
    TOUCH_INTERVAL = dt.timedelta(minutes=1)

    def __init__(self, db, clock, idle: dt.timedelta, absolute: dt.timedelta):
        self.db = db
        self.clock = clock
        self.idle = idle
        self.absolute = absolute

    def start(self, account: Account) -> str:
        """A new session (and so a new id: the id is rotated at every login)."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        self.db.add(
            LoginSession(token_hash=_token_hash(token), account=account, created_at=now, last_seen_at=now)
        )
        return token

    def load(self, token: str | None) -> LoginSession | None:
        if not token or len(token) > 100:
            return None
        session = self.db.scalar(sa.select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
        if session is None or session.ended_at is not None:
            return None
        now = self.clock.now()
        if now - session.last_seen_at > self.idle or now - session.created_at > self.absolute:
            session.ended_at = now
            return None
        if not session.account.active:
            return None
        if now - session.last_seen_at > self.TOUCH_INTERVAL:
            session.last_seen_at = now
        return session

    def end(self, session: LoginSession) -> None:
        session.ended_at = self.clock.now()

    def end_all_for(self, account: Account) -> None:
        self.db.execute(
            sa.update(LoginSession)
            .where(LoginSession.account_id == account.id, LoginSession.ended_at.is_(None))
            .values(ended_at=self.clock.now())
        )
