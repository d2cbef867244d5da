"""One alert per absence streak (F-ALERT): how a streak's signals become, or change, its alert.

Pure functions over plain values, so the rules are tested without a database
(tests/unit/test_alert_escalation.py); ``sweep.py`` applies the decisions with
race-safe SQL.

- A streak has at most one alert. It is raised at 注意 (caution) when the
  streak reaches ``absence_warning_days`` open days, or earlier when a day of
  the streak is 連絡なし (no word from the family: that must be seen at once,
  even for a one-day absence). It is raised at 要対応 (action needed) directly
  when the sweep first sees the streak already at ``absence_alert_days``.
- 注意 → 要対応 is an escalation: the alert records when (``escalated_at``).
  An acknowledged alert that escalates goes back to 未対応 (open): the person
  who acknowledged it saw a 3-day absence, not a 7-day one, and the centre
  must decide again whether a call is enough or a visit is due; the badge,
  the dashboard and the email all depend on the alert being open. The earlier
  acknowledgement stays in the alert's history (``alert_events``). Escalation
  also bumps the alert's version, so a form shown before it is refused (409)
  rather than acknowledging what its user never saw.
- 連絡なし is a flag on the alert, set once (with its first day). Set on an
  alert that already exists it is recorded in the history and shown as a
  badge, but it neither reopens nor notifies: only creation and escalation to
  要対応 do (F-NOTIFY), so one streak sends at most two emails.
- A resolved alert stays resolved while its streak stays at the level it was
  resolved at: a later 連絡なし day only goes into nothing. But a streak
  resolved at 注意 that goes on to 要対応 is escalated and reopened (未対応,
  the resolution kept in the history): a child now absent for a week with the
  alert closed after three days is exactly what the centre must see again (the
  old three-alert design raised a new アラート there; this keeps that safety).
  A new streak (after the child attended again) is a new alert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from webapp.alerts.streaks import Signal, SignalKind


@dataclass(frozen=True)
class StreakNews:
    """What one evaluation found new about one streak: the days its levels and its first
    連絡なし day were reached (None when not new), and its length when seen."""

    streak_id: dt.date
    length: int
    caution_day: dt.date | None = None
    action_day: dt.date | None = None
    no_contact_day: dt.date | None = None

    @property
    def level(self) -> str | None:
        """The level this news asks for: "action", "caution", or None (only a flag)."""
        if self.action_day is not None:
            return "action"
        if self.caution_day is not None:
            return "caution"
        return None

    @property
    def first_day(self) -> dt.date:
        """The day the streak first needed an alert: the earliest of its news."""
        return min(day for day in (self.caution_day, self.action_day, self.no_contact_day) if day is not None)


def group_signals(signals: Iterable[Signal]) -> list[StreakNews]:
    """The signals of one evaluation, one :class:`StreakNews` per streak, oldest streak first."""
    by_streak: dict[dt.date, dict] = {}
    for signal in signals:
        news = by_streak.setdefault(signal.streak_id, {"length": signal.length})
        news["length"] = max(news["length"], signal.length)
        field = {SignalKind.CAUTION: "caution_day", SignalKind.ACTION: "action_day",
                 SignalKind.NO_CONTACT: "no_contact_day"}[signal.kind]
        news[field] = signal.day
    return [StreakNews(streak_id, **values) for streak_id, values in sorted(by_streak.items())]


@dataclass(frozen=True)
class NewAlert:
    level: str
    no_contact: bool
    no_contact_day: dt.date | None
    signal_day: dt.date  # the day the alert was first due


def new_alert(news: StreakNews) -> NewAlert:
    """The alert a streak without one gets: its level (注意 also for 連絡なし alone) and flag."""
    return NewAlert(level=news.level or "caution", no_contact=news.no_contact_day is not None,
                    no_contact_day=news.no_contact_day, signal_day=news.first_day)


@dataclass(frozen=True)
class Change:
    """What to do to a streak's existing alert."""

    escalate: bool = False  # 注意 → 要対応 (and notify)
    reopen: bool = False  # it was acknowledged: back to 未対応
    flag_no_contact: bool = False

    def __bool__(self) -> bool:
        return self.escalate or self.flag_no_contact


def change_for(level: str, no_contact: bool, status: str, news: StreakNews) -> Change:
    """The change the news makes to an alert at ``level`` / ``no_contact`` / ``status``
    (the strings stored in the table). A resolved alert changes only when it escalates."""
    escalate = level == "caution" and news.level == "action"
    if status == "resolved" and not escalate:
        return Change()
    return Change(escalate=escalate, reopen=escalate and status in ("acknowledged", "resolved"),
                  flag_no_contact=not no_contact and news.no_contact_day is not None)
