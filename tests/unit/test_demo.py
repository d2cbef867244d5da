"""The generated demo data: shape, validity against the report rules, names, refusal."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
import sqlalchemy as sa

from tests.conftest import DEFAULT_NOW
from tests.factories import TEST_PASSWORDS
from webapp import demo
from webapp.accounts.models import Account
from webapp.authz import Role
from webapp.children.models import Child, Grade
from webapp.demo import loader
from webapp.demo.reports import expected_days
from webapp.notices.models import Notice
from webapp.organisations.models import Centre, CentreKind, Facility, FacilityType
from webapp.reports.forms import form_values_from_version, validate_report
from webapp.reports.models import (
    ABSENCE_REASONS,
    MonthlyReport,
    MonthlyReportVersion,
    ReportAction,
    ReportEvent,
    ReportStatus,
)
from webapp.reports.periods import days_in_month, last_day

# Cheap argon2 parameters; the real load hashes the demo password once with
# the production cost.
DEMO_HASH = TEST_PASSWORDS.hash(demo.DEMO_PASSWORD)
LATEST = dt.date(2026, 10, 1)  # the month before DEFAULT_NOW (2026-11-26)
HIRAGANA = re.compile(r"[\u3041-\u309f\u30fc]+")


@pytest.fixture
def logins(db):
    result = demo.load(db, scale="small", seed=7, now=DEFAULT_NOW, password_hash=DEMO_HASH)
    db.flush()
    return result


def count(db, model, *where):
    return db.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_small_scale_has_the_shape_of_the_ward(db, logins):
    centres = db.scalars(sa.select(Centre)).all()
    assert [c.kind for c in centres].count(CentreKind.SUPPORT_CENTRE) == 2
    assert [c.name for c in centres if c.kind == CentreKind.GUIDANCE_CENTRE] == ["世田谷区児童相談所"]
    facilities = db.scalars(sa.select(Facility)).all()
    assert len(facilities) == 6
    assert {f.facility_type for f in facilities} == set(FacilityType) - {FacilityType.OTHER}
    assert count(db, Child) == 40
    roles = Counter(a.role for a in db.scalars(sa.select(Account)))
    assert roles == {Role.ADMIN: 1, Role.AUDITOR: 1, Role.CASEWORKER: 3, Role.FACILITY: 6}
    # Every account is returned with the password, and none must change it first.
    assert sorted(entry.login for entry in logins) == sorted(db.scalars(sa.select(Account.login)))
    assert {entry.password for entry in logins} == {demo.DEMO_PASSWORD}
    assert count(db, Account, Account.must_change_password.is_(True)) == 0
    assert TEST_PASSWORDS.verify(db.scalar(sa.select(Account.password_hash).limit(1)), demo.DEMO_PASSWORD)


def test_facility_accounts_belong_to_their_facility_and_caseworkers_to_centres(db, logins):
    for account in db.scalars(sa.select(Account).where(Account.role == Role.FACILITY)):
        assert account.login == account.facility.code.lower()
    assert count(db, Account, Account.role == Role.CASEWORKER, Account.centre_id.is_(None)) == 0
    assert {e.organisation for e in logins if e.role == Role.CASEWORKER} == set(db.scalars(sa.select(Centre.name)))


@pytest.mark.req("F-NOTIFY")
def test_every_demo_account_has_an_example_address_the_outbox_accepts(db, logins):
    from webapp.mail.services import check_address

    accounts = db.scalars(sa.select(Account)).all()
    # One each, at the reserved example domain only, so demo mail can never reach a real person.
    assert {a.email for a in accounts} == {f"{a.login}@example.jp" for a in accounts}
    assert len({a.email for a in accounts}) == len(accounts)
    for account in accounts:
        assert check_address(account.email) == account.email


def test_describe_logins_names_every_role_and_the_password(logins):
    text = demo.describe_logins(logins)
    assert demo.DEMO_PASSWORD in text
    for login in ("admin", "auditor", "cw-setagaya-1", "cw-jisou-1", "es001", "ns001"):
        assert f"  {login} " in text
    for role in Role:
        assert role.label in text


def test_grades_match_the_type_of_facility(db, logins):
    for child in db.scalars(sa.select(Child)):
        assert child.grade in loader.GRADES[child.facility.facility_type], (child.facility.name, child.grade)


def test_names_have_kana_and_include_rare_kanji(db, logins):
    children = db.scalars(sa.select(Child)).all()
    for child in children:
        assert child.family_name and child.given_name
        assert HIRAGANA.fullmatch(child.family_name_kana), child.family_name_kana
        assert HIRAGANA.fullmatch(child.given_name_kana), child.given_name_kana
    # At least one name outside the common kanji (髙, 﨑, or 𠮷 beyond the BMP).
    assert any(ch in child.family_name for child in children for ch in "髙﨑𠮷邉齋濵瀨")


def test_every_report_passes_the_report_form_rules(db, logins):
    versions = db.scalars(sa.select(MonthlyReportVersion)).all()
    assert len(versions) > 300
    for version in versions:
        period = version.report.period
        values, errors = validate_report(
            form_values_from_version(version), days_in_month=days_in_month(period), submit=True
        )
        assert errors == {}, (version.id, version.content(), dict(errors))
        # The same rules, stated directly.
        assert version.days_attended + version.days_absent == version.days_expected
        assert sum(getattr(version, name) for name in ABSENCE_REASONS) == version.days_absent
        assert version.late_count <= version.days_attended
        assert version.early_leave_count <= version.days_attended
        assert (version.family_contact is not None) == (version.days_absent > 0)
        assert bool(version.condition) != version.nothing_special
        facility_type = version.report.facility.facility_type
        assert version.days_expected == expected_days(facility_type, period)


def test_twelve_months_ending_last_month_in_every_status(db, logins):
    periods = sorted(set(db.scalars(sa.select(MonthlyReport.period))))
    assert periods[-1] == LATEST
    assert len(periods) == 12
    assert set(db.scalars(sa.select(MonthlyReport.status))) == set(ReportStatus)
    # Reports only for months in which the child was being watched.
    for report in db.scalars(sa.select(MonthlyReport)):
        assert report.child.is_monitored_during(report.period, last_day(report.period))
        assert report.facility_id == report.child.facility_id


def test_statuses_are_consistent_with_versions_and_events(db, logins):
    for report in db.scalars(sa.select(MonthlyReport)):
        actions = [event.action for event in report.events]
        last = report.versions[-1]
        if report.status == ReportStatus.DRAFT:
            assert last.submitted_at is None and report.submitted_at is None
        else:
            assert all(v.submitted_at is not None for v in report.versions)
            assert report.submitted_at is not None
        if report.status == ReportStatus.ACKNOWLEDGED:
            assert actions[-1] == ReportAction.ACKNOWLEDGED
            assert report.acknowledged_by.centre_id == report.child.centre_id
            assert report.acknowledged_at >= report.submitted_at
        if report.status == ReportStatus.RETURNED:
            returned = [e for e in report.events if e.action == ReportAction.RETURNED]
            assert returned and returned[-1].comment
        assert [v.number for v in report.versions] == list(range(1, len(report.versions) + 1))


def test_some_reports_are_missing_and_the_showcase_facility_has_children_to_report(db, logins):
    showcase = db.scalar(sa.select(Facility).where(Facility.code == "ES001"))
    children = db.scalars(sa.select(Child).where(Child.facility_id == showcase.id)).all()
    reported = set(db.scalars(sa.select(MonthlyReport.child_id).where(MonthlyReport.period == LATEST)))
    unreported = [c for c in children if c.id not in reported]
    # The README walk-through needs a child with nothing reported yet for last month.
    assert len(unreported) >= 2
    statuses = set(db.scalars(sa.select(MonthlyReport.status).where(
        MonthlyReport.period == LATEST, MonthlyReport.facility_id == showcase.id)))
    assert {ReportStatus.DRAFT, ReportStatus.RETURNED, ReportStatus.SUBMITTED} <= statuses


def test_second_load_is_refused_and_changes_nothing(db, logins):
    before = count(db, Child), count(db, MonthlyReport), count(db, Account)
    with pytest.raises(demo.DemoDataRefused) as refused:
        demo.load(db, scale="small", now=DEFAULT_NOW, password_hash=DEMO_HASH)
    assert "already has data" in str(refused.value)
    # A SystemExit carrying a message: the command prints it and exits with 1.
    assert isinstance(refused.value, SystemExit) and isinstance(refused.value.code, str)
    assert (count(db, Child), count(db, MonthlyReport), count(db, Account)) == before


def test_refuses_even_a_single_existing_account(db, make):
    make.account("admin")
    with pytest.raises(demo.DemoDataRefused, match="1 accounts"):
        demo.load(db, scale="small", now=DEFAULT_NOW, password_hash=DEMO_HASH)


def test_unknown_scale_is_an_error(db):
    with pytest.raises(ValueError, match="unknown scale"):
        demo.load(db, scale="tokyo", password_hash=DEMO_HASH)


def test_rows_added_after_the_demo_get_fresh_ids(db, logins, make):
    # The loader numbers rows itself; PostgreSQL's sequences must be moved on,
    # or the next insert would collide with a demo row.
    last_child = db.scalar(sa.select(sa.func.max(Child.id)))
    child = make.child(facility=make.facility(centre=make.centre()))
    assert child.id == last_child + 1


def test_same_seed_gives_the_same_data(db, logins, tmp_path):
    from sqlalchemy.orm import Session

    from webapp import migrate
    from webapp.db import create_engine

    url = f"sqlite:///{tmp_path / 'again.sqlite'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as other:
        demo.load(other, scale="small", seed=7, now=DEFAULT_NOW, password_hash=DEMO_HASH)
        names_again = other.execute(sa.select(Child.family_name, Child.given_name).order_by(Child.id)).all()
        facilities_again = other.scalars(sa.select(Facility.name).order_by(Facility.id)).all()
    engine.dispose()
    assert names_again == db.execute(sa.select(Child.family_name, Child.given_name).order_by(Child.id)).all()
    assert facilities_again == db.scalars(sa.select(Facility.name).order_by(Facility.id)).all()


@pytest.mark.parametrize("facility_type", list(FacilityType))
def test_expected_days_are_possible_in_every_month(facility_type):
    for month in range(1, 13):
        period = dt.date(2026, month, 1)
        assert 0 < expected_days(facility_type, period) <= days_in_month(period)


def test_report_events_record_who_acted(db, logins):
    facility_roles = {e.account.role for e in db.scalars(sa.select(ReportEvent))
                      if e.action in (ReportAction.SAVED, ReportAction.SUBMITTED)}
    centre_roles = {e.account.role for e in db.scalars(sa.select(ReportEvent))
                    if e.action in (ReportAction.RETURNED, ReportAction.ACKNOWLEDGED)}
    assert facility_roles == {Role.FACILITY}
    assert centre_roles == {Role.CASEWORKER}


def test_the_command_loads_once_and_then_refuses(tmp_path, capsys):
    from webapp import cli

    ini = tmp_path / "demo.ini"
    ini.write_text(
        "[app:main]\n"
        f"sqlalchemy.url = sqlite:///{tmp_path / 'cli.sqlite'}\n"
        f"mimamori.session_secret = {'s' * 40}\n",
        encoding="utf-8",
    )
    assert cli.main(["-c", str(ini), "migrate"]) == 0
    assert cli.main(["-c", str(ini), "demo-data", "--scale", "small"]) == 0
    out = capsys.readouterr().out
    assert demo.DEMO_PASSWORD in out and "es001" in out
    with pytest.raises(SystemExit) as refused:
        cli.main(["-c", str(ini), "demo-data", "--scale", "small"])
    assert "already has data" in str(refused.value.code)
    # Beside it, a second demo prints every login: role, login, second-factor secret.
    assert cli.main(["-c", str(ini), "demo-data", "--scale", "small", "--alongside", "w"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert ["facility", "w-es001", "-"] in rows
    assert all(len(secret) == 32 for role, _login, secret in rows if role == "caseworker")


def test_copy_path_stores_the_same_values(db, monkeypatch):
    # On PostgreSQL the big tables go in with COPY; force it for the small scale.
    from webapp.demo import bulk as demo_bulk

    monkeypatch.setattr(demo_bulk, "COPY_THRESHOLD", 1)
    demo.load(db, scale="small", seed=7, now=DEFAULT_NOW, password_hash=DEMO_HASH)
    db.expire_all()
    assert count(db, Child) == 40
    assert set(db.scalars(sa.select(MonthlyReport.status))) == set(ReportStatus)
    grades = set(db.scalars(sa.select(Child.grade)))
    assert grades and all(isinstance(g, Grade) for g in grades)
    assert count(db, ReportEvent, ReportEvent.report_id.is_(None)) == 0


def test_bulk_insert_applies_python_side_defaults(db, monkeypatch):
    # COPY (PostgreSQL) bypasses SQLAlchemy: the defaults must still be filled in.
    from webapp.demo import bulk as demo_bulk

    monkeypatch.setattr(demo_bulk, "COPY_THRESHOLD", 1)
    ids = demo_bulk.IdAllocator(db)
    ids.insert(Centre, [{"code": "B1", "name": "一", "kind": CentreKind.SUPPORT_CENTRE}])
    ids.insert(Centre, [{"code": "B2", "name": "二", "kind": CentreKind.GUIDANCE_CENTRE}])
    rows = db.execute(sa.select(Centre.code, Centre.kind, Centre.active, Centre.created_at)
                      .order_by(Centre.code)).all()
    assert [(r.code, r.kind, r.active) for r in rows] == [
        ("B1", CentreKind.SUPPORT_CENTRE, True), ("B2", CentreKind.GUIDANCE_CENTRE, True)]
    assert all(r.created_at is not None for r in rows)


@pytest.mark.req("F-ALERT")
def test_the_demo_shows_an_escalated_acknowledged_alert_and_the_sweep_adds_the_others(db, logins):
    from webapp.alerts.models import Alert, AlertLevel, AlertStatus
    from webapp.alerts.streaks import Thresholds
    from webapp.alerts.sweep import AlertSweep, calendar_from_settings
    from webapp.clock import FixedClock

    AlertSweep(db, calendar_from_settings({}, db), Thresholds(), FixedClock(DEFAULT_NOW)).run()
    db.flush()
    db.expire_all()
    alerts = db.scalars(sa.select(Alert).order_by(Alert.current_length)).all()
    shown = {(a.current_length, a.level, a.status, a.escalated_at is not None) for a in alerts}
    assert {(4, AlertLevel.CAUTION, AlertStatus.OPEN, False), (8, AlertLevel.ACTION, AlertStatus.OPEN, False),
            (9, AlertLevel.ACTION, AlertStatus.ACKNOWLEDGED, True)} <= shown
    silent = next(a for a in alerts if a.current_length == 8)
    assert silent.no_contact and silent.no_contact_day == silent.streak_id
    escalated = next(a for a in alerts if a.current_length == 9)
    # (The sweep may add a 連絡なし flag: the streak's days have random no-contact entries.)
    assert [e.kind.value for e in escalated.events][:5] == [
        "raised", "acknowledged", "escalated", "reopened", "acknowledged"]
    assert all(e.at <= DEFAULT_NOW for e in escalated.events[:5])


def test_a_second_demo_alongside_keeps_the_first_and_prefixes_everything(db, logins):
    # The lab's ward-day benchmark adds the ward's scale beside the small demo
    # the lab tests log in with; the small demo's rows must stay as they were.
    first = {a.login: (a.id, a.password_hash, a.facility_id, a.centre_id) for a in db.scalars(sa.select(Account))}
    notices = count(db, Notice)
    ward = demo.load(db, scale="small", seed=8, now=DEFAULT_NOW, password_hash=DEMO_HASH, alongside="w")
    db.flush()
    after = {a.login: (a.id, a.password_hash, a.facility_id, a.centre_id) for a in db.scalars(sa.select(Account))}
    assert {login: after[login] for login in first} == first
    assert ward and all(entry.login.startswith(("w-", "cw-w-")) for entry in ward)
    # No second admin, auditor or set of notices: those are the first demo's.
    assert {entry.role for entry in ward} == {Role.CASEWORKER, Role.FACILITY}
    assert count(db, Notice) == notices
    assert count(db, Centre, Centre.code.startswith("w-")) == 3
    assert count(db, Facility, Facility.code.startswith("W-")) == 6
    # Every caseworker of the second demo is enrolled with the secret printed for it.
    for entry in ward:
        account = db.scalar(sa.select(Account).where(Account.login == entry.login))
        if entry.role == Role.CASEWORKER:
            assert entry.totp_secret and account.totp_secret == entry.totp_secret and account.totp_enrolled_at
        else:
            assert entry.totp_secret is None and account.totp_secret is None
    assert demo.ALONGSIDE_CASEWORKERS_PER_CENTRE == count(db, Account, Account.login.startswith("cw-w-setagaya-"))
    lines = demo.describe_every_login(ward).splitlines()
    assert len(lines) == len(ward) and lines[0].split("\t")[1] == ward[0].login


def test_a_second_demo_with_the_same_prefix_or_a_bad_one_is_refused(db, logins):
    demo.load(db, scale="small", now=DEFAULT_NOW, password_hash=DEMO_HASH, alongside="w")
    before = count(db, Child), count(db, Account)
    with pytest.raises(demo.DemoDataRefused, match="already loaded"):
        demo.load(db, scale="small", now=DEFAULT_NOW, password_hash=DEMO_HASH, alongside="w")
    with pytest.raises(demo.DemoDataRefused, match="lower-case"):
        demo.load(db, scale="small", now=DEFAULT_NOW, password_hash=DEMO_HASH, alongside="W-1;")
    assert (count(db, Child), count(db, Account)) == before
