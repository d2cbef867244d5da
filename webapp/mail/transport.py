"""How a finished email leaves the application: SMTP, or a null transport that only records.

Chosen by ``mimamori.mail = smtp|null`` (DESIGN.md §9). Both take a complete
:class:`email.message.EmailMessage`; building it is the outbox's business.
"""

from __future__ import annotations

import enum
import logging
import smtplib
import ssl
from email.message import EmailMessage

log = logging.getLogger(__name__)


class Failure(enum.Enum):
    """What a failed send means for the message and for the rest of the run."""

    RETRY = "retry"  # this message: try again later (4xx)
    PERMANENT = "permanent"  # this message can never go (5xx for it): failed at once
    UNREACHABLE = "unreachable"  # the server (or our configuration) is the problem: stop this run
    UNEXPECTED = "unexpected"  # not a mail error (a bug?): retried like RETRY, logged with its traceback


def classify(exc: Exception) -> Failure:
    # Problems with the server or our credentials say nothing about the
    # message, so they must not use up its attempts on every message at once:
    # the run stops and the next run tries again.
    if isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, smtplib.SMTPHeloError,
                        smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError,
                        smtplib.SMTPSenderRefused)):
        return Failure.UNREACHABLE
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        return Failure.PERMANENT if codes and all(code >= 500 for code in codes) else Failure.RETRY
    if isinstance(exc, smtplib.SMTPResponseException):
        return Failure.PERMANENT if exc.smtp_code >= 500 else Failure.RETRY
    if isinstance(exc, (OSError, smtplib.SMTPException)):  # refused, timeout, TLS, DNS
        return Failure.UNREACHABLE
    return Failure.UNEXPECTED


class SmtpTransport:
    """One connection per message: mail volume is small, and nothing is held open between runs."""

    name = "smtp"

    def __init__(self, host: str, port: int, starttls: bool = False, username: str = "", password: str = "",
                 timeout: float = 10.0, ca_file: str = ""):
        self.host, self.port, self.starttls = host, port, starttls
        self.username, self.password, self.timeout = username, password, timeout
        self.ca_file = ca_file

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                # Certificate and host name are checked: a relay we cannot verify is "unreachable".
                smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file or None))
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class RecordingTransport:
    """Sends nothing; keeps the messages (for tests and development) and logs their subjects."""

    name = "null"

    def __init__(self):
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
        log.info("mail not sent (mimamori.mail = null): %s to %s", message["Subject"], message["To"])
