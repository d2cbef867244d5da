"""Builders for test data. Each returns a flushed object with sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools

from webapp.accounts.models import Account
from webapp.accounts.services import PasswordService
from webapp.authz import Role
from webapp.children.models import Child, Grade
from webapp.organisations.models import Centre, CentreKind, Facility, FacilityType

PASSWORD = "correct-horse-battery-42"
# Cheap argon2 parameters: the tests create many accounts.
TEST_PASSWORDS = PasswordService(time_cost=1, memory_cost=1024)
_PASSWORD_HASH = TEST_PASSWORDS.hash(PASSWORD)
_counter = itertools.count(1)


class FakeOutbox:
    """Stands in for webapp.mail.services.MailOutbox in service tests: keeps what was queued."""

    def __init__(self):
        self.queued = []

    def enqueue(self, recipient, template, **params):
        self.queued.append((recipient, template, params))


class Factory:
    def __init__(self, db):
        self.db = db

    def _add(self, obj):
        self.db.add(obj)
        self.db.flush()
        return obj

    def centre(self, **kw) -> Centre:
        n = next(_counter)
        kw.setdefault("code", f"C{n:04d}")
        kw.setdefault("name", f"テスト子ども家庭支援センター{n}")
        kw.setdefault("kind", CentreKind.SUPPORT_CENTRE)
        return self._add(Centre(**kw))

    def facility(self, centre: Centre | None = None, **kw) -> Facility:
        n = next(_counter)
        kw.setdefault("code", f"F{n:05d}")
        kw.setdefault("name", f"テスト小学校{n}")
        kw.setdefault("facility_type", FacilityType.ELEMENTARY)
        return self._add(Facility(centre=centre or self.centre(), **kw))

    def account(self, role: Role | str, **kw) -> Account:
        n = next(_counter)
        role = Role(role)
        kw.setdefault("login", f"{role.value}{n}")
        kw.setdefault("display_name", f"テスト{role.label}{n}")
        kw.setdefault("password_hash", _PASSWORD_HASH)
        if role == Role.FACILITY and "facility" not in kw:
            kw["facility"] = self.facility()
        if role == Role.CASEWORKER and "centre" not in kw:
            kw["centre"] = self.centre()
        return self._add(Account(role=role, **kw))

    def child(self, facility: Facility | None = None, centre: Centre | None = None, **kw) -> Child:
        n = next(_counter)
        facility = facility or self.facility(centre=centre)
        kw.setdefault("family_name", "山田")
        kw.setdefault("given_name", f"太郎{n}")
        kw.setdefault("family_name_kana", "やまだ")
        kw.setdefault("given_name_kana", "たろう")
        kw.setdefault("grade", Grade.ES3)
        kw.setdefault("monitoring_start", dt.date(2026, 4, 1))
        return self._add(Child(facility=facility, centre=centre or facility.centre, **kw))

    def report(self, child: Child, period: dt.date, status="submitted", author: Account | None = None, **content):
        """A monthly report with one version; submitted (frozen) unless status is "draft"."""
        from webapp.db import utcnow
        from webapp.reports.models import MonthlyReport, MonthlyReportVersion, ReportStatus

        status = ReportStatus(status)
        author = author or self.account("facility", facility=child.facility)
        now = utcnow()
        submitted_at = None if status == ReportStatus.DRAFT else now
        report = self._add(MonthlyReport(child=child, facility_id=child.facility_id, period=period,
                                         status=status, submitted_at=submitted_at))
        content.setdefault("days_expected", 20)
        content.setdefault("days_attended", 20)
        content.setdefault("nothing_special", True)
        self._add(MonthlyReportVersion(report=report, number=1, author_id=author.id,
                                       submitted_at=submitted_at, **content))
        return report

    def alert(self, child: Child, level="caution", streak_id: dt.date = dt.date(2026, 11, 20), **kw):
        """A streak's alert as the sweep raises it (注意, open, length 3 unless told)."""
        from webapp.alerts.models import Alert, AlertLevel, AlertStatus, legacy_kind
        from webapp.db import utcnow

        kw.setdefault("signal_day", streak_id + dt.timedelta(days=2))
        kw.setdefault("streak_length", 3)
        kw.setdefault("current_length", kw["streak_length"])
        kw.setdefault("last_absent_day", kw["signal_day"])
        kw.setdefault("raised_at", utcnow())
        kw.setdefault("status", AlertStatus.OPEN)
        kw.setdefault("facility_id", child.facility_id)
        kw.setdefault("kind", legacy_kind(level, kw.get("no_contact", False) and kw["streak_length"] < 3))
        return self._add(Alert(child_id=child.id, level=AlertLevel(level), streak_id=streak_id, **kw))

    def attendance(self, child: Child, day: dt.date, status="present", recorder: Account | None = None, **kw):
        """A current daily attendance entry (version 1 unless told), at the child's facility unless told."""
        from webapp.attendance.models import AttendanceEntry

        kw.setdefault("facility_id", child.facility_id)
        recorder = recorder or self.account("admin")
        return self._add(AttendanceEntry(child_id=child.id, day=day, status=status, recorded_by_id=recorder.id, **kw))
