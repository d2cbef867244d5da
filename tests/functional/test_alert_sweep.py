"""The alert sweep over the attendance entries (F-ALERT, F-NOTIFY): thresholds from settings,
one alert per streak that escalates 注意 → 要対応 and carries 連絡なし, lengths kept up to date,
one email per centre and sweep, no personal data."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from tests.conftest import DEFAULT_NOW
from webapp.alerts.models import Alert, AlertEvent, AlertLevel, AlertStatus, AlertSweepState
from webapp.alerts.services import AlertService
from webapp.alerts.streaks import Thresholds
from webapp.alerts.sweep import AlertSweep, placements_of
from webapp.attendance.models import AttendanceEntry
from webapp.audit.models import AuditRecord
from webapp.closed_days import Calendar, FixedHolidays, InMemoryFacilityDays
from webapp.mail.models import OutboxMessage
from webapp.mail.services import MailOutbox, MailSettings
from webapp.settings import build_settings

# 2026-11-26 is a Thursday; 2026-11-23 (Mon) is 勤労感謝の日.
THU = dt.date(2026, 11, 26)
HOLIDAY = dt.date(2026, 11, 23)


def days(*pairs):
    return [dt.date(2026, month, day) for month, day in pairs]


class World:
    def __init__(self, db, make, clock):
        self.db, self.make, self.clock = db, make, clock
        self.centre = make.centre()
        self.facility = make.facility(centre=self.centre)
        self.staff = make.account("facility", facility=self.facility)
        self.caseworker = make.account("caseworker", centre=self.centre, email="cw@centre.example.jp")
        self.facilities = {self.facility.id: "elementary"}
        self.settings = build_settings({"mimamori.session_secret": "s" * 40,
                                        "mimamori.public_url": "https://mimamori.example.jp"}, environ={})

    def child(self, **kw):
        child = self.make.child(facility=self.facility, **kw)
        return child

    def enter(self, child, day, status="absent", no_contact=False, facility=None):
        entry = self.db.scalar(sa.select(AttendanceEntry).where(AttendanceEntry.child_id == child.id,
                                                                AttendanceEntry.day == day))
        if entry is None:
            entry = AttendanceEntry(child_id=child.id, facility_id=(facility or self.facility).id, day=day,
                                    status=status, no_contact=no_contact, recorded_by_id=self.staff.id)
            self.db.add(entry)
        else:
            entry.status, entry.no_contact, entry.version = status, no_contact, entry.version + 1
        self.db.flush()
        return entry

    def sweep(self, **thresholds):
        calendar = Calendar(FixedHolidays([HOLIDAY]), InMemoryFacilityDays(self.facilities))
        outbox = MailOutbox(self.db, MailSettings.from_settings(self.settings), self.clock)
        result = AlertSweep(self.db, calendar, Thresholds(**thresholds) if thresholds else Thresholds(),
                            self.clock, outbox).run()
        self.db.flush()
        return result

    def alerts(self, child=None):
        query = sa.select(Alert).order_by(Alert.id)
        if child is not None:
            query = query.where(Alert.child_id == child.id)
        self.db.expire_all()
        return list(self.db.scalars(query))

    def mails(self):
        return list(self.db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def world(db, make, clock):
    return World(db, make, clock)


@pytest.mark.req("F-ALERT")
def test_three_absent_open_days_across_a_holiday_raise_one_warning_and_a_second_sweep_nothing(world):
    child = world.child()
    world.enter(child, dt.date(2026, 11, 19), "present")
    for day in days((11, 20), (11, 24), (11, 25)):  # Fri, (weekend, holiday), Tue, Wed
        world.enter(child, day)

    result = world.sweep()

    [alert] = world.alerts(child)
    assert (alert.level, alert.streak_id, alert.signal_day) == (AlertLevel.CAUTION, dt.date(2026, 11, 20),
                                                                dt.date(2026, 11, 25))
    assert (alert.no_contact, alert.escalated_at) == (False, None)
    assert (alert.streak_length, alert.current_length, alert.status) == (3, 3, AlertStatus.OPEN)
    assert alert.facility_id == world.facility.id and alert.raised_at is not None
    assert result.raised == 1 and len(world.mails()) == 1

    again = world.sweep()
    assert again.raised == 0 and len(world.alerts(child)) == 1 and len(world.mails()) == 1


@pytest.mark.req("F-ALERT")
def test_the_streak_grows_the_open_alert_and_reaching_seven_escalates_it_once(world, clock):
    child = world.child()
    world.enter(child, dt.date(2026, 11, 16), "present")
    for day in days((11, 17), (11, 18), (11, 19)):
        world.enter(child, day)
    world.sweep()
    for day in days((11, 20), (11, 24), (11, 25)):
        world.enter(child, day)
    world.sweep()
    warning, = world.alerts(child)
    assert (warning.streak_length, warning.current_length, warning.last_absent_day) == (3, 6, dt.date(2026, 11, 25))

    world.enter(child, THU)
    result = world.sweep()
    again = world.sweep()

    [alert] = world.alerts(child)
    assert (alert.id, alert.level, alert.streak_id, alert.streak_length, alert.current_length) == (
        warning.id, AlertLevel.ACTION, dt.date(2026, 11, 17), 3, 7)
    assert alert.escalated_at is not None and alert.status == AlertStatus.OPEN
    assert alert.kind == "absence_alert"  # what the previous release shows during a rolling upgrade
    assert (result.raised, result.escalated, again.escalated) == (0, 1, 0)
    assert [(e.kind.value, e.level, e.day) for e in alert.events] == [
        ("raised", AlertLevel.CAUTION, dt.date(2026, 11, 19)), ("escalated", AlertLevel.ACTION, THU)]
    # Raised, then escalated: two emails to the one caseworker, never a third.
    assert len(world.mails()) == 2


@pytest.mark.req("F-ALERT")
def test_thresholds_come_from_settings(world):
    child = world.child()
    world.enter(child, dt.date(2026, 11, 24), "present")
    world.enter(child, dt.date(2026, 11, 25))
    world.enter(child, THU)

    world.sweep(warning=2, alert=2)

    [alert] = world.alerts(child)
    assert (alert.level, alert.escalated_at) == (AlertLevel.ACTION, None)  # raised at 要対応 straight away
    assert Thresholds.from_settings({"mimamori.absence_warning_days": "2", "mimamori.absence_alert_days": "5"}) \
        == Thresholds(2, 5)


@pytest.mark.req("F-ALERT")
def test_an_absence_without_contact_raises_a_flagged_caution_on_the_first_day_and_once(world):
    child = world.child()
    world.enter(child, dt.date(2026, 11, 25), "present")
    world.enter(child, THU, no_contact=True)

    world.sweep()
    world.sweep()

    [alert] = world.alerts(child)
    assert (alert.level, alert.no_contact, alert.no_contact_day, alert.streak_id, alert.streak_length) == (
        AlertLevel.CAUTION, True, THU, THU, 1)


@pytest.mark.req("F-ALERT")
def test_a_week_entered_late_still_raises(world):
    child = world.child()
    world.enter(child, dt.date(2026, 11, 16), "present")
    world.sweep()
    assert world.alerts(child) == []
    for day in days((11, 17), (11, 18), (11, 19)):
        world.enter(child, day)
    world.enter(child, dt.date(2026, 11, 20), "present")
    world.enter(child, dt.date(2026, 11, 24), "present")

    world.sweep()

    [alert] = world.alerts(child)
    assert (alert.level, alert.streak_id) == (AlertLevel.CAUTION, dt.date(2026, 11, 17))


@pytest.mark.req("F-ALERT")
def test_a_lost_state_does_not_raise_twice_the_unique_key_holds(world, db):
    child = world.child()
    world.enter(child, dt.date(2026, 11, 20), "present")
    for day in days((11, 24), (11, 25), (11, 26)):
        world.enter(child, day)
    world.sweep()
    db.execute(sa.delete(AlertSweepState))

    result = world.sweep()

    assert result.raised == 0 and len(world.alerts(child)) == 1 and len(world.mails()) == 1


@pytest.mark.req("F-ALERT", "F-NOTIFY")
def test_one_email_per_caseworker_per_sweep_with_the_count_and_no_personal_data(world, make):
    first = world.child(family_name="鈴木", given_name="𠮷子")
    second = world.child(family_name="高橋", given_name="次郎")
    colleague = make.account("caseworker", centre=world.centre, email="colleague@centre.example.jp")
    make.account("caseworker", centre=world.centre)  # no email: nothing to send
    make.account("caseworker", centre=world.centre, email="gone@centre.example.jp", active=False)
    other_centre = make.account("caseworker", email="other@centre.example.jp")
    for child in (first, second):
        world.enter(child, dt.date(2026, 11, 20), "present")
        for day in days((11, 24), (11, 25), (11, 26)):
            world.enter(child, day)

    result = world.sweep()

    mails = world.mails()
    assert sorted(m.recipient for m in mails) == sorted([world.caseworker.email, colleague.email])
    assert result.raised == 2 and result.centres_notified == 1 and result.emails == 2
    for mail in mails:
        assert "新しいアラート、または要対応に引き上げられたアラートが2件あります。ログインして確認してください。" in mail.body
        assert "https://mimamori.example.jp/alerts" in mail.body
        for text in ("鈴木", "𠮷子", "高橋", "次郎", world.facility.name, world.centre.name):
            assert text not in mail.body and text not in mail.subject
    assert other_centre.email not in {m.recipient for m in mails}


@pytest.mark.req("F-ALERT", "S-AUDIT")
def test_raising_writes_a_change_record_by_the_sweep(world, db):
    child = world.child()
    world.enter(child, dt.date(2026, 11, 20), "present")
    for day in days((11, 24), (11, 25), (11, 26)):
        world.enter(child, day)
    world.sweep()
    [alert] = world.alerts(child)
    record = db.scalar(sa.select(AuditRecord).where(AuditRecord.entity == "alerts"))
    assert (record.action, record.entity_id, record.child_id, record.actor) == (
        "create", str(alert.id), child.id, "system:jobs:alerts.sweep")
    assert json.loads(record.after)["level"] == "caution"


@pytest.mark.req("F-ALERT")
def test_a_streak_carries_over_a_transfer_and_children_out_of_monitoring_are_not_swept(world, make):
    old = make.facility(centre=world.centre)
    world.facilities[old.id] = "nursery"
    child = world.child()
    world.enter(child, dt.date(2026, 11, 17), "present", facility=old)
    for day in days((11, 18), (11, 19)):
        world.enter(child, day, facility=old)
    world.enter(child, dt.date(2026, 11, 20))
    ended = world.child(monitoring_end=dt.date(2026, 10, 31))
    world.enter(ended, dt.date(2026, 10, 28), "present")
    for day in days((10, 29), (10, 30)):
        world.enter(ended, day)
    world.enter(ended, dt.date(2026, 10, 31))  # a Saturday: closed, not counted anyway

    result = world.sweep()

    [alert] = world.alerts(child)
    assert (alert.streak_id, alert.facility_id) == (dt.date(2026, 11, 18), world.facility.id)
    assert world.alerts(ended) == []
    assert result.children == 1


def test_placements_follow_the_entries_facilities():
    start = dt.date(2026, 4, 1)
    entries = [(dt.date(2026, 5, 1), 1), (dt.date(2026, 5, 2), 1), (dt.date(2026, 6, 1), 2)]
    assert placements_of(2, start, entries) == [(1, start), (2, dt.date(2026, 6, 1))]
    assert placements_of(3, start, entries)[-1] == (3, dt.date(2026, 6, 2))
    assert placements_of(5, start, []) == [(5, start)]


@pytest.mark.req("F-ALERT")
def test_the_sweep_reads_only_recent_days_once_it_has_a_state(world, db, monkeypatch):
    """A second sweep the same day walks nothing old: older entries are never read."""
    from webapp.alerts import sweep as sweep_module

    child = world.child()
    for day in days((11, 24), (11, 25), (11, 26)):
        world.enter(child, day, "present")
    world.sweep()
    loads = []
    original = sweep_module.ChildEntries._load_before
    monkeypatch.setattr(sweep_module.ChildEntries, "_load_before",
                        lambda self, day: (loads.append(day), original(self, day)))
    world.clock.set(DEFAULT_NOW + dt.timedelta(hours=1))
    world.sweep()
    assert loads == []


def absent_from_nov_17(world, child, *more):
    world.enter(child, dt.date(2026, 11, 16), "present")
    for day in days((11, 17), (11, 18), (11, 19), *more):
        world.enter(child, day)


def caution_raised(world):
    """A child absent 3 days (11-17..19) and the 注意 alert the sweep raised for it."""
    child = world.child()
    absent_from_nov_17(world, child)
    world.sweep()
    [alert] = world.alerts(child)
    return child, alert


@pytest.mark.req("F-ALERT")
def test_a_no_contact_day_later_in_the_streak_flags_the_same_alert_without_an_email(world):
    child, _alert = caution_raised(world)
    world.enter(child, dt.date(2026, 11, 20), no_contact=True)

    result = world.sweep()
    world.sweep()

    [alert] = world.alerts(child)
    assert (alert.level, alert.no_contact, alert.no_contact_day) == (AlertLevel.CAUTION, True, dt.date(2026, 11, 20))
    assert (result.raised, result.escalated) == (0, 0) and len(world.mails()) == 1
    assert [e.kind.value for e in alert.events] == ["raised", "no_contact"]


@pytest.mark.req("F-ALERT")
def test_an_acknowledged_alert_that_escalates_needs_attention_again(world, db):
    child, alert = caution_raised(world)
    service = AlertService(db, _everything())
    service.acknowledge(alert, world.caseworker, alert.version)
    shown_version = alert.version
    absent_from_nov_17(world, child, (11, 20), (11, 24), (11, 25), (11, 26))

    world.sweep()

    [alert] = world.alerts(child)
    assert (alert.level, alert.status, alert.acknowledged_at) == (AlertLevel.ACTION, AlertStatus.OPEN, None)
    assert alert.version == shown_version + 1  # a form shown at 注意 is stale now
    assert [(e.kind.value, e.actor_id) for e in alert.events] == [
        ("raised", None), ("acknowledged", world.caseworker.id), ("escalated", None), ("reopened", None)]
    assert AlertService(db, _everything()).open_count() == 1
    # Acknowledged again and resolved: still the one alert.
    service.acknowledge(alert, world.caseworker, alert.version)
    service.resolve(alert, world.caseworker, alert.version, "家庭訪問で確認")
    assert [e.kind.value for e in world.alerts(child)[0].events][-2:] == ["acknowledged", "resolved"]


@pytest.mark.req("F-ALERT")
def test_a_streak_resolved_at_caution_is_reopened_when_it_reaches_action(world, db):
    child, alert = caution_raised(world)
    AlertService(db, _everything()).resolve(alert, world.caseworker, alert.version, "病欠と確認")
    mails = len(world.mails())
    absent_from_nov_17(world, child, (11, 20), (11, 24), (11, 25))
    world.enter(child, THU, no_contact=True)  # the 7th day, and no word from home

    result = world.sweep()

    [alert] = world.alerts(child)
    assert (alert.status, alert.level, alert.no_contact) == (AlertStatus.OPEN, AlertLevel.ACTION, True)
    assert (alert.resolved_at, alert.resolution_note) == (None, None)
    assert (result.raised, result.escalated) == (0, 1)
    assert len(world.mails()) == mails + 1
    kinds = [e.kind.value for e in alert.events]
    assert kinds[:2] == ["raised", "resolved"] and {"escalated", "reopened", "no_contact"} <= set(kinds[2:])
    assert next(e for e in alert.events if e.kind.value == "resolved").note == "病欠と確認"


@pytest.mark.req("F-ALERT")
def test_a_resolved_streak_stays_resolved_and_a_new_streak_is_a_new_alert(world, db):
    child, alert = caution_raised(world)
    AlertService(db, _everything()).resolve(alert, world.caseworker, alert.version, "病欠と確認")
    world.enter(child, dt.date(2026, 11, 20), no_contact=True)  # a 4th day, no word from home: not 7 yet

    result = world.sweep()

    [alert] = world.alerts(child)
    assert (alert.status, alert.level, alert.no_contact) == (AlertStatus.RESOLVED, AlertLevel.CAUTION, False)
    assert (result.raised, result.escalated) == (0, 0)

    # The child came back, then a new streak: a new alert.
    world.enter(child, dt.date(2026, 11, 27), "present")
    world.clock.set(dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC))
    for day in days((11, 30), (12, 1), (12, 2)):
        world.enter(child, day)
    world.sweep()
    old, new = world.alerts(child)
    assert (old.status, new.status, new.streak_id) == (AlertStatus.RESOLVED, AlertStatus.OPEN, dt.date(2026, 11, 30))


@pytest.mark.req("F-ALERT")
def test_two_sweeps_racing_make_one_alert_and_one_escalation(world, db, monkeypatch):
    child, _alert = caution_raised(world)
    absent_from_nov_17(world, child, (11, 20), (11, 24), (11, 25), (11, 26))
    world.sweep()
    [alert] = world.alerts(child)
    assert alert.level == AlertLevel.ACTION and len(world.mails()) == 2

    # Another sweep that lost the state and read the alerts before this one wrote them:
    # its insert meets the unique key, its escalation the level already changed.
    db.execute(sa.delete(AlertSweepState))
    monkeypatch.setattr("webapp.alerts.sweep.AlertSweep._existing", lambda self, pending: {})
    result = world.sweep()

    assert (result.raised, result.escalated) == (0, 0)
    assert len(world.alerts(child)) == 1 and len(world.mails()) == 2
    assert len(db.scalars(sa.select(AlertEvent).where(AlertEvent.alert_id == alert.id)).all()) == 2


def _everything():
    class Everything:
        @staticmethod
        def children_clause():
            return sa.true()
    return Everything()
