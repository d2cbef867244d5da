"""The second factor (S-AUTH): TOTP (RFC 6238) and single-use recovery codes.

The algorithm is written out here rather than taken from a library: it is a
dozen lines, and the unit tests pin it to the RFC's own test vectors.

Enrolment is two steps. The page shows a fresh secret and carries it back in a
hidden field signed with the application's secret and bound to the account;
nothing is stored until the user proves, with a correct code, that their
authenticator holds it. Only then are the secret, the enrolment time and the
hashes of ten recovery codes written.

At login, a correct password for an enrolled account starts a *pending*
session (see :attr:`LoginSession.second_factor_pending`), which the security
policy treats as not logged in. A correct code ends it and starts a new one,
so the session id changes with the privilege. A wrong code counts towards the
same lockout as a wrong password.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import hashlib
import hmac
import secrets
import struct
import unicodedata
import urllib.parse

import segno

from webapp.accounts.models import Account, LoginSession
from webapp.audit.events import AuthEventLog, AuthEventType, FailureReason
from webapp.authz import Role
from webapp.settings import SettingsError

# --- RFC 4226 / RFC 6238 -----------------------------------------------------------

TOTP_PERIOD = 30
TOTP_DIGITS = 6
# One step either side: phone clocks drift, and a code typed at the end of its
# 30 seconds arrives in the next step.
TOTP_WINDOW = 1
SECRET_BYTES = 20  # 160 bits, the HMAC-SHA-1 block-friendly size RFC 4226 recommends
ISSUER = "Mimamori"


def hotp(key: bytes, counter: int, digits: int = TOTP_DIGITS, digest=hashlib.sha1) -> str:
    """RFC 4226 HOTP: HMAC of the 8-byte big-endian counter, dynamically truncated."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    binary = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(binary % (10 ** digits)).zfill(digits)


def time_step(moment: dt.datetime | float, period: int = TOTP_PERIOD) -> int:
    """RFC 6238 T: whole periods since the Unix epoch (T0 = 0)."""
    seconds = moment.timestamp() if isinstance(moment, dt.datetime) else moment
    return int(seconds // period)


def decode_secret(secret: str) -> bytes:
    """A base32 secret as authenticator apps show it: any case, spaces allowed, padding optional."""
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def totp(secret: str, moment: dt.datetime | float, digits: int = TOTP_DIGITS) -> str:
    return hotp(decode_secret(secret), time_step(moment), digits)


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def normalise_code(text: str) -> str:
    """What the user typed, as ASCII: full-width digits from a Japanese IME become 0-9."""
    text = unicodedata.normalize("NFKC", text or "")[:64]
    return "".join(ch for ch in text.lower() if ch not in " -\u3000\t")


def provisioning_uri(secret: str, login: str) -> str:
    """The otpauth:// URI authenticator apps read from the QR code."""
    label = urllib.parse.quote(f"{ISSUER}:{login}")
    query = urllib.parse.urlencode({"secret": secret, "issuer": ISSUER, "algorithm": "SHA1",
                                    "digits": TOTP_DIGITS, "period": TOTP_PERIOD})
    return f"otpauth://totp/{label}?{query}"


def qr_data_uri(text: str) -> str:
    """The QR code as an SVG data: URI, drawn on the server.

    A data: image (allowed by img-src) rather than inline <svg>, so the strict
    CSP needs no exception and no script is involved.
    """
    return segno.make(text, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# --- Recovery codes -----------------------------------------------------------------

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_recovery_code() -> str:
    # 12 characters of a 31-letter alphabet: about 59 bits, too many to guess
    # within the lockout, and enough that a fast hash is safe to store.
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def recovery_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


# --- Settings -----------------------------------------------------------------------


def required_roles(value: str | None) -> frozenset[Role]:
    """``mimamori.second_factor_roles``: roles that must enrol. Unknown names stop the start-up."""
    roles = set()
    for name in str(value or "").replace(",", " ").split():
        try:
            roles.add(Role(name))
        except ValueError:
            raise SettingsError(f"mimamori.second_factor_roles: unknown role {name!r}") from None
    return frozenset(roles)


# --- The service --------------------------------------------------------------------


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclasses.dataclass
class VerifyResult:
    outcome: Outcome
    token: str | None = None  # the new full session's cookie token, on success
    used_recovery_code: bool = False


@dataclasses.dataclass(frozen=True)
class PendingEnrolment:
    secret: str
    token: str  # for the hidden field: the secret, when it was issued, and a signature

    def uri(self, login: str) -> str:
        return provisioning_uri(self.secret, login)


class SecondFactorService:
    """Enrolment, verification at login, and the admin reset.

    ``sessions`` is a :class:`SessionService`; ``policy`` the
    :class:`LoginPolicy` whose lockout wrong codes count towards.
    """

    # How long the secret shown on the enrolment page stays valid.
    ENROLMENT_TTL = dt.timedelta(minutes=15)
    # How long after the password the code may be entered.
    PENDING_TTL = dt.timedelta(minutes=10)

    def __init__(self, db, clock, sessions, policy, signing_secret: str, roles: frozenset[Role] = frozenset()):
        self.db = db
        self.clock = clock
        self.sessions = sessions
        self.policy = policy
        # A key of its own, derived from the application secret, so these
        # signatures cannot be confused with anything else it signs.
        self._key = hmac.new(signing_secret.encode(), b"mimamori second-factor enrolment", hashlib.sha256).digest()
        self.roles = roles
        self.events = AuthEventLog(db, clock)

    # Who needs what

    @staticmethod
    def is_enrolled(account: Account) -> bool:
        return bool(account.totp_secret) and account.totp_enrolled_at is not None

    def is_required(self, account: Account) -> bool:
        return account.role in self.roles

    def needs_enrolment(self, account: Account) -> bool:
        return self.is_required(account) and not self.is_enrolled(account)

    @staticmethod
    def recovery_codes_left(account: Account) -> int:
        return len((account.recovery_codes or "").split())

    # Enrolment

    def begin_enrolment(self, account: Account) -> PendingEnrolment:
        secret = new_secret()
        issued = int(self.clock.now().timestamp())
        return PendingEnrolment(secret, f"{secret}.{issued}.{self._sign(account, secret, issued)}")

    def pending_enrolment(self, account: Account, token: str | None) -> PendingEnrolment | None:
        """The enrolment a hidden field carries, if it is genuine, this account's and still fresh."""
        parts = (token or "")[:200].split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        secret, issued, signature = parts[0], int(parts[1]), parts[2]
        if not hmac.compare_digest(signature, self._sign(account, secret, issued)):
            return None
        age = self.clock.now().timestamp() - issued
        if not 0 <= age <= self.ENROLMENT_TTL.total_seconds():
            return None
        return PendingEnrolment(secret, token)

    def confirm_enrolment(self, account: Account, enrolment: PendingEnrolment, code: str,
                          client_address=None, user_agent=None) -> list[str] | None:
        """Activate the second factor if ``code`` is right; the recovery codes, shown once, or None."""
        if self.is_enrolled(account):
            return None
        step = self._matching_step(enrolment.secret, normalise_code(code), last_step=None)
        if step is None:
            return None
        account.totp_secret = enrolment.secret
        account.totp_last_step = step
        account.totp_enrolled_at = self.clock.now()
        codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        account.recovery_codes = " ".join(recovery_hash(c) for c in codes)
        self.events.record(AuthEventType.SECOND_FACTOR_ENROLLED, login=account.login, account_id=account.id,
                           client_address=client_address, user_agent=user_agent)
        return codes

    def rotate(self, session: LoginSession) -> str:
        """End ``session`` and start a fresh one for its account (after a privilege change)."""
        self.sessions.end(session)
        return self.sessions.start(session.account)

    # Login

    def start_pending(self, account: Account) -> str:
        """A session that only the second-factor page accepts; returns its cookie token."""
        token = self.sessions.start(account)
        self.sessions.load(token).second_factor_pending = True
        return token

    def load_pending(self, token: str | None) -> LoginSession | None:
        session = self.sessions.load(token)
        if session is None or not session.second_factor_pending:
            return None
        if self.clock.now() - session.created_at > self.PENDING_TTL:
            # A password typed long ago on a shared machine must not leave a
            # half-open door: start again from the password.
            self.sessions.end(session)
            return None
        return session

    def verify(self, pending: LoginSession, code: str, client_address=None, user_agent=None) -> VerifyResult:
        """Check a TOTP or recovery code for a pending session; record the outcome."""
        account = pending.account
        common = {"login": account.login, "account_id": account.id, "client_address": client_address,
                  "user_agent": user_agent}
        now = self.clock.now()
        if account.locked_until is not None and account.locked_until > now:
            # Locked by other attempts meanwhile: even a right code does not help.
            self.events.record(AuthEventType.LOGIN_FAILED, reason=FailureReason.LOCKED, **common)
            self.sessions.end(pending)
            return VerifyResult(Outcome.LOCKED)

        code = normalise_code(code)
        used_recovery = False
        step = self._matching_step(account.totp_secret, code, account.totp_last_step) if code.isdigit() else None
        if step is not None:
            account.totp_last_step = step
        else:
            used_recovery = self._use_recovery_code(account, code)
            if not used_recovery:
                return self._wrong(pending, account, now, common)

        account.failed_logins = 0
        account.locked_until = None
        # Privilege changed: a new session id, and the pending one is dead.
        token = self.rotate(pending)
        self.events.record(AuthEventType.SECOND_FACTOR_SUCCEEDED, **common)
        return VerifyResult(Outcome.OK, token, used_recovery)

    def _wrong(self, pending, account, now, common) -> VerifyResult:
        self.events.record(AuthEventType.LOGIN_FAILED, reason=FailureReason.SECOND_FACTOR_WRONG, **common)
        # The same counter and threshold as wrong passwords: the password is
        # already known to whoever is here, so the code is all that is left.
        account.failed_logins += 1
        if account.failed_logins >= self.policy.lockout_threshold:
            account.locked_until = now + self.policy.lockout_duration
            account.failed_logins = 0
            self.events.record(AuthEventType.ACCOUNT_LOCKED, **common)
            self.sessions.end(pending)
            return VerifyResult(Outcome.LOCKED)
        return VerifyResult(Outcome.WRONG)

    def _matching_step(self, secret: str | None, code: str, last_step: int | None) -> int | None:
        """The time step within the window whose code is ``code``, never one already used."""
        if not secret or len(code) != TOTP_DIGITS or not code.isdigit():
            return None
        key = decode_secret(secret)
        current = time_step(self.clock.now())
        for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
            if last_step is not None and step <= last_step:
                # A code seen once (or an older one) is refused: someone who
                # watched it being typed cannot replay it.
                continue
            if hmac.compare_digest(hotp(key, step), code):
                return step
        return None

    @staticmethod
    def _use_recovery_code(account: Account, code: str) -> bool:
        if not code or not account.recovery_codes:
            return False
        wanted = recovery_hash(code)
        hashes = account.recovery_codes.split()
        match = next((h for h in hashes if hmac.compare_digest(h, wanted)), None)
        if match is None:
            return False
        hashes.remove(match)
        account.recovery_codes = " ".join(hashes) or None
        return True

    # Admin

    def reset(self, account: Account, by: Account) -> None:
        """Remove the second factor (lost phone); the account enrols again at next login."""
        account.totp_secret = None
        account.totp_enrolled_at = None
        account.totp_last_step = None
        account.recovery_codes = None
        # Whoever holds a session made with the old factor is logged out.
        self.sessions.end_all_for(account)
        self.events.record(AuthEventType.SECOND_FACTOR_RESET, login=account.login, account_id=account.id,
                           actor_id=by.id)

    def _sign(self, account: Account, secret: str, issued: int) -> str:
        message = f"{account.id}.{secret}.{issued}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
