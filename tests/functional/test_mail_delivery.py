"""Mail delivery through a real SMTP server (aiosmtpd on a free loopback port), with the
server down, refusing, and two senders at once (F-NOTIFY, issue 7 item 6).

These tests commit, so each works in its own ``scratch_url`` database.
"""

from __future__ import annotations

import datetime as dt
import email
import socket
import ssl
import subprocess
import threading
from email import policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy.orm import sessionmaker

from tests.conftest import DEFAULT_NOW, TEST_SECRET
from webapp import migrate
from webapp.clock import FixedClock
from webapp.db import create_engine
from webapp.mail.models import MailStatus, OutboxMessage
from webapp.mail.services import MailOutbox, MailSettings, OutboxAdmin, OutboxDelivery
from webapp.mail.templates import MailTemplateError
from webapp.settings import build_settings

URGENT_TEXT = "新しい緊急連絡があります。ログインして確認してください。"


def text_of(message) -> str:
    """The decoded body; lines end in CRLF on the wire (policy.SMTP), compared here as LF."""
    return message.get_content().replace("\r\n", "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """A real SMTP server on 127.0.0.1:port that keeps what it accepts; replies can be set to fail."""

    def __init__(self, port: int):
        self.port = port
        self.received: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self._controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.raw.append(envelope.original_content)
        self.received.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self, **server_kwargs):
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **server_kwargs)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.received]


@pytest.fixture
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def down_server():
    """A port with nothing listening (yet): start() brings the server up on it."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


def mail_settings_for(url: str, port: int, **extra) -> dict:
    values = {
        "sqlalchemy.url": url,
        "mimamori.session_secret": TEST_SECRET,
        "mimamori.smtp_host": "127.0.0.1",
        "mimamori.smtp_port": str(port),
        "mimamori.smtp_timeout_seconds": "5",
        "mimamori.mail_from": "noreply@mimamori.example.jp",
        "mimamori.public_url": "https://mimamori.example.jp",
    }
    values.update(extra)
    return build_settings(values, environ={})


class World:
    """A migrated scratch database, its mail settings and a clock the test moves."""

    def __init__(self, url, port, **extra):
        migrate.upgrade(url)
        self.settings = mail_settings_for(url, port, **extra)
        self.mail = MailSettings.from_settings(self.settings)
        self.engine = create_engine(url)
        self.sessions = sessionmaker(bind=self.engine)
        self.clock = FixedClock(DEFAULT_NOW)

    def enqueue(self, recipient="centre@city.example.jp", template="urgent_report", **params) -> int:
        params = params or ({"path": "/urgent/1"} if template == "urgent_report" else {})
        with self.sessions.begin() as session:
            message = MailOutbox(session, self.mail, self.clock).enqueue(recipient, template, **params)
            session.flush()
            return message.id

    def deliver(self):
        return OutboxDelivery(self.engine, self.mail, self.clock).deliver_due()

    def message(self, message_id) -> OutboxMessage:
        with self.sessions() as session:
            return session.get(OutboxMessage, message_id)

    def later(self, **delta):
        self.clock.set(self.clock.now() + dt.timedelta(**delta))


@pytest.fixture
def world_for(scratch_url):
    worlds = []

    def _world(port, **extra):
        worlds.append(World(scratch_url, port, **extra))
        return worlds[-1]

    yield _world
    for world in worlds:
        world.engine.dispose()


@pytest.mark.req("F-NOTIFY")
def test_a_queued_message_arrives_in_japanese_properly_encoded_and_is_marked_sent(smtp, world_for):
    world = world_for(smtp.port)
    message_id = world.enqueue("kodomo-center@city.example.jp", path="/urgent/42")

    result = world.deliver()

    assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
    assert len(smtp.received) == 1
    received, raw = smtp.received[0], smtp.raw[0]
    assert received["Subject"] == "【見守り】新しい緊急連絡があります"
    assert received["To"] == "kodomo-center@city.example.jp"
    assert received["From"].addresses[0].display_name == "見守り"
    assert received["From"].addresses[0].addr_spec == "noreply@mimamori.example.jp"
    assert received["Auto-Submitted"] == "auto-generated"
    assert smtp.envelopes == [("noreply@mimamori.example.jp", ["kodomo-center@city.example.jp"])]
    # MIME: every header and the body are 7-bit on the wire, the text is UTF-8.
    raw.decode("ascii")
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0].lower()
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"
    assert received["Content-Transfer-Encoding"] == "base64"
    body = text_of(received)
    assert body.startswith(URGENT_TEXT + "\n\nhttps://mimamori.example.jp/urgent/42\n")
    assert "ログインして確認してください" in body

    stored = world.message(message_id)
    assert stored.status is MailStatus.SENT
    assert stored.sent_at == DEFAULT_NOW
    assert stored.attempts == 1
    assert received["Message-ID"] == stored.message_id


@pytest.mark.req("F-NOTIFY")
def test_no_personal_data_reaches_the_mail_server(smtp, world_for):
    """The only way to make a mail is a template key with counts/paths/choices: a child's
    name offered as a parameter is refused, and nothing about it is stored or sent."""
    world = world_for(smtp.port)
    with pytest.raises(MailTemplateError):
        world.enqueue(path="/urgent/1?child=山田𠮷太郎")
    with pytest.raises(MailTemplateError):
        world.enqueue(template="alerts", count=1, path="/alerts", child_name="山田𠮷太郎")
    world.enqueue(template="alerts", count=2, path="/alerts")
    world.deliver()
    assert len(smtp.received) == 1
    text = smtp.received[0]["Subject"] + text_of(smtp.received[0])
    assert "山田" not in text and "𠮷" not in text
    assert "新しいアラート、または要対応に引き上げられたアラートが2件あります。" in text
    with world.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


@pytest.mark.req("F-NOTIFY")
def test_running_the_sender_again_sends_nothing_twice(smtp, world_for):
    world = world_for(smtp.port)
    for n in range(3):
        world.enqueue(path=f"/urgent/{n}")
    assert world.deliver().sent == 3
    world.later(days=2)
    assert world.deliver().sent == 0
    assert len(smtp.received) == 3
    assert len(set(smtp.message_ids())) == 3


@pytest.mark.req("F-NOTIFY")
def test_mail_server_down_nothing_is_lost_and_it_goes_out_once_when_back(down_server, world_for):
    world = world_for(down_server.port)
    first = world.enqueue(path="/urgent/1")
    second = world.enqueue(path="/urgent/2")

    result = world.deliver()

    # One connection attempt, then the run stops: the server is the problem, not the messages.
    assert result.server_unreachable and (result.sent, result.retrying) == (0, 1)
    message = world.message(first)
    assert message.status is MailStatus.PENDING
    assert message.attempts == 1
    assert message.next_attempt_at == DEFAULT_NOW + dt.timedelta(seconds=60)
    assert "ConnectionRefusedError" in message.last_error
    assert world.message(second).attempts == 0

    down_server.start()
    world.later(seconds=30)  # the first is not due yet; the second is
    assert world.deliver().sent == 1
    world.later(seconds=30)
    assert world.deliver().sent == 1
    world.later(hours=1)
    assert world.deliver().sent == 0

    assert sorted(m["Subject"] for m in down_server.received) == ["【見守り】新しい緊急連絡があります"] * 2
    assert sorted(text_of(m).split("\n")[2] for m in down_server.received) == [
        "https://mimamori.example.jp/urgent/1", "https://mimamori.example.jp/urgent/2"]
    assert world.message(first).status is world.message(second).status is MailStatus.SENT
    assert world.message(first).attempts == 2 and world.message(first).last_error is None


@pytest.mark.req("F-NOTIFY")
def test_retries_back_off_exponentially_then_give_up_into_failed_for_admins(down_server, world_for):
    world = world_for(down_server.port, **{"mimamori.mail_max_attempts": "4"})
    message_id = world.enqueue()
    gaps = []
    for _ in range(3):
        world.deliver()
        message = world.message(message_id)
        gaps.append((message.next_attempt_at - world.clock.now()).total_seconds())
        world.deliver()  # not due yet: no attempt
        assert world.message(message_id).attempts == len(gaps)
        world.clock.set(message.next_attempt_at)
    assert gaps == [60, 120, 240]

    result = world.deliver()

    assert result.failed == 1
    message = world.message(message_id)
    assert (message.status, message.attempts) == (MailStatus.FAILED, 4)
    with world.sessions() as session:
        admin = OutboxAdmin(session, world.clock)
        assert admin.counts() == {"pending": 0, "sent": 0, "failed": 1}
        assert [m.id for m in admin.problems()] == [message_id]
    # Failed messages are not retried by later runs …
    down_server.start()
    world.later(days=3)
    assert world.deliver().sent == 0
    # … until an operator queues them again.
    with world.sessions.begin() as session:
        assert OutboxAdmin(session, world.clock).requeue_failed([message_id]) == 1
    assert world.deliver().sent == 1
    assert len(down_server.received) == 1


@pytest.mark.req("F-NOTIFY")
def test_a_recipient_refused_for_good_fails_at_once_and_others_still_go(smtp, world_for):
    world = world_for(smtp.port)
    refused = world.enqueue("nobody@city.example.jp")
    smtp.rcpt_reply = "550 5.1.1 no such user"
    result = world.deliver()
    assert (result.failed, result.server_unreachable) == (1, False)
    message = world.message(refused)
    assert message.status is MailStatus.FAILED and "550" in message.last_error

    smtp.rcpt_reply = None
    world.enqueue("centre@city.example.jp")
    assert world.deliver().sent == 1
    assert [m["To"] for m in smtp.received] == ["centre@city.example.jp"]


@pytest.mark.req("F-NOTIFY")
def test_a_temporary_refusal_is_retried_later(smtp, world_for):
    world = world_for(smtp.port)
    message_id = world.enqueue()
    smtp.data_reply = "451 4.3.0 try again later"
    assert world.deliver().retrying == 1
    assert world.message(message_id).status is MailStatus.PENDING
    smtp.data_reply = None
    world.later(minutes=1)
    assert world.deliver().sent == 1
    assert len(smtp.received) == 1


@pytest.mark.req("F-NOTIFY")
def test_two_senders_at_once_send_each_message_exactly_once(smtp, world_for):
    """Row locks alone (FOR UPDATE SKIP LOCKED / SQLite's write lock), without the jobs lock."""
    world = world_for(smtp.port)
    ids = [world.enqueue(path=f"/urgent/{n}") for n in range(30)]
    results, errors = [], []

    def sender():
        try:
            results.append(world.deliver())
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(result.sent for result in results) == 30
    assert len(smtp.received) == 30 and len(set(smtp.message_ids())) == 30
    assert {world.message(i).status for i in ids} == {MailStatus.SENT}


def test_the_null_transport_sends_nothing_and_marks_sent(world_for):
    world = world_for(free_port(), **{"mimamori.mail": "null"})
    message_id = world.enqueue()
    delivery = OutboxDelivery(world.engine, world.mail, world.clock)
    result = delivery.deliver_due()
    assert result.sent == 1 and result.summary().endswith("(mimamori.mail = null: logged, not sent)")
    assert [m["Subject"] for m in delivery.transport.sent] == ["【見守り】新しい緊急連絡があります"]
    assert world.message(message_id).status is MailStatus.SENT


@pytest.mark.req("F-NOTIFY")
def test_enqueueing_belongs_to_the_causing_transaction(world_for):
    """Rolled back with the change that caused it; there once that change is committed."""
    world = world_for(free_port())
    session = world.sessions()
    MailOutbox(session, world.mail, world.clock).enqueue("centre@city.example.jp", "test")
    session.flush()
    session.rollback()
    session.close()
    with world.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    world.enqueue(template="test")
    with world.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


class BrokenForOne:
    """A transport with a bug that only one message triggers."""

    name = "smtp"

    def __init__(self, inner, poison_subject_url):
        self.inner, self.poison = inner, poison_subject_url

    def send(self, message):
        if self.poison in message.get_content():
            raise RuntimeError("bug while sending")
        self.inner.send(message)


def test_a_message_that_trips_a_bug_does_not_block_the_ones_behind_it(smtp, world_for, caplog):
    world = world_for(smtp.port)
    poison = world.enqueue(path="/urgent/666")
    others = [world.enqueue(path=f"/urgent/{n}") for n in range(3)]
    transport = BrokenForOne(world.mail.transport(), "/urgent/666")

    result = OutboxDelivery(world.engine, world.mail, world.clock, transport=transport).deliver_due()

    assert (result.sent, result.retrying, result.server_unreachable) == (3, 1, False)
    assert {world.message(i).status for i in others} == {MailStatus.SENT}
    message = world.message(poison)
    assert message.status is MailStatus.PENDING and message.last_error == "RuntimeError: bug while sending"
    assert "unexpected error while sending" in caplog.text


@pytest.mark.req("F-NOTIFY")
# Plain-text AUTH only on loopback in this test (aiosmtpd warns each connection); production uses smtp_starttls.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_login_and_wrong_credentials_keep_the_mail(down_server, world_for):
    """A relay that wants a login: the right password sends; a wrong one is our configuration's
    fault, so the message waits (not failed) and the run stops."""

    def authenticator(_server, _session, _envelope, _mechanism, auth_data):
        # handled=False: the server, not this hook, answers (535 when refused).
        ok = (auth_data.login, auth_data.password) == (b"mimamori", b"right-password")
        return AuthResult(success=ok, handled=False)

    down_server.start(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    wrong = world_for(down_server.port, **{"mimamori.smtp_username": "mimamori",
                                           "mimamori.smtp_password": "wrong-password"})
    message_id = wrong.enqueue()
    result = wrong.deliver()
    assert result.server_unreachable and result.failed == 0
    message = wrong.message(message_id)
    assert message.status is MailStatus.PENDING and message.last_error.startswith("SMTPAuthenticationError")
    assert down_server.received == []

    right = World(wrong.settings["sqlalchemy.url"], down_server.port, **{
        "mimamori.smtp_username": "mimamori", "mimamori.smtp_password": "right-password"})
    try:
        right.clock.set(DEFAULT_NOW + dt.timedelta(minutes=1))
        assert right.deliver().sent == 1
    finally:
        right.engine.dispose()
    assert len(down_server.received) == 1


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 (it is its own CA)."""
    cert, key = tmp_path / "relay.pem", tmp_path / "relay.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.mark.req("F-NOTIFY")
def test_starttls_checks_the_relay_certificate_against_the_configured_ca(down_server, world_for, certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    down_server.start(tls_context=context, require_starttls=True)

    # Without our CA the relay cannot be verified: nothing is sent, nothing is lost.
    untrusted = world_for(down_server.port, **{"mimamori.smtp_starttls": "true"})
    message_id = untrusted.enqueue()
    assert untrusted.deliver().server_unreachable
    assert "SSLCertVerificationError" in untrusted.message(message_id).last_error
    assert down_server.received == []

    trusted = World(untrusted.settings["sqlalchemy.url"], down_server.port,
                    **{"mimamori.smtp_starttls": "true", "mimamori.smtp_ca_file": str(cert)})
    try:
        trusted.clock.set(DEFAULT_NOW + dt.timedelta(minutes=1))
        assert trusted.deliver().sent == 1
    finally:
        trusted.engine.dispose()
    assert [m["Subject"] for m in down_server.received] == ["【見守り】新しい緊急連絡があります"]


@pytest.mark.req("F-NOTIFY")
def test_a_relay_that_demands_starttls_refuses_plain_sending_and_the_mail_waits(down_server, world_for, certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    down_server.start(tls_context=context, require_starttls=True)
    world = world_for(down_server.port)  # smtp_starttls left false by mistake
    message_id = world.enqueue()
    result = world.deliver()
    message = world.message(message_id)
    assert message.status is MailStatus.PENDING and message.attempts == 1
    assert "530" in message.last_error and "STARTTLS" in message.last_error
    assert result.server_unreachable and result.sent == 0 and down_server.received == []


@pytest.mark.req("F-NOTIFY", "F-MONTHLY", "F-URGENT")
def test_a_return_and_an_answer_reach_each_facility_address_through_the_server(smtp, world_for):
    """Issue 18 item 7 end to end: the centre's actions, committed, then the sender and a real server."""
    from tests.factories import Factory, FakeOutbox
    from webapp.reports.forms import validate_report
    from webapp.reports.services import NEW_REPORT_TOKEN, ReportService
    from webapp.urgent.models import UrgentCategory
    from webapp.urgent.services import NewReport, UrgentReportService

    world = world_for(smtp.port)
    with world.sessions.begin() as session:
        make = Factory(session)
        facility = make.facility()
        child = make.child(facility=facility, family_name="山田", given_name="𠮷太郎")
        staff = make.account("facility", facility=facility, email="school@city.example.jp")
        make.account("facility", facility=facility, email="vice@city.example.jp")
        caseworker = make.account("caseworker", centre=facility.centre)
        values, _errors = validate_report({"days_expected": "20", "days_attended": "20", "days_absent": "0",
                                           "family_contact": "yes", "condition": "元気"}, days_in_month=31,
                                          submit=True)
        outbox = MailOutbox(session, world.mail, world.clock)
        reports = ReportService(session, outbox)
        report = reports.save(child=child, period=dt.date(2026, 10, 1), account=staff, values=values,
                              token=NEW_REPORT_TOKEN, submit=True, today=dt.date(2026, 11, 26))
        reports.return_report(report, caseworker, "山田さんの欠席理由を追記してください")
        urgent = UrgentReportService(session, FakeOutbox(), world.clock)
        filed = urgent.file(staff, NewReport(child=child, category=UrgentCategory.INJURY, description="あざ",
                                             observed_at=world.clock.now()))
        urgent.acknowledge(filed, caseworker)
        UrgentReportService(session, outbox, world.clock).respond(filed, caseworker, "家庭訪問します", shared=True)
        report_id, urgent_id = report.id, filed.id

    assert world.deliver().sent == 4
    received = sorted((m["To"], m["Subject"], text_of(m)) for m in smtp.received)
    assert [(to, subject) for to, subject, _body in received] == [
        ("school@city.example.jp", "【見守り】月次報告が差し戻されました"),
        ("school@city.example.jp", "【見守り】緊急連絡にセンターから返信があります"),
        ("vice@city.example.jp", "【見守り】月次報告が差し戻されました"),
        ("vice@city.example.jp", "【見守り】緊急連絡にセンターから返信があります"),
    ]
    bodies = "".join(subject + body for _to, subject, body in received)
    assert f"https://mimamori.example.jp/reports/{report_id}\n" in bodies
    assert f"https://mimamori.example.jp/urgent/{urgent_id}\n" in bodies
    for personal in ("山田", "𠮷太郎", "欠席理由", "あざ", "家庭訪問"):
        assert personal not in bodies
