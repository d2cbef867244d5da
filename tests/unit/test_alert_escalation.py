"""One alert per streak (F-ALERT): signals folded per streak, new alerts, escalation and the flag."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.alerts.escalation import Change, StreakNews, change_for, group_signals, new_alert
from webapp.alerts.streaks import Signal, SignalKind

pytestmark = pytest.mark.req("F-ALERT")

D = dt.date
STREAK = D(2026, 11, 17)


def test_signals_of_one_evaluation_become_one_news_per_streak():
    signals = [
        Signal(SignalKind.NO_CONTACT, STREAK, D(2026, 11, 17), 7),
        Signal(SignalKind.CAUTION, STREAK, D(2026, 11, 19), 7),
        Signal(SignalKind.ACTION, STREAK, D(2026, 11, 26), 7),
        Signal(SignalKind.CAUTION, D(2026, 10, 1), D(2026, 10, 5), 3),
    ]
    older, news = group_signals(signals)
    assert older == StreakNews(D(2026, 10, 1), 3, caution_day=D(2026, 10, 5))
    assert news == StreakNews(STREAK, 7, D(2026, 11, 19), D(2026, 11, 26), D(2026, 11, 17))
    assert (news.level, news.first_day) == ("action", D(2026, 11, 17))


@pytest.mark.parametrize(("news", "expected"), [
    (StreakNews(STREAK, 3, caution_day=D(2026, 11, 19)), ("caution", False, D(2026, 11, 19))),
    (StreakNews(STREAK, 7, D(2026, 11, 19), D(2026, 11, 26)), ("action", False, D(2026, 11, 19))),
    # 連絡なし alone, on a 1-day absence: a flagged 注意 from its first day.
    (StreakNews(STREAK, 1, no_contact_day=STREAK), ("caution", True, STREAK)),
])
def test_a_streak_without_an_alert_gets_one_at_its_level(news, expected):
    alert = new_alert(news)
    assert (alert.level, alert.no_contact, alert.signal_day) == expected


ACTION = StreakNews(STREAK, 7, action_day=D(2026, 11, 26))
NO_CONTACT = StreakNews(STREAK, 4, no_contact_day=D(2026, 11, 20))


@pytest.mark.parametrize(("level", "no_contact", "status", "news", "expected"), [
    ("caution", False, "open", ACTION, Change(escalate=True)),
    # Acknowledged at 注意: escalation sends it back to 未対応.
    ("caution", False, "acknowledged", ACTION, Change(escalate=True, reopen=True)),
    ("action", False, "acknowledged", ACTION, Change()),  # already 要対応: nothing twice
    # Resolved at 注意, the streak reached 要対応: escalated and reopened (a week away must be seen).
    ("caution", False, "resolved", ACTION, Change(escalate=True, reopen=True)),
    ("action", False, "resolved", ACTION, Change()),  # resolved at 要対応: stays resolved
    ("caution", False, "resolved", NO_CONTACT, Change()),  # a late 連絡なし day alone changes nothing
    ("caution", False, "acknowledged", NO_CONTACT, Change(flag_no_contact=True)),  # flagged, not reopened
    ("caution", True, "open", NO_CONTACT, Change()),
    ("action", True, "resolved", NO_CONTACT, Change()),
])
def test_what_news_does_to_an_existing_alert(level, no_contact, status, news, expected):
    change = change_for(level, no_contact, status, news)
    assert change == expected
    assert bool(change) == (expected.escalate or expected.flag_no_contact)
