"""Demo data for alerts (F-ALERT): one streak's alert with the life an escalation gives it.

The sweep raises the demo's other alerts from the attendance entries; this one
it could not: the longest streak of ``demo_attendance`` was seen at 注意 (3
days) and acknowledged, escalated to 要対応 on its 7th day (which sent it back
to 未対応), and acknowledged again. The sweep, run after the demo, finds the
alert already at 要対応 and leaves it alone.
"""

from __future__ import annotations

import datetime as dt

from webapp.alerts.models import Alert, AlertEvent, AlertEventKind, AlertLevel, AlertStatus, legacy_kind
from webapp.clock import JST

CAUTION_DAYS, ACTION_DAYS = 3, 7  # the default thresholds (settings absence_*_days)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), JST).astimezone(dt.UTC)


def generate(ids, now: dt.datetime, children: list[dict], streaks: dict[int, list[dt.date]],
             caseworkers: dict[int, list[int]]) -> None:
    if not streaks:
        return
    child_id, days = max(streaks.items(), key=lambda item: len(item[1]))
    if len(days) <= ACTION_DAYS:
        return
    child = next(c for c in children if c["id"] == child_id)
    caseworker = caseworkers[child["centre_id"]][0]
    # The evening sweep of the 3rd and 7th days; acknowledged the next mornings.
    raised, escalated = _at(days[CAUTION_DAYS - 1], 18), _at(days[ACTION_DAYS - 1], 18)
    first_look, second_look = _at(days[CAUTION_DAYS], 9, 40), _at(days[ACTION_DAYS], 9, 15)
    [alert_id] = ids.insert(Alert, [{
        "child_id": child_id, "facility_id": child["facility_id"], "level": AlertLevel.ACTION.value,
        "kind": legacy_kind(AlertLevel.ACTION, False),
        "no_contact": False, "no_contact_day": None, "escalated_at": escalated, "streak_id": days[0],
        "signal_day": days[CAUTION_DAYS - 1], "streak_length": CAUTION_DAYS, "current_length": len(days),
        "last_absent_day": days[-1], "raised_at": raised, "status": AlertStatus.ACKNOWLEDGED.value,
        "acknowledged_at": second_look, "acknowledged_by_id": caseworker, "resolved_at": None,
        "resolved_by_id": None, "resolution_note": None, "version": 4, "created_at": raised,
        "updated_at": min(second_look, now),
    }])

    def event(kind, at, level, actor=None, length=None, day=None):
        return {"alert_id": alert_id, "kind": kind.value, "at": at, "actor_id": actor, "level": level.value,
                "streak_length": length, "day": day, "note": None, "legacy_alert_id": None, "legacy_kind": None}

    ids.insert(AlertEvent, [
        event(AlertEventKind.RAISED, raised, AlertLevel.CAUTION, length=CAUTION_DAYS, day=days[CAUTION_DAYS - 1]),
        event(AlertEventKind.ACKNOWLEDGED, first_look, AlertLevel.CAUTION, caseworker, CAUTION_DAYS + 1),
        event(AlertEventKind.ESCALATED, escalated, AlertLevel.ACTION, length=ACTION_DAYS,
              day=days[ACTION_DAYS - 1]),
        event(AlertEventKind.REOPENED, escalated, AlertLevel.ACTION, length=ACTION_DAYS),
        event(AlertEventKind.ACKNOWLEDGED, second_look, AlertLevel.ACTION, caseworker, ACTION_DAYS + 1),
    ])
