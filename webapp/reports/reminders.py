"""Monthly report reminders (F-REMIND): before the deadline, on it, and after it.

Run by ``mimamori jobs run`` (job ``reports.remind``). For the period whose
deadline is coming or has just passed (``periods``), every facility with
children due and reports missing (counted by the centre's submission matrix,
``matrix.SubmissionMatrixService``) gets:

- 提出期限前 ``before``: once, within ``mimamori.reminder_days_before`` days
  before the deadline;
- 提出期限当日 ``due``: once, on the deadline day (not made up for later: it
  would be a wrong message the day after);
- 提出期限後 ``overdue``: once, on any day after the deadline — and then the
  responsible centre is told too (escalation), so someone phones the facility.

Each step is sent at most once per facility and period: a row in
``reminder_sends`` (unique facility, period, step) is inserted in the same
transaction as the emails; a step already recorded sends nothing, even when two
runs race. Emails name no child and no facility (F-NOTIFY): only how many
reports are missing and a link.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from webapp.accounts.models import Account
from webapp.authz import Role
from webapp.children.scope import Scope
from webapp.db import Model, enum_column
from webapp.mail.services import MailOutbox, RecipientError, check_address
from webapp.organisations.models import Facility
from webapp.reports import periods
from webapp.reports.matrix import SubmissionMatrixService


class ReminderStep(enum.StrEnum):
    BEFORE = "before"  # 提出期限前
    DUE = "due"  # 提出期限当日
    OVERDUE = "overdue"  # 提出期限後 (the centre is told too)


class ReminderSend(Model):
    """One reminder step done for one facility and period (whether or not anyone had an email)."""

    __tablename__ = "reminder_sends"
    __table_args__ = (sa.UniqueConstraint("facility_id", "period", "step"),)
    # The job's bookkeeping; the emails themselves are in the outbox.
    __audit__ = False

    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"))
    period: Mapped[dt.date]
    step: Mapped[ReminderStep] = mapped_column(enum_column(ReminderStep))
    sent_at: Mapped[dt.datetime]
    missing: Mapped[int]  # reports missing when the step was taken
    recipients: Mapped[int]  # emails queued to the facility


def days_before_setting(settings) -> int:
    """``mimamori.reminder_days_before`` (0..27; 0 turns the early reminder off)."""
    try:
        days = int(str(settings.get("mimamori.reminder_days_before", "3")).strip())
    except ValueError:
        days = 3
    return min(max(days, 0), 27)


def due_step(today: dt.date, deadline_day: int, days_before: int) -> tuple[ReminderStep, dt.date]:
    """The step due today and its period.

    Before and on the deadline it is about the period being finished
    (``periods.current_period``); after it, about the period just past.
    """
    period = periods.current_period(today, deadline_day)
    deadline = periods.deadline(period, deadline_day)
    if today == deadline:
        return ReminderStep.DUE, period
    if days_before and (deadline - today).days <= days_before:
        return ReminderStep.BEFORE, period
    # current_period never has a passed deadline: the overdue month is the one before it.
    return ReminderStep.OVERDUE, periods.add_months(period, -1)


@dataclasses.dataclass
class ReminderResult:
    steps: int = 0
    facility_emails: int = 0
    centre_emails: int = 0

    def summary(self) -> str:
        return (f"{self.steps} reminder step(s) taken, {self.facility_emails} facility email(s), "
                f"{self.centre_emails} centre email(s)")


def _emails(db: Session, where) -> dict[int, list[str]]:
    """Active accounts with a usable email, by facility or centre id."""
    key = Account.facility_id if where is Role.FACILITY else Account.centre_id
    rows = db.execute(
        sa.select(key, Account.email).where(Account.role == where, Account.active.is_(True),
                                            Account.email.is_not(None)).order_by(Account.id)
    )
    found: dict[int, list[str]] = {}
    for owner, email in rows:
        try:
            found.setdefault(owner, []).append(check_address(email))
        except RecipientError:
            continue  # a bad address stored before validation: skip it, never fail the run
    return found


class ReminderService:
    def __init__(self, db: Session, outbox: MailOutbox, clock, deadline_day: int, days_before: int):
        self.db, self.outbox, self.clock = db, outbox, clock
        self.deadline_day, self.days_before = deadline_day, days_before

    def missing_by_facility(self, period: dt.date) -> dict[int, int]:
        """facility id -> reports of ``period`` not submitted, for every facility with any missing."""
        # The job sees the whole ward: the scope of an admin, without an account row.
        ward = Scope(account=Account(role=Role.ADMIN), caseworker_scope="all", today=self.clock.today())
        counts = SubmissionMatrixService(self.db).counts(ward, [period])
        return {facility_id: due - submitted for (facility_id, _p), (due, submitted) in counts.items()
                if due > submitted}

    def run(self) -> ReminderResult:
        result = ReminderResult()
        today = self.clock.today()
        step, period = due_step(today, self.deadline_day, self.days_before)
        if not periods.has_started(period, today):
            return result
        missing = self.missing_by_facility(period)
        if not missing:
            return result
        already = set(self.db.scalars(
            sa.select(ReminderSend.facility_id).where(ReminderSend.period == period, ReminderSend.step == step)
        ))
        facilities = dict(self.db.execute(
            sa.select(Facility.id, Facility.centre_id).where(Facility.id.in_(set(missing) - already),
                                                             Facility.active.is_(True))
        ).all())
        if not facilities:
            return result
        facility_emails = _emails(self.db, Role.FACILITY)
        path = f"/reports/period/{periods.format_period(period)}"
        centre_missing: dict[int, int] = {}
        for facility_id in sorted(facilities):
            if not self._claim(facility_id, period, step, missing[facility_id], facility_emails.get(facility_id, [])):
                continue  # another run took this step first
            result.steps += 1
            for address in facility_emails.get(facility_id, []):
                self.outbox.enqueue(address, "report_reminder", stage=step.value, count=missing[facility_id],
                                    path=path)
                result.facility_emails += 1
            if step is ReminderStep.OVERDUE:
                centre = facilities[facility_id]
                centre_missing[centre] = centre_missing.get(centre, 0) + missing[facility_id]
        if centre_missing:
            centre_emails = _emails(self.db, Role.CASEWORKER)
            for centre_id, count in sorted(centre_missing.items()):
                # One email per caseworker per run, however many of the centre's facilities are late.
                for address in centre_emails.get(centre_id, []):
                    self.outbox.enqueue(address, "report_overdue_centre", count=count, path="/centre/submissions")
                    result.centre_emails += 1
        return result

    def _claim(self, facility_id, period, step, missing, addresses) -> bool:
        """Record the step; False when it is already recorded (a racing run won)."""
        try:
            with self.db.begin_nested():
                self.db.add(ReminderSend(facility_id=facility_id, period=period, step=step,
                                         sent_at=self.clock.now(), missing=missing, recipients=len(addresses)))
                self.db.flush()
        except sa.exc.IntegrityError:
            return False
        return True


def run_reminders(engine: sa.Engine, settings: dict, clock) -> str:
    """The ``reports.remind`` job: one transaction, steps and emails together."""
    from webapp.mail.services import MailSettings

    with Session(bind=engine) as db, db.begin():
        outbox = MailOutbox(db, MailSettings.from_settings(settings), clock)
        service = ReminderService(db, outbox, clock, periods.deadline_day_setting(settings),
                                  days_before_setting(settings))
        result = service.run()
    return result.summary()
