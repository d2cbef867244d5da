"""Absence streaks (連続欠席) and the signals they raise (F-ALERT), as pure functions.

Rules, in Japanese terms with English explanations:

- 出欠 (attendance entry) per open day: 出席 present, 欠席 absent, 遅刻 late,
  早退 left early. 遅刻 and 早退 mean the child was seen: they end a streak
  like 出席. A day with no entry is 未入力 (unknown), never an absence.
- 連続欠席 (absence streak): consecutive open days (開所日, see
  ``webapp.closed_days``) each entered as 欠席. Closed days (休業日: weekends,
  祝日, 年末年始, 夏休み...) are skipped — they neither count nor break —
  so a streak crosses weekends, holidays, month and year ends. An unknown open
  day inside a run ends it: we count only what the facility recorded.
- The streak's id is its first absent day; it stays the same while the streak
  grows, so each signal is raised once per streak. A run that shares a day
  with a streak already raised (grown backwards by a late entry, merged,
  split by a correction) is the same streak and raises only what is new.
- The current streak is the latest run, when at most ``grace`` open days at the
  end (today, yesterday...) are still unknown — daily entries often come in the
  next morning. Longer silence means there is no current streak to report.
- 注意 (caution) at 3 and 要対応 (action needed) at 7 open days of absence
  (settings ``mimamori.absence_warning_days`` / ``absence_alert_days``: the
  setting names are older than the labels and kept for existing configs),
  whatever the reason given (病欠 illness, 家庭の事情 family reasons, ...):
  a stated reason is exactly what a family hiding harm would give.
- 連絡なし欠席 (absence without contact from the family, 無断欠席): a signal
  on the first such day, once per streak, even for a one-day absence. The
  sweep carries it as a flag on the streak's one alert.
- 転校・転園 (transfer): each day is judged by the calendar of the facility
  the child attended that day, so a streak carries over a transfer.

``evaluate`` walks from the newest day backwards over open days and stops at
the first day that ends the latest streak (or, given the previous evaluation,
at the previous evaluation's day, or the earliest day entered late), so its
cost depends on the streak and on the time since the last sweep, not on years
of history (benchmarks/bench_streaks.py).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from webapp.attendance.status import Attendance

# Open days at the end that may lack an entry while the streak still counts as current.
UNRECORDED_GRACE = 5


@dataclass(frozen=True)
class DayEntry:
    """One day's entry. ``no_contact`` marks 連絡なし欠席 and only matters when absent."""

    status: Attendance
    no_contact: bool = False


Entry = DayEntry | Attendance


def _entry(value: Entry | None) -> DayEntry | None:
    if value is None or isinstance(value, DayEntry):
        return value
    return DayEntry(Attendance(value))


class Level(enum.IntEnum):
    """A streak's severity by its length. Stored as its number in the sweep's state."""

    NONE = 0
    CAUTION = 1  # 注意 (setting absence_warning_days)
    ACTION = 2  # 要対応 (setting absence_alert_days)


@dataclass(frozen=True)
class Thresholds:
    warning: int = 3
    alert: int = 7

    def __post_init__(self):
        if not 1 <= self.warning <= self.alert:
            raise ValueError(f"need 1 <= warning ({self.warning}) <= alert ({self.alert})")

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Thresholds:
        return cls(
            warning=int(settings.get("mimamori.absence_warning_days", 3)),
            alert=int(settings.get("mimamori.absence_alert_days", 7)),
        )

    def level_for(self, length: int) -> Level:
        if length >= self.alert:
            return Level.ACTION
        if length >= self.warning:
            return Level.CAUTION
        return Level.NONE

    def days_for(self, level: Level) -> int:
        return {Level.CAUTION: self.warning, Level.ACTION: self.alert}[level]


@dataclass(frozen=True)
class Streak:
    """A run of absent open days, oldest first in ``days``; empty when there is none."""

    days: tuple[dt.date, ...] = ()
    no_contact_days: tuple[dt.date, ...] = ()
    # Open days after the streak (up to the evaluation day) that have no entry yet.
    unrecorded_open_days: int = 0

    @property
    def length(self) -> int:
        return len(self.days)

    @property
    def id(self) -> dt.date | None:
        return self.days[0] if self.days else None

    @property
    def last_day(self) -> dt.date | None:
        return self.days[-1] if self.days else None


class SignalKind(enum.StrEnum):
    """What became true of a streak. The sweep folds a streak's signals into its one
    alert (``webapp.alerts.escalation``); signals are never stored as such."""

    CAUTION = "caution"  # reached 注意
    ACTION = "action"  # reached 要対応
    NO_CONTACT = "no_contact"  # a 連絡なし absence in the streak


LEVEL_SIGNAL = {Level.CAUTION: SignalKind.CAUTION, Level.ACTION: SignalKind.ACTION}


@dataclass(frozen=True)
class Signal:
    """Something new to raise: ``day`` is when it became true (the n-th absent day)."""

    kind: SignalKind
    streak_id: dt.date
    day: dt.date
    length: int


@dataclass(frozen=True)
class RaisedStreak:
    """A streak that raised something: its id, its last day seen, what was raised."""

    streak_id: dt.date
    last_day: dt.date
    level: Level = Level.NONE
    no_contact: bool = False

    def overlaps(self, episode: Streak) -> bool:
        assert episode.id is not None and episode.last_day is not None
        return self.streak_id <= episode.last_day and self.last_day >= episode.id


@dataclass(frozen=True)
class AlertState:
    """What was already raised for a child: kept by the sweep between runs.

    ``raised`` holds the latest ``KEEP_RAISED`` streaks that raised a signal,
    oldest first. A run that shares a day with one of them is the same
    streak — grown, merged with a neighbour by a late entry, or split by a
    correction — and raises only what that one has not raised yet.
    """

    raised: tuple[RaisedStreak, ...] = ()
    evaluated_through: dt.date | None = None

    @property
    def latest(self) -> RaisedStreak | None:
        return self.raised[-1] if self.raised else None

    @property
    def streak_id(self) -> dt.date | None:
        return self.latest.streak_id if self.latest else None

    @property
    def level(self) -> Level:
        return self.latest.level if self.latest else Level.NONE

    @property
    def no_contact(self) -> bool:
        return self.latest.no_contact if self.latest else False


# Enough for any rescan a late entry causes; the alert table's unique key on
# (child, kind, streak id) is the last line of defence.
KEEP_RAISED = 16


@dataclass(frozen=True)
class Evaluation:
    """The current streak, the new signals (by day), the state to keep, and the runs read."""

    streak: Streak
    signals: tuple[Signal, ...]
    state: AlertState
    episodes: tuple[Streak, ...] = field(default=(), repr=False)


def current_streak(
    entries: Mapping[dt.date, Entry],
    open_days_desc: Iterable[dt.date],
    *,
    grace: int = UNRECORDED_GRACE,
) -> Streak:
    """The current absence streak; ``open_days_desc`` runs back from the evaluation day."""
    return _walk(entries, open_days_desc, floor=None, grace=grace)[0]


def evaluate(
    entries: Mapping[dt.date, Entry],
    open_days_desc: Iterable[dt.date],
    as_of: dt.date,
    previous: AlertState | None = None,
    thresholds: Thresholds = Thresholds(),
    *,
    since: dt.date | None = None,
    changed_from: dt.date | None = None,
    grace: int = UNRECORDED_GRACE,
) -> Evaluation:
    """The streak as of ``as_of`` and the signals not raised before.

    ``open_days_desc`` must be the open days from ``as_of`` going back:
    ``Calendar.open_days_backwards`` for one facility, or
    ``Calendar.open_days_backwards_placed`` across a child's transfers.
    Every run of absences that ended after ``previous.evaluated_through``
    (or after ``since`` on a first evaluation) is checked, so a run that
    ended between two sweeps still raises its signals. ``changed_from`` is the earliest day whose
    entry was made or corrected since the previous evaluation (the sweep
    knows it from the entries' timestamps): the walk then reaches back to it,
    so a week entered late is counted too. A run that shares a day with a
    streak in ``previous.raised`` raises only what that one has not.
    """
    previous = previous or AlertState()
    floor = previous.evaluated_through if previous.evaluated_through is not None else since
    if changed_from is not None:
        before_change = changed_from - dt.timedelta(days=1)
        floor = before_change if floor is None else min(floor, before_change)
    current, episodes = _walk(entries, open_days_desc, floor=floor, grace=grace)

    signals: list[Signal] = []
    raised = list(previous.raised)
    # Oldest first, so that the newest run ends up last in ``raised``.
    for episode in reversed(episodes):
        assert episode.id is not None and episode.last_day is not None
        same = [record for record in raised if record.overlaps(episode)]
        raised_level = max((record.level for record in same), default=Level.NONE)
        raised_contact = any(record.no_contact for record in same)
        reached = thresholds.level_for(episode.length)
        for level in (Level.CAUTION, Level.ACTION):
            if raised_level < level <= reached:
                day = episode.days[thresholds.days_for(level) - 1]
                signals.append(Signal(LEVEL_SIGNAL[level], episode.id, day, episode.length))
        if episode.no_contact_days and not raised_contact:
            signals.append(Signal(SignalKind.NO_CONTACT, episode.id, episode.no_contact_days[0], episode.length))
        level = max(raised_level, reached)
        contact = raised_contact or bool(episode.no_contact_days)
        if level > Level.NONE or contact:
            raised = [record for record in raised if record not in same]
            raised.append(RaisedStreak(episode.id, episode.last_day, level, contact))
            if len(raised) > 2 * KEEP_RAISED:
                # Runs come oldest first: later ones cannot overlap the oldest records.
                raised.sort(key=lambda record: record.last_day)
                del raised[:-KEEP_RAISED]
    raised.sort(key=lambda record: record.last_day)
    state = AlertState(tuple(raised[-KEEP_RAISED:]), evaluated_through=as_of)
    signals.sort(key=lambda s: (s.day, s.kind != SignalKind.NO_CONTACT))
    return Evaluation(current, tuple(signals), state, tuple(episodes))


def _walk(entries, open_days_desc, *, floor, grace) -> tuple[Streak, list[Streak]]:
    """Runs of absences, newest first, back to ``floor`` (or only the latest without one)."""
    episodes: list[Streak] = []
    run: list[dt.date] = []
    no_contact: list[dt.date] = []
    tail = 0
    first_recorded: dt.date | None = None

    def close_run():
        if run:
            episodes.append(Streak(tuple(reversed(run)), tuple(reversed(no_contact)), 0))
            run.clear()
            no_contact.clear()

    for day in open_days_desc:
        entry = _entry(entries.get(day))
        if entry is not None and first_recorded is None:
            first_recorded = day
        if entry is not None and entry.status is Attendance.ABSENT:
            run.append(day)
            if entry.no_contact:
                no_contact.append(day)
            continue
        close_run()
        if first_recorded is None:
            tail += 1
        # Stop at a day that ends a run: without a floor once the latest run
        # (or the first recorded day) is behind us or the silence is too long;
        # with one, once the walk has reached it.
        if floor is None:
            if first_recorded is not None or tail > grace:
                break
        elif day <= floor:
            break
    close_run()

    current = Streak()
    if episodes and tail <= grace and episodes[0].last_day == first_recorded:
        latest = episodes[0]
        current = Streak(latest.days, latest.no_contact_days, tail)
    return current, episodes
