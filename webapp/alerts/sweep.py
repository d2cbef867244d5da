"""The alert sweep (job ``alerts.sweep``): raise new alerts from the attendance entries.

For every monitored child it evaluates the absence streaks
(:func:`webapp.alerts.streaks.evaluate`) incrementally: the child's
:class:`AlertSweepState` says how far the previous sweep got and what it
raised, and entries changed since then (``updated_at``, indexed) pull the walk
back to the earliest changed day. So a sweep reads the days since the last
sweep (plus any running streak), not years of history: its cost grows with the
number of children, not with the length of the record (benchmarks/bench_alert_sweep.py).

One alert per streak (rules: ``escalation.py``): the streak's signals create
its alert, or escalate it (注意 → 要対応) or flag it (連絡なし). Idempotent,
twice over: the state remembers what each streak raised, and the alert
table's unique key (child, streak id) refuses a second alert — the insert
skips a conflicting row instead of failing and the sweep then treats that row
as the streak's alert. Every change to an existing alert is one conditional
UPDATE (``WHERE level = 'caution'``, ``WHERE no_contact = false``): of two
sweeps racing, one changes the row and the other's UPDATE matches nothing, so
each escalation and flag happens — and is recorded and notified — once. Alerts,
their history, change records and emails are written in one transaction.

Notifications (F-NOTIFY): in the application (the alerts list and the menu
badge read the table), and one email per sweep to each caseworker of a centre
that got new alerts or alerts escalated to 要対応 — the count and a link,
never a name.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from webapp.accounts.models import Account
from webapp.alerts.escalation import StreakNews, change_for, group_signals, new_alert
from webapp.alerts.models import Alert, AlertEvent, AlertEventKind, AlertStatus, AlertSweepState, legacy_kind
from webapp.alerts.streaks import (
    AlertState,
    Attendance,
    DayEntry,
    Evaluation,
    Level,
    RaisedStreak,
    Thresholds,
    evaluate,
)
from webapp.attendance.models import AttendanceEntry
from webapp.audit.recorder import append_records, system_actor
from webapp.authz import Role
from webapp.children.models import Child
from webapp.closed_days.services import Calendar
from webapp.db import utcnow
from webapp.mail.services import MailOutbox, RecipientError, check_address
from webapp.organisations.models import Facility

# A child seen by the sweep for the first time: streaks that ended within this
# many days still raise (a new install, a newly registered child); older ones
# are history the centre already knows.
FIRST_LOOKBACK_DAYS = 31
# Entries are read in one query from a little before the earliest point any
# child's walk stops at: the walk may step back over a weekend or a holiday
# break to the open day before it.
MARGIN_DAYS = 14
# A child whose walk must reach further back (a changed entry of last year, a
# months-long absence) reads its older entries on demand, this many days at a time.
CHUNK_DAYS = 120
# Children whose monitoring ended less than this long ago are still swept (entries come in late).
ENDED_GRACE_DAYS = 14
ALERTS_PATH = "/alerts"

_alerts = Alert.__table__
_events = AlertEvent.__table__
_states = AlertSweepState.__table__
_entries = AttendanceEntry.__table__


@dataclasses.dataclass
class SweepResult:
    children: int = 0
    raised: int = 0
    escalated: int = 0
    updated: int = 0
    centres_notified: int = 0
    emails: int = 0

    def summary(self) -> str:
        return (f"{self.children} children swept, {self.raised} alert(s) raised, {self.escalated} escalated, "
                f"{self.updated} updated, "
                f"{self.emails} email(s) to {self.centres_notified} centre(s)")


def _insert(db: Session, table):
    """INSERT that can skip a row violating a unique key (the same SQL on both databases)."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def state_from_row(evaluated_through: dt.date, raised: str) -> AlertState:
    records = tuple(
        RaisedStreak(dt.date.fromisoformat(sid), dt.date.fromisoformat(last), Level(level), bool(no_contact))
        for sid, last, level, no_contact in json.loads(raised)
    )
    return AlertState(records, evaluated_through)


def state_to_json(state: AlertState) -> str:
    return json.dumps([[r.streak_id.isoformat(), r.last_day.isoformat(), int(r.level), r.no_contact]
                       for r in state.raised], separators=(",", ":"))


class ChildEntries(Mapping):
    """One child's entries by day: those of the shared window, and older ones read on demand."""

    def __init__(self, db: Session, child_id: int, loaded_from: dt.date, days: dict[dt.date, DayEntry]):
        self.db, self.child_id, self.loaded_from, self.days = db, child_id, loaded_from, days

    def get(self, day, default=None):
        if day < self.loaded_from:
            self._load_before(day)
        return self.days.get(day, default)

    def __getitem__(self, day):
        found = self.get(day)
        if found is None:
            raise KeyError(day)
        return found

    def __iter__(self) -> Iterator[dt.date]:
        return iter(self.days)

    def __len__(self) -> int:
        return len(self.days)

    def _load_before(self, day: dt.date) -> None:
        start = min(day, self.loaded_from - dt.timedelta(days=CHUNK_DAYS))
        rows = self.db.execute(
            sa.select(_entries.c.day, _entries.c.status, _entries.c.no_contact)
            .where(_entries.c.child_id == self.child_id, _entries.c.day >= start, _entries.c.day < self.loaded_from)
        )
        for found_day, status, no_contact in rows:
            self.days[found_day] = DayEntry(Attendance(status), bool(no_contact))
        self.loaded_from = start


def placements_of(facility_id: int, monitoring_start: dt.date,
                  facility_days: list[tuple[dt.date, int]]) -> list[tuple[int, dt.date]]:
    """The child's facilities over time as ``(facility id, since)``, from its entries (oldest
    first) and its current facility: each day is judged by the calendar of where the child was."""
    placements: list[tuple[int, dt.date]] = []
    for day, fid in facility_days:
        if not placements:
            placements.append((fid, monitoring_start))
        elif placements[-1][0] != fid:
            placements.append((fid, day))
    if not placements:
        return [(facility_id, monitoring_start)]
    if placements[-1][0] != facility_id:
        # Transferred, no entry at the new facility yet: it counts from the day after the last entry.
        placements.append((facility_id, facility_days[-1][0] + dt.timedelta(days=1)))
    return placements


class AlertSweep:
    def __init__(self, db: Session, calendar: Calendar, thresholds: Thresholds, clock,
                 outbox: MailOutbox | None = None):
        self.db, self.calendar, self.thresholds, self.clock, self.outbox = db, calendar, thresholds, clock, outbox

    # -- reading --------------------------------------------------------------

    def _children(self, today: dt.date):
        ended_after = today - dt.timedelta(days=ENDED_GRACE_DAYS)
        return self.db.execute(
            sa.select(Child.id, Child.facility_id, Child.centre_id, Child.monitoring_start, Child.monitoring_end)
            .where(Child.monitoring_start <= today,
                   sa.or_(Child.monitoring_end.is_(None), Child.monitoring_end >= ended_after))
            .order_by(Child.id)
        ).all()

    def _changed_from(self, states) -> dict[int, dt.date]:
        """child id -> earliest day whose entry was made or corrected after the child's last sweep."""
        if not states:
            return {}
        oldest = min(row.checked_at for row in states.values())
        changed: dict[int, dt.date] = {}
        rows = self.db.execute(
            sa.select(_entries.c.child_id, _entries.c.day, _entries.c.updated_at).where(_entries.c.updated_at > oldest)
        )
        for child_id, day, updated_at in rows:
            state = states.get(child_id)
            if state is not None and updated_at <= state.checked_at:
                continue
            if child_id not in changed or day < changed[child_id]:
                changed[child_id] = day
        return changed

    def _window(self, start: dt.date, today: dt.date):
        """Entries of every child from ``start``: (entries by child, facility by day, by child)."""
        entries: dict[int, dict[dt.date, DayEntry]] = {}
        facilities: dict[int, list[tuple[dt.date, int]]] = {}
        # Per facility, so the (facility_id, day) index serves the range on both
        # databases: "day >= x" alone has no index and would read every year.
        facility_ids = list(self.db.scalars(sa.select(Facility.id)))
        rows = self.db.execute(
            sa.select(_entries.c.child_id, _entries.c.day, _entries.c.status, _entries.c.no_contact,
                      _entries.c.facility_id)
            .where(_entries.c.facility_id.in_(facility_ids), _entries.c.day >= start, _entries.c.day <= today)
            .order_by(_entries.c.child_id, _entries.c.day)
        )
        for child_id, day, status, no_contact, facility_id in rows:
            entries.setdefault(child_id, {})[day] = DayEntry(Attendance(status), bool(no_contact))
            facilities.setdefault(child_id, []).append((day, facility_id))
        return entries, facilities

    # -- the sweep --------------------------------------------------------------

    def run(self) -> SweepResult:
        # The watermark for "changed since": the database's own clock (updated_at
        # is written with utcnow), taken before reading, so nothing written during
        # the sweep is missed by the next one.
        started = utcnow()
        today = self.clock.today()
        result = SweepResult()
        children = self._children(today)
        states = {row.child_id: row for row in self.db.execute(sa.select(_states))}
        changed = self._changed_from(states)

        plans = []
        for child in children:
            as_of = min(today, child.monitoring_end) if child.monitoring_end else today
            row = states.get(child.id)
            previous = state_from_row(row.evaluated_through, row.raised) if row is not None else None
            floor = previous.evaluated_through if previous else as_of - dt.timedelta(days=FIRST_LOOKBACK_DAYS)
            if child.id in changed:
                floor = min(floor, changed[child.id] - dt.timedelta(days=1))
            plans.append((child, as_of, previous, floor))
        if not plans:
            return result
        # One read for (almost) everyone: from the latest sweep's floor back a little.
        # An outlier (a correction of last year) reads its own older days on demand.
        recent = today - dt.timedelta(days=FIRST_LOOKBACK_DAYS + MARGIN_DAYS)
        window_start = min((floor for *_rest, floor in plans if floor >= recent), default=today)
        window_start -= dt.timedelta(days=MARGIN_DAYS)
        window, facility_days = self._window(window_start, today)

        open_alerts: dict[int, list] = {}
        for alert in self.db.execute(
            sa.select(_alerts.c.id, _alerts.c.child_id, _alerts.c.streak_id, _alerts.c.current_length,
                      _alerts.c.last_absent_day).where(_alerts.c.status != AlertStatus.RESOLVED.value)
        ):
            open_alerts.setdefault(alert.child_id, []).append(alert)

        new_states, changed_states, updates, pending = [], [], [], []
        for child, as_of, previous, _floor in plans:
            result.children += 1
            entries = ChildEntries(self.db, child.id, window_start, window.get(child.id, {}))
            placements = placements_of(child.facility_id, child.monitoring_start, facility_days.get(child.id, []))
            evaluation = evaluate(
                entries, self.calendar.open_days_backwards_placed(placements, as_of), as_of, previous,
                self.thresholds, since=as_of - dt.timedelta(days=FIRST_LOOKBACK_DAYS),
                changed_from=changed.get(child.id),
            )
            if evaluation.signals:
                pending.append((child, evaluation, facility_days.get(child.id, [])))
            updates.extend(self._length_updates(open_alerts.get(child.id, ()), evaluation))
            state_json = state_to_json(evaluation.state)
            values = {"child_id": child.id, "evaluated_through": as_of, "raised": state_json, "checked_at": started}
            if previous is None:
                new_states.append(values)
            elif previous.evaluated_through != as_of or states[child.id].raised != state_json:
                changed_states.append(values)

        notify = self._apply(pending, started, result)
        result.updated = self._update_lengths(updates, started)
        self._save_states(new_states, changed_states, started)
        if notify and self.outbox is not None:
            self._notify(notify, result)
        return result

    @staticmethod
    def _length_updates(alerts, evaluation: Evaluation) -> list[dict]:
        """Unresolved alerts whose streak grew: their current length and last day follow it."""
        updates = []
        for alert in alerts:
            for episode in evaluation.episodes:
                inside = episode.id <= alert.streak_id <= episode.last_day
                if inside or episode.id <= alert.last_absent_day <= episode.last_day:
                    if (episode.length, episode.last_day) != (alert.current_length, alert.last_absent_day):
                        updates.append({"b_id": alert.id, "b_length": episode.length,
                                        "b_last_day": episode.last_day})
                    break
        return updates

    # -- writing --------------------------------------------------------------

    def _existing(self, pending) -> dict[int, list]:
        """The alerts the pending streaks may already have (resolved ones too: they stay so)."""
        earliest = min(news.streak_id for _child, evaluation, _f in pending for news in group_signals(evaluation.signals))
        found: dict[int, list] = {}
        rows = self.db.execute(
            sa.select(*_ALERT_STATE).where(_alerts.c.child_id.in_([child.id for child, *_rest in pending]),
                                          _alerts.c.last_absent_day >= earliest)
        )
        for row in rows:
            found.setdefault(row.child_id, []).append(row)
        return found

    def _apply(self, pending, now: dt.datetime, result: SweepResult) -> list[int]:
        """Create, escalate or flag each pending streak's alert; the centres to notify, once per alert."""
        if not pending:
            return []
        existing = self._existing(pending)
        notify, audit = [], []
        for child, evaluation, facility_days in pending:
            episodes = {episode.id: episode for episode in evaluation.episodes}
            for news in group_signals(evaluation.signals):
                episode = episodes.get(news.streak_id)
                last_day = episode.last_day if episode else news.first_day
                length = episode.length if episode else news.length
                alert = _match(existing.get(child.id, ()), news.streak_id, last_day)
                if alert is None:
                    row = self._create(child, news, last_day, length, facility_days, now)
                    if row is not None:
                        result.raised += 1
                        notify.append(child.centre_id)
                        audit.append({"action": "create", "entity": "alerts", "entity_id": str(row["id"]),
                                      "child_id": child.id, "before": None, "after": _json(row)})
                        continue
                    # A sweep racing this one raised it first: change that one instead.
                    alert = self.db.execute(sa.select(*_ALERT_STATE).where(
                        _alerts.c.child_id == child.id, _alerts.c.streak_id == news.streak_id)).one()
                changed = self._change(alert, news, length, now)
                if changed:
                    audit.append({"action": "update", "entity": "alerts", "entity_id": str(alert.id),
                                  "child_id": child.id, "before": _json(changed[0]), "after": _json(changed[1])})
                    if changed[1].get("level") == "action":
                        result.escalated += 1
                        notify.append(child.centre_id)
        if audit:
            # Written with Core (conflicts skipped), so the change records are ours to write (S-AUDIT).
            append_records(self.db.connection(), system_actor("jobs:alerts.sweep"), audit)
        return notify

    def _create(self, child, news: StreakNews, last_day, length, facility_days, now) -> dict | None:
        decided = new_alert(news)
        row = {
            "child_id": child.id, "facility_id": _facility_on(facility_days, last_day, child.facility_id),
            "level": decided.level, "no_contact": decided.no_contact, "no_contact_day": decided.no_contact_day,
            "kind": legacy_kind(decided.level, decided.level == "caution" and news.caution_day is None),
            "streak_id": news.streak_id, "signal_day": decided.signal_day, "streak_length": length,
            "current_length": length, "last_absent_day": last_day, "raised_at": now,
            "status": AlertStatus.OPEN.value, "version": 1, "created_at": now, "updated_at": now,
        }
        statement = _insert(self.db, _alerts).values(**row).on_conflict_do_nothing(
            index_elements=["child_id", "streak_id"]).returning(_alerts.c.id)
        alert_id = self.db.execute(statement).scalar()
        if alert_id is None:
            return None
        self.db.execute(sa.insert(_events).values(
            alert_id=alert_id, kind=AlertEventKind.RAISED.value, at=now, level=decided.level,
            streak_length=length, day=decided.signal_day))
        return {"id": alert_id, **row}

    def _change(self, alert, news: StreakNews, length: int, now) -> tuple[dict, dict] | None:
        """Escalate and/or flag an existing alert, each as one conditional UPDATE (see the module
        docstring); ``(before, after)`` of what this sweep changed, None when nothing."""
        change = change_for(alert.level, alert.no_contact, alert.status, news)
        if not change:
            return None
        before, after, events = {}, {}, []
        where = (_alerts.c.id == alert.id, _alerts.c.status != AlertStatus.RESOLVED.value)
        if change.escalate:
            # Acknowledged or resolved at 注意: back to 未対応 (their steps stay in alert_events).
            was = self.db.execute(sa.select(_alerts.c.status).where(_alerts.c.id == alert.id)).scalar()
            reopened = self.db.execute(
                sa.update(_alerts).where(_alerts.c.id == alert.id, _alerts.c.level == "caution",
                                         _alerts.c.status.in_([AlertStatus.ACKNOWLEDGED.value,
                                                               AlertStatus.RESOLVED.value]))
                .values(status=AlertStatus.OPEN.value, acknowledged_at=None, acknowledged_by_id=None,
                        resolved_at=None, resolved_by_id=None, resolution_note=None)
            ).rowcount == 1
            escalated = self.db.execute(
                sa.update(_alerts).where(_alerts.c.id == alert.id, _alerts.c.status == AlertStatus.OPEN.value,
                                         _alerts.c.level == "caution")
                .values(level="action", kind=legacy_kind("action", False), escalated_at=now,
                        version=_alerts.c.version + 1, updated_at=now)
            ).rowcount == 1
            if escalated:
                before["level"], after["level"], after["escalated_at"] = "caution", "action", now
                events.append({"kind": AlertEventKind.ESCALATED.value, "level": "action", "day": news.action_day})
            if reopened:
                before["status"], after["status"] = was, AlertStatus.OPEN.value
                events.append({"kind": AlertEventKind.REOPENED.value, "level": "action", "day": None})
        if change.flag_no_contact:
            flagged = self.db.execute(
                sa.update(_alerts).where(*where, _alerts.c.no_contact.is_(False))
                .values(no_contact=True, no_contact_day=news.no_contact_day, updated_at=now)
            ).rowcount == 1
            if flagged:
                before["no_contact"], after["no_contact"] = False, True
                after["no_contact_day"] = news.no_contact_day
                events.append({"kind": AlertEventKind.NO_CONTACT.value, "level": None, "day": news.no_contact_day})
        if not events:
            return None
        self.db.execute(sa.insert(_events), [
            {"alert_id": alert.id, "at": now, "streak_length": length, **event} for event in events])
        return before, after

    def _update_lengths(self, updates: list[dict], now: dt.datetime) -> int:
        if updates:
            # Bookkeeping of the sweep, not a decision: the version (the caseworker's
            # edit token) stays, so a form open meanwhile is not refused.
            self.db.execute(
                sa.update(_alerts).where(_alerts.c.id == sa.bindparam("b_id"))
                .values(current_length=sa.bindparam("b_length"), last_absent_day=sa.bindparam("b_last_day"),
                        updated_at=now),
                updates,
            )
        return len(updates)

    def _save_states(self, new_states, changed_states, started) -> None:
        if new_states:
            self.db.execute(_insert(self.db, _states).on_conflict_do_nothing(index_elements=["child_id"]),
                            new_states)
        if changed_states:
            self.db.execute(
                sa.update(_states).where(_states.c.child_id == sa.bindparam("b_child"))
                .values(evaluated_through=sa.bindparam("b_through"), raised=sa.bindparam("b_raised"),
                        checked_at=started),
                [{"b_child": v["child_id"], "b_through": v["evaluated_through"], "b_raised": v["raised"]}
                 for v in changed_states],
            )
        # Everyone else was checked too: one statement moves their watermark.
        self.db.execute(sa.update(_states).where(_states.c.checked_at < started).values(checked_at=started))

    def _notify(self, centres: list[int], result: SweepResult) -> None:
        """One email per caseworker of each centre: its alerts raised or escalated to 要対応."""
        per_centre: dict[int, int] = {}
        for centre_id in centres:
            per_centre[centre_id] = per_centre.get(centre_id, 0) + 1
        recipients = self.db.execute(
            sa.select(Account.centre_id, Account.email)
            .where(Account.role == Role.CASEWORKER, Account.active.is_(True), Account.email.is_not(None),
                   Account.centre_id.in_(per_centre))
            .order_by(Account.id)
        ).all()
        notified = set()
        for centre_id, email in recipients:
            try:
                address = check_address(email)
            except RecipientError:
                continue  # an address stored before it was validated: skip it, never fail the sweep
            self.outbox.enqueue(address, "alerts", count=per_centre[centre_id], path=ALERTS_PATH)
            result.emails += 1
            notified.add(centre_id)
        result.centres_notified = len(notified)


def _facility_on(facility_days: list[tuple[dt.date, int]], day: dt.date, default: int) -> int:
    """The facility of the child's entry on ``day`` (where the absence was recorded)."""
    index = bisect.bisect_right(facility_days, (day, float("inf"))) - 1
    return facility_days[index][1] if index >= 0 else default


_ALERT_STATE = (_alerts.c.id, _alerts.c.child_id, _alerts.c.streak_id, _alerts.c.last_absent_day,
                _alerts.c.level, _alerts.c.no_contact, _alerts.c.status)


def _match(alerts, streak_id: dt.date, last_day: dt.date):
    """The alert of the streak ``streak_id``..``last_day``: its own, else one that shares a day
    with it (the streak grew backwards by a late entry, or merged with a neighbour)."""
    same = [a for a in alerts if a.streak_id == streak_id]
    if same:
        return same[0]
    overlapping = [a for a in alerts if streak_id <= a.streak_id <= last_day or streak_id <= a.last_absent_day <= last_day
                   or a.streak_id <= streak_id <= a.last_absent_day]
    return max(overlapping, key=lambda a: a.streak_id, default=None)


def _json(row: dict) -> str:
    return json.dumps({key: value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
                       for key, value in row.items()}, ensure_ascii=False, sort_keys=True)


def calendar_from_settings(settings: dict, session: Session) -> Calendar:
    """The facility calendar a job uses: the same settings the application reads, the
    closures from the database."""
    from webapp.closed_days import calendar_for
    from webapp.closed_days.facility_days import DbFacilityDays
    from webapp.closed_days.sources import parse_holiday_setting
    from webapp.closed_days.services import parse_weekly_setting

    registry = {
        "holiday_source": parse_holiday_setting(settings.get("mimamori.holidays", "japan")),
        "closed_weekdays": parse_weekly_setting(settings.get("mimamori.closed_weekdays", "")),
    }
    return calendar_for(registry, DbFacilityDays(session))


def run_sweep(engine: sa.Engine, settings: dict, clock) -> str:
    """The ``alerts.sweep`` job: one transaction for alerts, states and emails."""
    from webapp.mail.services import MailSettings

    with Session(bind=engine) as db, db.begin():
        sweep = AlertSweep(db, calendar_from_settings(settings, db), Thresholds.from_settings(settings), clock,
                           MailOutbox(db, MailSettings.from_settings(settings), clock))
        result = sweep.run()
    return result.summary()
