"""Twelve months of generated monthly reports for the demo (see :mod:`webapp.demo`).

Every report obeys the rules the report form enforces, so the demo never shows
data a facility could not have entered: attended + absent == expected, the
absence reasons add up to the days absent, late and left-early counts are at
most the days attended, family contact is given whenever the child was absent,
and either 様子 is written or 「特記事項なし」 is ticked.

The status mix is what a centre sees in real life: older months mostly
acknowledged, the last month still coming in (submitted, returned, drafts,
missing), and a few facilities that are habitually late and so overdue.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random

from webapp.clock import JST
import webapp.demo.names as names
from webapp.demo.bulk import IdAllocator
from webapp.organisations.models import FacilityType
from webapp.reports.models import (
    ABSENCE_REASONS,
    FamilyContact,
    MonthlyReport,
    MonthlyReportVersion,
    ReportAction,
    ReportEvent,
    ReportStatus,
)

T = FacilityType
S = ReportStatus
REASONS = tuple(ABSENCE_REASONS)

# National holidays falling on weekdays, roughly, per month.
HOLIDAYS = {1: 2, 2: 2, 3: 1, 4: 1, 5: 3, 6: 0, 7: 1, 8: 1, 9: 2, 10: 1, 11: 2, 12: 0}
# Weekdays lost to school breaks (spring, summer, winter). August is summer
# break: only a few school days (登校日, summer classes).
SCHOOL_BREAK_DAYS = {1: 5, 3: 6, 4: 4, 7: 8, 12: 6}
SCHOOL_AUGUST_DAYS = {T.KINDERGARTEN: 2}
SCHOOL_LIKE = (T.ELEMENTARY, T.JUNIOR_HIGH, T.KINDERGARTEN, T.OTHER)
SATURDAY_CARE = (T.NURSERY, T.CERTIFIED)

# Attendance profiles of watched children: (share, absence rate per day,
# weights of the absence reasons in REASONS order, chance of 特記事項なし).
PROFILES = {
    "steady": (0.55, 0.03, (80, 8, 1, 5, 1, 5), 0.7),
    "patchy": (0.25, 0.09, (55, 20, 1, 4, 8, 12), 0.45),
    "frequent": (0.14, 0.25, (35, 25, 1, 2, 20, 17), 0.2),
    "not_attending": (0.06, 0.75, (15, 20, 0, 0, 35, 30), 0.05),
}


def months_back(first_of_month: dt.date, months: int) -> dt.date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def last_day(period: dt.date) -> dt.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def expected_days(facility_type: FacilityType, period: dt.date) -> int:
    """Days the facility was open for the child in ``period`` (a plausible count)."""
    weekdays = sum(1 for week in calendar.monthcalendar(period.year, period.month) for d in week[:5] if d)
    days = weekdays - HOLIDAYS[period.month]
    if facility_type in SCHOOL_LIKE:
        if period.month == 8:
            return SCHOOL_AUGUST_DAYS.get(facility_type, 4)
        days -= SCHOOL_BREAK_DAYS.get(period.month, 0)
    elif facility_type in SATURDAY_CARE:
        days += 2
    return days


class ReportGenerator:
    def __init__(self, ids: IdAllocator, rng: random.Random, now: dt.datetime, latest: dt.date):
        self.ids = ids
        self.rng = rng
        self.now = now
        self.latest = latest
        self.periods = [months_back(latest, back) for back in range(11, -1, -1)]

    # --- per child content ------------------------------------------------

    def profile(self) -> str:
        shares = [share for share, *_rest in PROFILES.values()]
        return self.rng.choices(list(PROFILES), weights=shares)[0]

    def content(self, profile: str, expected: int) -> dict:
        rng = self.rng
        _share, rate, reason_weights, quiet = PROFILES[profile]
        absent = sum(1 for _ in range(expected) if rng.random() < rate)
        attended = expected - absent
        counts = dict.fromkeys(REASONS, 0)
        for reason in rng.choices(REASONS, weights=reason_weights, k=absent):
            counts[reason] += 1
        note = None
        if counts["absent_other"] or counts["absent_unknown"]:
            note = rng.choice(names.ABSENCE_NOTES)
        contact = None
        if absent:
            if counts["absent_unknown"] == absent:
                contact = FamilyContact.NO if rng.random() < 0.7 else FamilyContact.PARTIAL
            elif counts["absent_unknown"]:
                contact = FamilyContact.PARTIAL
            else:
                contact = FamilyContact.YES
        nothing_special = rng.random() < quiet
        condition = None
        if not nothing_special:
            pool = names.CONDITION_GOOD if profile == "steady" else names.CONDITION_CONCERN
            condition = "".join(rng.sample(pool, k=rng.randint(1, 2)))
        late_rate = 0.02 if profile == "steady" else 0.08
        return {
            "days_expected": expected,
            "days_attended": attended,
            "days_absent": absent,
            "late_count": sum(1 for _ in range(attended) if rng.random() < late_rate),
            "early_leave_count": sum(1 for _ in range(attended) if rng.random() < 0.02),
            **counts,
            "absence_note": note,
            "family_contact": contact,
            "condition": condition,
            "nothing_special": nothing_special,
        }

    # --- statuses ------------------------------------------------------------

    def facility_plan(self, period: dt.date, laggard: bool) -> str:
        """How far a facility got with a month: missing, drafting, or submitted."""
        rng = self.rng
        if period == self.latest:
            roll = rng.random()
            if roll < (0.6 if laggard else 0.15):
                return "missing"
            return "drafting" if roll < (0.7 if laggard else 0.25) else "submitted"
        if period == self.periods[-2]:
            return "missing" if rng.random() < (0.5 if laggard else 0.01) else "submitted"
        return "missing" if rng.random() < (0.35 if laggard else 0.004) else "submitted"

    def child_status(self, period: dt.date, plan: str) -> ReportStatus | None:
        """A child's report status under the facility's plan; None = no report yet."""
        roll = self.rng.random()
        if plan == "missing":
            return None
        if plan == "drafting":
            return S.DRAFT if roll < 0.7 else None
        if period == self.latest:
            mix = ((0.45, S.ACKNOWLEDGED), (0.9, S.SUBMITTED), (0.97, S.RETURNED), (1.0, S.DRAFT))
        elif period == self.periods[-2]:
            mix = ((0.85, S.ACKNOWLEDGED), (0.95, S.SUBMITTED), (0.98, S.RETURNED), (1.0, S.DRAFT))
        else:
            mix = ((0.97, S.ACKNOWLEDGED), (0.985, S.SUBMITTED), (0.995, S.RETURNED), (1.0, S.DRAFT))
        return next(status for limit, status in mix if roll < limit)

    # Showcase facility, latest month, by child position: two children still
    # to report (so the README's walk-through has something to fill in), then
    # one of each other status.
    SHOWCASE_LATEST = (None, None, S.DRAFT, S.RETURNED, S.SUBMITTED)

    # --- timestamps ----------------------------------------------------------

    def moment(self, earliest: dt.datetime, max_days: int) -> dt.datetime:
        """A working-hours moment within ``max_days`` after ``earliest``, never after now."""
        day = earliest.astimezone(JST).date() + dt.timedelta(days=self.rng.randint(0, max_days))
        at = dt.datetime.combine(day, dt.time(self.rng.randint(9, 17), self.rng.randint(0, 59)), JST)
        at = max(at, earliest + dt.timedelta(minutes=5))
        return min(at, self.now - dt.timedelta(minutes=1)).astimezone(dt.UTC)

    # --- rows ------------------------------------------------------------------

    def generate(self, children: list[dict], facilities: list[dict],
                 caseworkers: dict[int, list[int]], facility_accounts: dict[int, int]) -> None:
        rng = self.rng
        facility_by_id = {f["id"]: f for f in facilities}
        showcase_id = facilities[0]["id"]
        laggards = {f["id"] for f in facilities[1:] if rng.random() < 0.04}
        plans = {
            (f["id"], period): self.facility_plan(period, f["id"] in laggards)
            for f in facilities for period in self.periods
        }
        for period in self.periods:
            plans[(showcase_id, period)] = "submitted"

        reports, versions, events = [], [], []
        showcase_position = 0
        for child in children:
            facility = facility_by_id[child["facility_id"]]
            profile = self.profile()
            author = facility_accounts[facility["id"]]
            is_showcase = facility["id"] == showcase_id
            for period in self.periods:
                end = last_day(period)
                if child["monitoring_start"] > end or (
                    child["monitoring_end"] is not None and child["monitoring_end"] < period
                ):
                    continue
                status = self.child_status(period, plans[(facility["id"], period)])
                if is_showcase and period == self.latest:
                    if showcase_position < len(self.SHOWCASE_LATEST):
                        status = self.SHOWCASE_LATEST[showcase_position]
                    showcase_position += 1
                elif is_showcase and status is not None:
                    status = S.ACKNOWLEDGED if status == S.DRAFT else status
                if status is None:
                    continue
                reviewer = rng.choice(caseworkers[child["centre_id"]])
                content = self.content(profile, expected_days(facility["facility_type"], period))
                self._report_rows(child, period, status, content, author, reviewer,
                                  reports, versions, events)

        ids = self.ids.insert(MonthlyReport, reports)
        for rows in (versions, events):
            for row in rows:
                row["report_id"] = ids[row.pop("report_index")]
        self.ids.insert(MonthlyReportVersion, versions)
        self.ids.insert(ReportEvent, events)

    def _report_rows(self, child, period, status, content, author, reviewer, reports, versions, events):
        rng = self.rng
        index = len(reports)
        month_end = dt.datetime.combine(last_day(period) + dt.timedelta(days=1), dt.time(8), JST)
        # Older months were submitted within the deadline, mostly; the last
        # month is still coming in, so its times are spread up to now.
        first_activity = self.moment(month_end, 12 if period != self.latest else 20)
        report = {
            "child_id": child["id"], "facility_id": child["facility_id"], "period": period,
            "status": status, "submitted_at": None, "acknowledged_at": None, "acknowledged_by_id": None,
            "created_at": first_activity, "updated_at": first_activity,
        }
        reports.append(report)

        def version(number, at, submitted, body):
            versions.append({"report_index": index, "number": number, **body, "author_id": author,
                             "created_at": at, "updated_at": submitted or at, "submitted_at": submitted})

        def event(action, number, account, at, comment=None):
            events.append({"report_index": index, "action": action, "version_number": number,
                           "account_id": account, "comment": comment, "created_at": at})

        if status == S.DRAFT:
            version(1, first_activity, None, content)
            event(ReportAction.SAVED, 1, author, first_activity)
            return
        submitted = first_activity
        number = 1
        # Some acknowledged reports went through one return and correction.
        corrected = status == S.ACKNOWLEDGED and rng.random() < 0.05
        if status == S.RETURNED or corrected:
            first = dict(content)
            if corrected and first["days_absent"] == 0 and first["days_attended"] > 0:
                # What was wrong: a late count the facility later corrected.
                first["late_count"] = min(first["late_count"] + 1, first["days_attended"])
            version(1, submitted, submitted, first)
            event(ReportAction.SUBMITTED, 1, author, submitted)
            returned = self.moment(submitted, 3)
            event(ReportAction.RETURNED, 1, reviewer, returned, rng.choice(names.RETURN_COMMENTS))
            report["updated_at"] = returned
            report["submitted_at"] = submitted
            if status == S.RETURNED:
                return
            submitted = self.moment(returned, 3)
            number = 2
        version(number, submitted, submitted, content)
        event(ReportAction.SUBMITTED, number, author, submitted)
        report["submitted_at"] = report["updated_at"] = submitted
        if status == S.ACKNOWLEDGED:
            acknowledged = self.moment(submitted, 5)
            event(ReportAction.ACKNOWLEDGED, number, reviewer, acknowledged)
            report.update(acknowledged_at=acknowledged, acknowledged_by_id=reviewer, updated_at=acknowledged)
