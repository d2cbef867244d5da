"""Monthly report reminders (F-REMIND, F-NOTIFY): each step at most once per facility and
period, only to facilities with reports missing, the centre told after the deadline, and no
personal data in any email."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp.clock import JST, FixedClock
from webapp.mail.models import OutboxMessage
from webapp.mail.services import MailOutbox, MailSettings
from webapp.reports.reminders import ReminderSend, ReminderService, ReminderStep
from webapp.settings import build_settings

OCTOBER = dt.date(2026, 10, 1)
SETTINGS = build_settings({"mimamori.session_secret": "s" * 40,
                           "mimamori.public_url": "https://mimamori.example.jp"}, environ={})


def at(day: dt.date) -> FixedClock:
    return FixedClock(dt.datetime(day.year, day.month, day.day, 7, 0, tzinfo=JST))


@pytest.fixture
def world(make):
    centre = make.centre(name="北沢子ども家庭支援センター")
    late = make.facility(centre=centre, name="さくら保育園")
    done = make.facility(centre=centre)
    children = [make.child(facility=late, family_name="伊藤", given_name=f"{n}郎") for n in "一二"]
    make.report(children[0], OCTOBER, status="draft")  # a draft is not submitted
    finished = make.child(facility=done, family_name="加藤", given_name="恵")
    make.report(finished, OCTOBER)
    return {
        "centre": centre, "late": late, "done": done,
        "late_staff": make.account("facility", facility=late, email="sakura@hoiku.example.jp"),
        "late_staff_without_email": make.account("facility", facility=late),
        "done_staff": make.account("facility", facility=done, email="done@school.example.jp"),
        "caseworker": make.account("caseworker", centre=centre, email="kitazawa@centre.example.jp"),
        "other_caseworker": make.account("caseworker", email="other@centre.example.jp"),
    }


def remind(db, day: dt.date):
    clock = at(day)
    outbox = MailOutbox(db, MailSettings.from_settings(SETTINGS), clock)
    result = ReminderService(db, outbox, clock, deadline_day=10, days_before=3).run()
    db.flush()
    return result


def mails(db) -> list[OutboxMessage]:
    return list(db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.req("F-REMIND", "F-NOTIFY")
def test_before_due_and_overdue_each_once_to_the_late_facility_and_then_the_centre(db, world):
    remind(db, dt.date(2026, 11, 7))
    remind(db, dt.date(2026, 11, 8))  # still "before": already sent
    [before] = mails(db)
    assert before.recipient == "sakura@hoiku.example.jp"
    assert "月次報告の提出期限が近づいています。未提出の報告が2件あります。" in before.body
    assert "https://mimamori.example.jp/reports/period/2026-10" in before.body

    remind(db, dt.date(2026, 11, 10))
    remind(db, dt.date(2026, 11, 10))
    due = mails(db)[1:]
    assert [(m.recipient, "本日は月次報告の提出期限です。" in m.body) for m in due] == [("sakura@hoiku.example.jp", True)]

    first = remind(db, dt.date(2026, 11, 11))
    second = remind(db, dt.date(2026, 11, 12))
    overdue = mails(db)[2:]
    assert [m.recipient for m in overdue] == ["sakura@hoiku.example.jp", "kitazawa@centre.example.jp"]
    assert "月次報告の提出期限を過ぎています。" in overdue[0].body
    assert "提出期限を過ぎても提出されていない月次報告が2件あります。" in overdue[1].body
    assert "https://mimamori.example.jp/centre/submissions" in overdue[1].body
    assert (first.steps, first.facility_emails, first.centre_emails) == (1, 1, 1)
    assert (second.steps, second.facility_emails, second.centre_emails) == (0, 0, 0)

    sends = db.scalars(sa.select(ReminderSend).order_by(ReminderSend.id)).all()
    assert [(s.facility_id, s.period, s.step, s.missing, s.recipients) for s in sends] == [
        (world["late"].id, OCTOBER, step, 2, 1) for step in ReminderStep
    ]
    for mail in mails(db):
        for text in ("伊藤", "一郎", "二郎", "さくら保育園", "北沢"):
            assert text not in mail.body and text not in mail.subject


@pytest.mark.req("F-REMIND")
def test_a_facility_that_submitted_everything_gets_nothing(db, world):
    for day in (dt.date(2026, 11, 7), dt.date(2026, 11, 10), dt.date(2026, 11, 11)):
        remind(db, day)
    assert "done@school.example.jp" not in {m.recipient for m in mails(db)}
    assert db.scalar(sa.select(sa.func.count()).select_from(ReminderSend)
                     .where(ReminderSend.facility_id == world["done"].id)) == 0


@pytest.mark.req("F-REMIND")
def test_a_step_already_recorded_sends_nothing_even_if_the_check_raced(db, world):
    """Two runs both seeing the step as not yet taken: the unique key lets only one record it."""
    remind(db, dt.date(2026, 11, 10))
    clock = at(dt.date(2026, 11, 10))
    service = ReminderService(db, MailOutbox(db, MailSettings.from_settings(SETTINGS), clock), clock, 10, 3)
    assert service._claim(world["late"].id, OCTOBER, ReminderStep.DUE, 2, []) is False
    assert len(mails(db)) == 1


@pytest.mark.req("F-REMIND")
def test_a_missed_deadline_day_is_not_made_up_later_but_overdue_follows(db, world):
    remind(db, dt.date(2026, 11, 13))
    steps = db.scalars(sa.select(ReminderSend.step)).all()
    assert steps == [ReminderStep.OVERDUE]
