"""``mimamori jobs run`` with the alert sweep and the reminders (issue 7 item 5, F-ALERT,
F-REMIND, F-NOTIFY): a run raises and mails, a second run sends nothing twice, and the
emails arrive at a real SMTP server with nothing personal in them. Real commits, so each test
has its own ``scratch_url`` database."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from tests.conftest import DEFAULT_NOW
from tests.factories import Factory
from tests.functional.test_mail_delivery import SmtpServer, free_port, mail_settings_for, text_of
from webapp import migrate
from webapp.alerts.models import Alert
from webapp.attendance.models import AttendanceEntry
from webapp.clock import FixedClock
from webapp.db import create_engine
from webapp.jobs import registry
from webapp.jobs.runner import JobRunner
from webapp.mail.models import OutboxMessage
from webapp.reports.reminders import ReminderSend

CHILD_NAMES = ("渡辺", "𠮷乃", "中村", "健太")


@pytest.fixture
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def world(scratch_url):
    """Two absent children of one centre, an October report missing, accounts with email."""
    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    with sessionmaker(bind=engine).begin() as db:
        make = Factory(db)
        centre = make.centre()
        facility = make.facility(centre=centre, name="ひまわり小学校")
        staff = make.account("facility", facility=facility, email="himawari@school.example.jp")
        make.account("caseworker", centre=centre, email="centre@centre.example.jp")
        children = [make.child(facility=facility, family_name=CHILD_NAMES[0], given_name=CHILD_NAMES[1]),
                    make.child(facility=facility, family_name=CHILD_NAMES[2], given_name=CHILD_NAMES[3])]
        for child in children:
            db.add(AttendanceEntry(child_id=child.id, facility_id=facility.id, day=dt.date(2026, 11, 20),
                                   status="present", recorded_by_id=staff.id))
            for day in (24, 25, 26):  # 11/23 is a national holiday
                db.add(AttendanceEntry(child_id=child.id, facility_id=facility.id, day=dt.date(2026, 11, day),
                                       status="absent", recorded_by_id=staff.id))
    yield scratch_url, engine
    engine.dispose()


def outbox(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(OutboxMessage.__table__).order_by("id")).all()


def count(engine, model) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(model.__table__))


@pytest.mark.req("F-ALERT", "F-REMIND", "F-NOTIFY")
def test_a_run_raises_reminds_and_a_second_run_sends_nothing_twice(world):
    url, engine = world
    settings = mail_settings_for(url, free_port(), **{"mimamori.mail": "null"})
    clock = FixedClock(DEFAULT_NOW)

    report = JobRunner(engine, settings, clock, registry()).run()

    assert report.ok, report.results
    results = {r.name: r.message for r in report.results}
    assert results["alerts.sweep"].startswith("2 children swept, 2 alert(s) raised")
    assert results["reports.remind"].startswith("1 reminder step(s) taken, 1 facility email(s), 1 centre email(s)")
    templates = sorted((row.template, row.recipient) for row in outbox(engine))
    assert templates == [("alerts", "centre@centre.example.jp"), ("report_overdue_centre", "centre@centre.example.jp"),
                         ("report_reminder", "himawari@school.example.jp")]
    assert count(engine, Alert) == 2 and count(engine, ReminderSend) == 1

    clock.set(DEFAULT_NOW + dt.timedelta(minutes=5))
    again = JobRunner(engine, settings, clock, registry()).run()

    assert again.ok
    results = {r.name: r.message for r in again.results}
    assert "0 alert(s) raised" in results["alerts.sweep"] and results["reports.remind"].startswith("0 reminder")
    assert len(outbox(engine)) == 3 and count(engine, Alert) == 2 and count(engine, ReminderSend) == 1


@pytest.mark.req("F-ALERT", "F-NOTIFY")
def test_the_sweep_email_arrives_at_the_smtp_server_without_personal_data(world, smtp):
    url, engine = world
    settings = mail_settings_for(url, smtp.port)
    clock = FixedClock(DEFAULT_NOW)

    report = JobRunner(engine, settings, clock, registry()).run(only=["alerts.sweep", "mail.deliver"])

    assert report.ok, report.results
    assert [row.status for row in outbox(engine)] == ["sent"]
    [message] = smtp.received
    assert smtp.envelopes[0][1] == ["centre@centre.example.jp"]
    assert message["Subject"] == "【見守り】新しいアラートがあります"
    body = text_of(message)
    assert "新しいアラート、または要対応に引き上げられたアラートが2件あります。ログインして確認してください。" in body
    assert "https://mimamori.example.jp/alerts" in body
    raw = b"".join(smtp.raw).decode("utf-8", "replace")
    for text in (*CHILD_NAMES, "ひまわり小学校"):
        assert text not in body and text not in message["Subject"] and text not in raw

    # The next run finds nothing new and the server receives nothing more.
    clock.set(DEFAULT_NOW + dt.timedelta(minutes=5))
    assert JobRunner(engine, settings, clock, registry()).run(only=["alerts.sweep", "mail.deliver"]).ok
    assert len(smtp.received) == 1
