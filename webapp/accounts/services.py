"""Passwords, authentication and server-side login sessions.

Every login attempt ends in an auth event with its reason; lockout, the
per-address throttle (webapp.accounts.throttle) and the admin address rule
are decided here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from webapp.accounts.models import Account, LoginSession
from webapp.accounts.throttle import AddressThrottle
from webapp.audit.events import AuthEventLog, AuthEventType, FailureReason
from webapp.authz import Role


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


@dataclasses.dataclass(frozen=True)
class LoginPolicy:
    """Lockout and throttling (S-AUTH), from settings."""

    lockout_threshold: int = 5
    lockout_duration: dt.timedelta = dt.timedelta(minutes=15)
    # A growing wait for an address many different IDs failed from.
    address: AddressThrottle = AddressThrottle()


@dataclasses.dataclass
class AuthenticationResult:
    account: Account | None
    failure: FailureReason | None
    # For THROTTLED: how long the address must still wait.
    wait: dt.timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclasses.dataclass(frozen=True)
class LoginAttempt:
    login: str
    password: str
    client_address: str | None
    user_agent: str | None
    from_admin_network: bool


class AuthenticationService:
    """Checks a login attempt and records its outcome as an auth event.

    Unless the address must wait, exactly one argon2 verification runs,
    whatever the outcome, so the time taken does not reveal whether the login
    exists or is locked. A throttled attempt runs none, for any login alike.
    """

    def __init__(self, db, passwords: PasswordService, clock, policy: LoginPolicy | None = None):
        self.db = db
        self.passwords = passwords
        self.clock = clock
        self.policy = policy or LoginPolicy()
        self.events = AuthEventLog(db, clock)

    def find_by_login(self, login: str) -> Account | None:
        return self.db.scalar(sa.select(Account).where(Account.login == login.strip()))

    def authenticate(self, attempt: LoginAttempt) -> AuthenticationResult:
        now = self.clock.now()
        common = {"login": attempt.login, "client_address": attempt.client_address,
                  "user_agent": attempt.user_agent}
        # Throttling comes first: an address that must wait learns nothing more.
        wait = self.policy.address.wait(self.db, attempt.client_address, now)
        if wait is not None:
            self.events.record(AuthEventType.LOGIN_FAILED, reason=FailureReason.THROTTLED, **common)
            return AuthenticationResult(None, FailureReason.THROTTLED, wait)
        account = self.find_by_login(attempt.login)
        password_ok = self.passwords.verify(account.password_hash if account else None, attempt.password)
        failure = self._failure(attempt, account, password_ok)
        if failure is not None:
            self.events.record(AuthEventType.LOGIN_FAILED, reason=failure,
                               account_id=account.id if account else None, **common)
            if failure == FailureReason.WRONG_PASSWORD:
                self._count_failure(account, now, common)
            return AuthenticationResult(account, failure)

        if account.totp_enrolled_at is None:
            # With a second factor the login is not over yet: the count is
            # cleared after the code, or rounds of right password + wrong
            # codes could go on for ever below the lockout threshold.
            account.failed_logins = 0
        account.locked_until = None
        if self.passwords.needs_rehash(account.password_hash):
            account.password_hash = self.passwords.hash(attempt.password)
        account.last_login_at = now
        self.events.record(AuthEventType.LOGIN_SUCCEEDED, account_id=account.id, **common)
        return AuthenticationResult(account, None)

    def _failure(self, attempt, account, password_ok) -> FailureReason | None:
        if account is None:
            return FailureReason.UNKNOWN_ACCOUNT
        if account.locked_until is not None and account.locked_until > self.clock.now():
            return FailureReason.LOCKED
        if not password_ok:
            return FailureReason.WRONG_PASSWORD
        if not account.active:
            return FailureReason.DISABLED
        if account.role == Role.ADMIN and not attempt.from_admin_network:
            return FailureReason.ADDRESS_NOT_ALLOWED
        return None

    def _count_failure(self, account: Account, now, common) -> None:
        account.failed_logins += 1
        if account.failed_logins >= self.policy.lockout_threshold:
            account.locked_until = now + self.policy.lockout_duration
            account.failed_logins = 0
            self.events.record(AuthEventType.ACCOUNT_LOCKED, account_id=account.id, **common)

    def unlock(self, account: Account, by: Account) -> None:
        account.locked_until = None
        account.failed_logins = 0
        self.events.record(AuthEventType.ACCOUNT_UNLOCKED, login=account.login, account_id=account.id,
                           actor_id=by.id)

    def set_password(self, account: Account, password: str, *, must_change: bool = False) -> None:
        account.password_hash = self.passwords.hash(password)
        account.must_change_password = must_change


# The cookie that carries the session token (and a pending second-factor login). Defined here,
# with the sessions it names, so account views need not import the security policy above them.
SESSION_COOKIE = "mimamori_session"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Every logged-in request needs the account (role, permissions) and its facility
# or centre (the name in the layout, the access log's actor): one statement
# instead of three.
SESSION_WITH_ACCOUNT = (
    sa.orm.joinedload(LoginSession.account).joinedload(Account.facility),
    sa.orm.joinedload(LoginSession.account).joinedload(Account.centre),
)


class SessionService:
    """Server-side sessions: a random cookie token, idle and absolute timeouts."""

    # Writing last_seen_at on every request would turn every page view into a
    # write; a minute's resolution is plenty for a 30-minute idle timeout.
    TOUCH_INTERVAL = dt.timedelta(minutes=1)

    def __init__(self, db, clock, idle: dt.timedelta, absolute: dt.timedelta):
        self.expired: LoginSession | None = None
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
        session = self.db.scalar(
            sa.select(LoginSession).options(*SESSION_WITH_ACCOUNT).where(LoginSession.token_hash == _token_hash(token)))
        if session is None or session.ended_at is not None:
            return None
        now = self.clock.now()
        if now - session.last_seen_at > self.idle or now - session.created_at > self.absolute:
            session.ended_at = now
            # Remembered so the caller can log it: the request that finds an
            # expired session usually ends in a rolled-back redirect to login.
            self.expired = session
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
