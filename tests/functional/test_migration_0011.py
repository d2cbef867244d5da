"""Migration 0011 (issue #18): the separate alerts of one streak become one alert, history kept;
and back again. Real old rows, written at 0010, on the suite's database engine."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.factories import Factory
from webapp import migrate
from webapp.alerts.models import Alert, AlertEvent, AlertLevel, AlertStatus
from webapp.db import create_engine

pytestmark = pytest.mark.req("F-ALERT")

D = dt.date


def at(day: int, hour: int, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour)  # naive UTC, as 0010 stores it on SQLite


@pytest.fixture
def old_world(scratch_url):
    """People at head (the factories need the models), then back to 0010 for the old alert rows."""
    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    with Session(engine) as db:
        make = Factory(db)
        centre = make.centre()
        facility = make.facility(centre=centre)
        world = {"child": make.child(facility=facility).id, "other": make.child(facility=facility).id,
                 "facility": facility.id, "ana": make.account("caseworker", centre=centre).id,
                 "ben": make.account("caseworker", centre=centre).id}
        db.commit()
    migrate.downgrade(scratch_url, "0010")
    yield engine, world
    engine.dispose()


def old_alert(world, id, child, kind, streak_id, signal_day, length, raised_at, status="open", **kw):
    kw.setdefault("current_length", length)
    kw.setdefault("last_absent_day", signal_day)
    return {"id": id, "child_id": world[child], "facility_id": world["facility"], "kind": kind,
            "streak_id": streak_id, "signal_day": signal_day, "streak_length": length, "raised_at": raised_at,
            "status": status, "acknowledged_at": kw.pop("acknowledged_at", None),
            "acknowledged_by_id": kw.pop("acknowledged_by_id", None), "resolved_at": kw.pop("resolved_at", None),
            "resolved_by_id": kw.pop("resolved_by_id", None), "resolution_note": kw.pop("resolution_note", None),
            "version": kw.pop("version", 1), "created_at": raised_at, "updated_at": raised_at, **kw}


def test_0011_merges_a_streaks_alerts_into_one_and_keeps_every_step(old_world, scratch_url):
    engine, w = old_world
    with engine.begin() as conn:
        alerts = sa.Table("alerts", sa.MetaData(), autoload_with=conn)
        conn.execute(alerts.insert(), [
            # One streak from 11-17: no contact on day 1 (resolved by Ben, with a note), the 3-day
            # warning (acknowledged by Ana), the 7-day alert (open).
            old_alert(w, 11, "child", "absence_warning", D(2026, 11, 17), D(2026, 11, 19), 3, at(19, 1),
                      "acknowledged", acknowledged_at=at(19, 2), acknowledged_by_id=w["ana"], version=2,
                      current_length=7, last_absent_day=D(2026, 11, 26)),
            old_alert(w, 12, "child", "absence_no_contact", D(2026, 11, 17), D(2026, 11, 17), 1, at(17, 1),
                      "resolved", acknowledged_at=at(18, 3), acknowledged_by_id=w["ben"], resolved_at=at(18, 3),
                      resolved_by_id=w["ben"], resolution_note="電話で母親と話した", version=2),
            old_alert(w, 13, "child", "absence_alert", D(2026, 11, 17), D(2026, 11, 26), 7, at(26, 1)),
            # An older streak of the same child, resolved: stays its own alert.
            old_alert(w, 14, "child", "absence_warning", D(2026, 10, 5), D(2026, 10, 7), 3, at(7, 1, 10),
                      "resolved", acknowledged_at=at(7, 2, 10), acknowledged_by_id=w["ana"],
                      resolved_at=at(8, 2, 10), resolved_by_id=w["ana"], resolution_note="病欠と確認"),
            # A streak that grew backwards by a late entry (another id), raised at 7 days at once.
            old_alert(w, 15, "other", "absence_warning", D(2026, 11, 18), D(2026, 11, 20), 3, at(20, 1),
                      last_absent_day=D(2026, 11, 26)),
            old_alert(w, 16, "other", "absence_alert", D(2026, 11, 17), D(2026, 11, 25), 7, at(20, 1),
                      last_absent_day=D(2026, 11, 26), current_length=8),
        ])

    migrate.upgrade(scratch_url)

    with Session(engine) as db:
        merged, older, other = db.scalars(sa.select(Alert).order_by(Alert.child_id, Alert.streak_id.desc())).all()
        # Kept: the streak's first alert (the no-contact one), now 要対応, flagged, escalated at the 7th day.
        assert (merged.id, merged.level, merged.no_contact, merged.no_contact_day) == (
            12, AlertLevel.ACTION, True, D(2026, 11, 17))
        assert merged.escalated_at == at(26, 1).replace(tzinfo=dt.UTC)
        assert (merged.streak_id, merged.signal_day, merged.current_length, merged.last_absent_day) == (
            D(2026, 11, 17), D(2026, 11, 17), 7, D(2026, 11, 26))
        # Least handled status wins: the 7-day alert was open, so the streak is.
        assert (merged.status, merged.acknowledged_at, merged.resolved_at) == (AlertStatus.OPEN, None, None)
        assert merged.version == 3 and merged.kind == "absence_alert"  # for the previous release
        history = [(e.kind.value, e.legacy_alert_id, e.legacy_kind, e.actor_id, e.note) for e in merged.events]
        assert history == [
            ("raised", 12, "absence_no_contact", None, None),
            ("acknowledged", 12, "absence_no_contact", w["ben"], None),
            ("resolved", 12, "absence_no_contact", w["ben"], "電話で母親と話した"),
            ("raised", 11, "absence_warning", None, None),
            ("acknowledged", 11, "absence_warning", w["ana"], None),
            ("raised", 13, "absence_alert", None, None),
        ]
        assert merged.events[0].at == at(17, 1).replace(tzinfo=dt.UTC)

        assert (older.id, older.level, older.status, older.resolution_note, older.resolved_by_id) == (
            14, AlertLevel.CAUTION, AlertStatus.RESOLVED, "病欠と確認", w["ana"])
        assert older.acknowledged_at == at(7, 2, 10).replace(tzinfo=dt.UTC)

        # Raised together (same sweep): 要対応 from the start, not escalated; the earlier streak start.
        assert (other.id, other.level, other.escalated_at, other.streak_id, other.current_length) == (
            15, AlertLevel.ACTION, None, D(2026, 11, 17), 8)
        assert db.scalar(sa.select(sa.func.count(AlertEvent.id))) == 6 + 3 + 2  # every raise, acknowledgement and resolution

    # Expand only: the previous release, which knows nothing of levels, can still raise an alert.
    row = old_alert(w, 17, "child", "absence_warning", D(2026, 12, 1), D(2026, 12, 3), 3, at(3, 1, 12))
    with engine.begin() as conn:
        conn.execute(sa.table("alerts", *(sa.column(name) for name in row)).insert().values(**row))
    with Session(engine) as db:
        new = db.get(Alert, 17)
        assert (new.level, new.no_contact) == (AlertLevel.CAUTION, False)
        db.delete(new)
        db.commit()

    migrate.downgrade(scratch_url, "0010")

    with engine.connect() as conn:
        alerts = sa.Table("alerts", sa.MetaData(), autoload_with=conn)
        rows = conn.execute(sa.select(alerts.c.id, alerts.c.child_id, alerts.c.kind, alerts.c.streak_id,
                                      alerts.c.status, alerts.c.resolution_note).order_by(alerts.c.id)).all()
    by_streak = {}
    for row in rows:
        by_streak.setdefault((row.child_id, row.streak_id), []).append(row)
    assert sorted(r.kind for r in by_streak[(w["child"], D(2026, 11, 17))]) == [
        "absence_alert", "absence_no_contact", "absence_warning"]
    assert {r.status for r in by_streak[(w["child"], D(2026, 11, 17))]} == {"open"}
    [back] = by_streak[(w["child"], D(2026, 10, 5))]
    assert (back.id, back.kind, back.status, back.resolution_note) == (14, "absence_warning", "resolved", "病欠と確認")
    assert sorted(r.kind for r in by_streak[(w["other"], D(2026, 11, 17))]) == ["absence_alert", "absence_warning"]
    assert 12 in {r.id for r in rows}  # the merged alert keeps its id

    migrate.upgrade(scratch_url)  # and up again over the split rows
    with Session(engine) as db:
        assert db.scalar(sa.select(sa.func.count(Alert.id))) == 3
