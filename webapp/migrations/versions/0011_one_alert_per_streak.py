"""One alert per absence streak (issue #18): 注意 → 要対応 levels, 連絡なし as a flag, a history table.

Expand only (runbooks/patching.md, tests/unit/test_migrations_expand_only.py):
the previous release keeps serving on this schema during a rolling upgrade, so
``alerts.kind`` (NOT NULL) and its key (child, kind, streak) stay, and this
release keeps writing ``kind`` (``models.legacy_kind``: the streak's highest
old kind). The new columns have server defaults, so the old release's inserts
work. During the rolling window an old sweep that tries to raise a second kind
for a streak that has its alert meets the new key (child, streak) and fails
its run; the next sweep (new code) does the work. A later release drops
``kind`` and the old key (contract, listed in CONTRACT_ALLOWED after review).

Upgrade: the separate alerts one streak raised (警告, アラート, 連絡なし欠席:
unique per child, kind and streak) become one alert per child and streak.
Alerts of one child whose streaks share a day (same streak id, or a streak
that grew backwards by a late entry) are one streak. The merged alert keeps
the id of the streak's first alert (links to it keep working) and:

- level 要対応 if the streak had an アラート, else 注意; the 連絡なし flag and
  its day from a 連絡なし欠席 alert; ``escalated_at`` = when the アラート was
  raised, if an earlier alert of the streak existed (else it started at 要対応);
- the least handled status of its alerts (any 未対応 → 未対応, else any 確認済
  → 確認済, else 対応済), so merging never hides an open alert; the latest
  acknowledgement and resolution (who, when, note) when that status has them;
- the version above all of theirs, so a form shown before is refused (409).

Nothing is lost: every old alert becomes events in ``alert_events`` — its
raise (with its old id and kind, day and length), its acknowledgement and its
resolution (who, when, the note) — shown as the alert's history.

Downgrade: each alert becomes the old separate rows again — 要対応 gives a 警告
and an アラート row, 注意 a 警告 row (or a 連絡なし欠席 row when the alert was
raised by its 連絡なし day), the flag an extra 連絡なし欠席 row — each with the
alert's status, acknowledgement and resolution. Lossy where the old schema
has no room: the history table is dropped (earlier acknowledgements and
resolution notes of merged alerts, the escalation time), the old rows'
own ids (but the first keeps the alert's id) and their own raise times and
days (the アラート row takes the escalation time when there was one).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LEVELS = ("caution", "action")
EVENT_KINDS = ("raised", "escalated", "reopened", "no_contact", "acknowledged", "resolved")
# The old kinds in the order a streak raised them on one day.
KIND_ORDER = {"absence_no_contact": 0, "absence_warning": 1, "absence_alert": 2}
LEVEL_OF_KIND = {"absence_warning": "caution", "absence_alert": "action", "absence_no_contact": None}

_alerts = sa.table(
    "alerts",
    *(sa.column(name) for name in (
        "id", "child_id", "facility_id", "kind", "streak_id", "signal_day", "streak_length", "current_length",
        "last_absent_day", "raised_at", "status", "acknowledged_at", "acknowledged_by_id", "resolved_at",
        "resolved_by_id", "resolution_note", "version", "created_at", "updated_at", "level", "no_contact",
        "no_contact_day", "escalated_at")),
)
_events = sa.table(
    "alert_events",
    *(sa.column(name) for name in (
        "id", "alert_id", "kind", "at", "actor_id", "level", "streak_length", "day", "note", "legacy_alert_id",
        "legacy_kind")),
)


def _level_type():
    return sa.Enum(*LEVELS, name="alertlevel", native_enum=False, length=20)


def upgrade() -> None:
    # Expand only (runbooks/patching.md): new columns with server defaults, so the previous
    # release's inserts still work; ``kind`` and its key stay (the new code keeps writing kind).
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("level", _level_type(), server_default="caution", nullable=False))
        batch.add_column(sa.Column("no_contact", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("no_contact_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
    events = _merge(op.get_bind())
    with op.batch_alter_table("alerts") as batch:
        batch.create_unique_constraint(op.f("uq_alerts_child_id_streak_id"), ["child_id", "streak_id"])
    # After the last change to alerts: on SQLite a batch change copies the table, which a
    # table referring to it would forbid.
    _create_events()
    if events:
        op.get_bind().execute(sa.insert(_events), events)


def _create_events() -> None:
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum(*EVENT_KINDS, name="alerteventkind", native_enum=False, length=20),
                  nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("level", _level_type(), nullable=True),
        sa.Column("streak_length", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("legacy_alert_id", sa.Integer(), nullable=True),
        sa.Column("legacy_kind", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_events_alert_id_alerts")),
        sa.ForeignKeyConstraint(["actor_id"], ["accounts.id"], name=op.f("fk_alert_events_actor_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index(op.f("ix_alert_events_alert_id"), "alert_events", ["alert_id"])


def streaks_of(rows: list) -> list[list]:
    """One child's old alerts grouped by streak: alerts whose days overlap are one streak."""
    groups: list[list] = []
    end = None
    for row in sorted(rows, key=lambda r: (r.streak_id, r.last_absent_day)):
        if groups and row.streak_id <= end:
            groups[-1].append(row)
            end = max(end, row.last_absent_day)
        else:
            groups.append([row])
            end = row.last_absent_day
    return groups


def merged(group: list) -> tuple[int, dict, list[dict], list[int]]:
    """The streak's one alert: the row kept, the values to update it with, its history, the rows to delete."""
    group = sorted(group, key=lambda r: (r.raised_at, KIND_ORDER[r.kind], r.id))
    first = group[0]
    action = [r for r in group if r.kind == "absence_alert"]
    no_contact = [r for r in group if r.kind == "absence_no_contact"]
    statuses = {r.status for r in group}
    status = "open" if "open" in statuses else "acknowledged" if "acknowledged" in statuses else "resolved"
    values = {
        "level": "action" if action else "caution",
        # The kind the previous release shows for the streak (the merged rows' highest).
        "kind": "absence_alert" if action else first.kind,
        "no_contact": bool(no_contact),
        "no_contact_day": min((r.signal_day for r in no_contact), default=None),
        "escalated_at": action[0].raised_at if action and action[0].raised_at > first.raised_at else None,
        "streak_id": min(r.streak_id for r in group),
        "current_length": max(r.current_length for r in group),
        "last_absent_day": max(r.last_absent_day for r in group),
        "facility_id": max(group, key=lambda r: (r.last_absent_day, r.raised_at)).facility_id,
        "status": status, "acknowledged_at": None, "acknowledged_by_id": None,
        "resolved_at": None, "resolved_by_id": None, "resolution_note": None,
        "version": max(r.version for r in group) + 1,
        "updated_at": max(r.updated_at for r in group),
    }
    if status != "open":
        seen = max((r for r in group if r.acknowledged_at is not None), key=lambda r: r.acknowledged_at,
                   default=None)
        if seen is not None:
            values.update(acknowledged_at=seen.acknowledged_at, acknowledged_by_id=seen.acknowledged_by_id)
    if status == "resolved":
        done = max(group, key=lambda r: r.resolved_at)
        values.update(resolved_at=done.resolved_at, resolved_by_id=done.resolved_by_id,
                      resolution_note=done.resolution_note)
    events = []
    for row in group:
        legacy = {"alert_id": first.id, "legacy_alert_id": row.id, "legacy_kind": row.kind,
                  "streak_length": row.streak_length, "level": LEVEL_OF_KIND[row.kind]}
        events.append({**legacy, "kind": "raised", "at": row.raised_at, "actor_id": None, "day": row.signal_day,
                       "note": None})
        if row.acknowledged_at is not None:
            events.append({**legacy, "kind": "acknowledged", "at": row.acknowledged_at,
                           "actor_id": row.acknowledged_by_id, "day": None, "note": None})
        if row.resolved_at is not None:
            events.append({**legacy, "kind": "resolved", "at": row.resolved_at, "actor_id": row.resolved_by_id,
                           "day": None, "note": row.resolution_note})
    events.sort(key=lambda e: (e["at"], e["legacy_alert_id"]))
    return first.id, values, events, [r.id for r in group[1:]]


def _merge(conn) -> list[dict]:
    """Merge each streak's alerts in place; their history, to be written once its table exists."""
    history = []
    by_child: dict[int, list] = {}
    for row in conn.execute(sa.select(_alerts).order_by(_alerts.c.id)):
        by_child.setdefault(row.child_id, []).append(row)
    for rows in by_child.values():
        for group in streaks_of(rows):
            kept, values, events, gone = merged(group)
            if gone:
                # Before the update: the kept row takes the streak's earliest id, maybe one of theirs.
                conn.execute(sa.delete(_alerts).where(_alerts.c.id.in_(gone)))
            conn.execute(sa.update(_alerts).where(_alerts.c.id == kept).values(**values))
            history.extend(events)
    return history


def downgrade() -> None:
    # First, so that SQLite may copy the alerts table (see upgrade).
    op.drop_index(op.f("ix_alert_events_alert_id"), table_name="alert_events")
    op.drop_table("alert_events")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint("uq_alerts_child_id_streak_id", type_="unique")
    _split(op.get_bind())
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("no_contact_day")
        batch.drop_column("no_contact")
        batch.drop_column("level")


def old_rows(alert) -> tuple[str, list[dict]]:
    """The old kind of the alert's own row, and the extra old rows (kind, raise time, day) it stands for."""
    raised_by_no_contact = alert.no_contact and alert.no_contact_day == alert.signal_day
    if alert.level == "action":
        kind = "absence_alert"
        extra = [{"kind": "absence_warning", "raised_at": alert.raised_at, "signal_day": alert.signal_day}]
    else:
        kind = "absence_no_contact" if raised_by_no_contact else "absence_warning"
        extra = []
    if alert.no_contact and kind != "absence_no_contact":
        extra.append({"kind": "absence_no_contact", "raised_at": alert.raised_at,
                      "signal_day": alert.no_contact_day or alert.signal_day})
    return kind, extra


def _split(conn) -> None:
    copied = ("child_id", "facility_id", "streak_id", "streak_length", "current_length", "last_absent_day",
              "status", "acknowledged_at", "acknowledged_by_id", "resolved_at", "resolved_by_id",
              "resolution_note", "version", "created_at", "updated_at")
    for alert in conn.execute(sa.select(_alerts).order_by(_alerts.c.id)).all():
        kind, extra = old_rows(alert)
        own = {"kind": kind}
        if kind == "absence_alert" and alert.escalated_at is not None:
            own["raised_at"] = alert.escalated_at
        conn.execute(sa.update(_alerts).where(_alerts.c.id == alert.id).values(**own))
        for values in extra:
            conn.execute(sa.insert(_alerts).values(**{name: getattr(alert, name) for name in copied},
                                                   **values, level=alert.level, no_contact=alert.no_contact))
