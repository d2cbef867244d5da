"""The outbox: enqueue in the causing transaction; deliver later with retries (F-NOTIFY).

* :class:`MailOutbox` is what other areas use: ``enqueue(recipient, template,
  **params)`` adds a row to *their* session, so the email exists exactly when
  the change that caused it is committed.
* :class:`OutboxDelivery` is run by ``mimamori jobs run``: it sends due
  messages one at a time, each in its own short transaction that locks the
  row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's single write lock,
  taken at BEGIN, does the same), so two senders never send one message twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import uuid
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.mail.models import MailStatus, OutboxMessage
from webapp.mail.templates import render
from webapp.mail.transport import Failure, RecordingTransport, SmtpTransport, classify
from webapp.settings import as_bool

log = logging.getLogger(__name__)

# Deliberately plain: ASCII local part and domain, no spaces, no CR/LF (no header injection).
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


class MailSettingsError(ValueError):
    pass


class RecipientError(ValueError):
    pass


def check_address(address: str) -> str:
    if not isinstance(address, str) or len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise RecipientError(f"not a usable email address: {address!r}")
    return address


def _int(settings, key, low, high) -> int:
    try:
        value = int(settings[key])
    except (KeyError, TypeError, ValueError):
        raise MailSettingsError(f"{key} must be a whole number") from None
    if not low <= value <= high:
        raise MailSettingsError(f"{key} must be between {low} and {high}, got {value}")
    return value


@dataclasses.dataclass(frozen=True)
class MailSettings:
    mode: str
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_username: str
    smtp_password: str
    smtp_timeout: int
    smtp_ca_file: str
    from_address: str
    from_name: str
    public_url: str
    max_attempts: int
    retry_base_seconds: int
    retry_max_seconds: int
    batch_size: int

    @classmethod
    def from_settings(cls, settings: dict) -> MailSettings:
        mode = settings.get("mimamori.mail", "smtp")
        if mode not in {"smtp", "null"}:
            raise MailSettingsError(f"mimamori.mail must be smtp or null, got {mode!r}")
        try:
            from_address = check_address(settings["mimamori.mail_from"])
        except RecipientError as exc:
            raise MailSettingsError(f"mimamori.mail_from: {exc}") from None
        public_url = settings["mimamori.public_url"]
        if not re.fullmatch(r"https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9/_-]*)?", public_url):
            raise MailSettingsError(f"mimamori.public_url must be like https://mimamori.example.jp, got {public_url!r}")
        return cls(
            mode=mode,
            smtp_host=settings["mimamori.smtp_host"],
            smtp_port=_int(settings, "mimamori.smtp_port", 1, 65535),
            smtp_starttls=as_bool(settings["mimamori.smtp_starttls"]),
            smtp_username=settings.get("mimamori.smtp_username", ""),
            smtp_password=settings.get("mimamori.smtp_password", ""),
            smtp_timeout=_int(settings, "mimamori.smtp_timeout_seconds", 1, 300),
            smtp_ca_file=settings.get("mimamori.smtp_ca_file", ""),
            from_address=from_address,
            from_name=settings["mimamori.mail_from_name"],
            public_url=public_url,
            max_attempts=_int(settings, "mimamori.mail_max_attempts", 1, 100),
            retry_base_seconds=_int(settings, "mimamori.mail_retry_base_seconds", 1, 86400),
            retry_max_seconds=_int(settings, "mimamori.mail_retry_max_seconds", 1, 7 * 86400),
            batch_size=_int(settings, "mimamori.mail_batch_size", 1, 100000),
        )

    def transport(self):
        if self.mode == "null":
            return RecordingTransport()
        return SmtpTransport(self.smtp_host, self.smtp_port, self.smtp_starttls, self.smtp_username,
                             self.smtp_password, self.smtp_timeout, self.smtp_ca_file)

    def retry_delay(self, attempts: int) -> dt.timedelta:
        """Exponential backoff: base, 2×base, 4×base … capped (attempts counts the failed one)."""
        seconds = self.retry_base_seconds * 2 ** min(attempts - 1, 30)
        return dt.timedelta(seconds=min(seconds, self.retry_max_seconds))


class MailOutbox:
    """Queue emails from fixed templates, in the caller's transaction."""

    def __init__(self, session: Session, mail_settings: MailSettings, clock):
        self.session, self.settings, self.clock = session, mail_settings, clock

    def enqueue(self, recipient: str, template: str, **params) -> OutboxMessage:
        """Queue one email; refuses unknown templates, free-text parameters and bad addresses."""
        subject, body = render(template, params, self.settings.public_url)
        domain = self.settings.from_address.rpartition("@")[2]
        message = OutboxMessage(
            template=template,
            recipient=check_address(recipient),
            subject=subject,
            body=body,
            message_id=f"<{uuid.uuid4().hex}@{domain}>",
            status=MailStatus.PENDING,
            attempts=0,
            next_attempt_at=self.clock.now(),
        )
        self.session.add(message)
        return message


@dataclasses.dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    server_unreachable: bool = False

    not_really_sent: bool = False

    def summary(self) -> str:
        text = f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}"
        if self.not_really_sent and self.sent:
            text += " (mimamori.mail = null: logged, not sent)"
        return text + ("; mail server unreachable, stopped until the next run" if self.server_unreachable else "")


_outbox = OutboxMessage.__table__


def build_email(row, mail_settings: MailSettings, now: dt.datetime) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=mail_settings.from_name, addr_spec=mail_settings.from_address)
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = row.message_id
    # Tells mail servers and vacation responders not to answer.
    message["Auto-Submitted"] = "auto-generated"
    # base64 rather than 8bit: not every relay announces 8BITMIME.
    message.set_content(row.body, charset="utf-8", cte="base64")
    return message


class OutboxDelivery:
    """Send due messages. Rows are changed with Core statements: delivery bookkeeping is not
    a change anyone made, so it writes no change records (enqueueing did)."""

    def __init__(self, engine: sa.Engine, mail_settings: MailSettings, clock, transport=None):
        self.engine, self.settings, self.clock = engine, mail_settings, clock
        self.transport = transport if transport is not None else mail_settings.transport()
        self._last_failure: Failure | None = None

    def deliver_due(self) -> DeliveryResult:
        result = DeliveryResult(not_really_sent=self.transport.name == "null")
        for _ in range(self.settings.batch_size):
            with self.engine.begin() as connection:
                outcome = self._deliver_one(connection)
            if outcome is None:
                break
            setattr(result, outcome, getattr(result, outcome) + 1)
            if self._last_failure is Failure.UNREACHABLE:
                result.server_unreachable = True
                break
        return result

    def _deliver_one(self, connection) -> str | None:
        now = self.clock.now()
        row = connection.execute(
            sa.select(_outbox)
            .where(_outbox.c.status == MailStatus.PENDING.value, _outbox.c.next_attempt_at <= now)
            .order_by(_outbox.c.next_attempt_at, _outbox.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        self._last_failure = None
        attempts = row.attempts + 1
        values = {"attempts": attempts, "last_attempt_at": now, "updated_at": now}
        try:
            self.transport.send(build_email(row, self.settings, now))
        except Exception as exc:
            # Anything, even a bug, is caught here: an exception escaping would roll
            # back the bookkeeping, and the same message would come first in every
            # run, blocking the whole outbox behind it.
            failure = classify(exc)
            if failure is Failure.UNEXPECTED:
                log.exception("mail %s: unexpected error while sending", row.id)
            self._last_failure = failure
            values["last_error"] = f"{type(exc).__name__}: {exc}"[:500]
            if failure is Failure.PERMANENT or attempts >= self.settings.max_attempts:
                values["status"] = MailStatus.FAILED.value
                outcome = "failed"
                log.warning("mail %s to %s failed for good after %d attempt(s): %s",
                            row.id, row.recipient, attempts, values["last_error"])
            else:
                values["next_attempt_at"] = now + self.settings.retry_delay(attempts)
                outcome = "retrying"
                log.info("mail %s: attempt %d failed (%s); next at %s",
                         row.id, attempts, values["last_error"], values["next_attempt_at"].isoformat())
        else:
            values.update(status=MailStatus.SENT.value, sent_at=now, last_error=None)
            outcome = "sent"
        connection.execute(sa.update(_outbox).where(_outbox.c.id == row.id).values(**values))
        return outcome


class OutboxAdmin:
    """What operators need: counts, the stuck and failed messages, and putting failed ones back."""

    def __init__(self, session: Session, clock):
        self.session, self.clock = session, clock

    def counts(self) -> dict[str, int]:
        rows = self.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
        counts = {status.value: 0 for status in MailStatus}
        counts.update({str(MailStatus(status)): n for status, n in rows})
        return counts

    def problems(self, limit: int = 100) -> list[OutboxMessage]:
        """Failed messages and pending ones that have already failed at least once, oldest first."""
        return list(self.session.scalars(
            sa.select(OutboxMessage)
            .where(sa.or_(OutboxMessage.status == MailStatus.FAILED,
                          sa.and_(OutboxMessage.status == MailStatus.PENDING, OutboxMessage.attempts > 0)))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(limit)
        ))

    def recent(self, limit: int = 30) -> list[OutboxMessage]:
        """The newest messages whatever their state, newest first (by id: no scan of the whole outbox)."""
        return list(self.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))

    def requeue_failed(self, ids: list[int] | None = None) -> int:
        """Failed messages (all, or those ids) become pending again, due now, with fresh attempts."""
        query = sa.select(OutboxMessage).where(OutboxMessage.status == MailStatus.FAILED)
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        messages = list(self.session.scalars(query))
        for message in messages:
            message.status = MailStatus.PENDING
            message.attempts = 0
            message.next_attempt_at = self.clock.now()
        return len(messages)
