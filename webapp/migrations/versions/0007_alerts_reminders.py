"""Absence-streak alerts with their lifecycle (F-ALERT) and reminder steps sent (F-REMIND).

Also: accounts get an optional email address (where notifications go), and
attendance entries an index on updated_at (the sweep reads only what changed).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KINDS = ("absence_warning", "absence_alert", "absence_no_contact")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))

    op.create_index("ix_attendance_entries_updated_at", "attendance_entries", ["updated_at"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum(*KINDS, name="signalkind", native_enum=False, length=30), nullable=False),
        sa.Column("streak_id", sa.Date(), nullable=False),
        sa.Column("signal_day", sa.Date(), nullable=False),
        sa.Column("streak_length", sa.Integer(), nullable=False),
        sa.Column("current_length", sa.Integer(), nullable=False),
        sa.Column("last_absent_day", sa.Date(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Enum("open", "acknowledged", "resolved", name="alertstatus", native_enum=False,
                                    length=20), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution_note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("streak_length >= 1 AND current_length >= 1",
                           name=op.f("ck_alerts_lengths_valid")),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_alerts_child_id_children")),
        sa.ForeignKeyConstraint(["facility_id"], ["facilities.id"], name=op.f("fk_alerts_facility_id_facilities")),
        sa.ForeignKeyConstraint(["acknowledged_by_id"], ["accounts.id"],
                                name=op.f("fk_alerts_acknowledged_by_id_accounts")),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["accounts.id"], name=op.f("fk_alerts_resolved_by_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("child_id", "kind", "streak_id", name=op.f("uq_alerts_child_id_kind_streak_id")),
    )
    op.create_index("ix_alerts_status_raised_at", "alerts", ["status", "raised_at"])
    op.create_index(op.f("ix_alerts_facility_id"), "alerts", ["facility_id"])

    op.create_table(
        "alert_sweep_states",
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_through", sa.Date(), nullable=False),
        sa.Column("raised", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_alert_sweep_states_child_id_children")),
        sa.PrimaryKeyConstraint("child_id", name=op.f("pk_alert_sweep_states")),
    )

    op.create_table(
        "reminder_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("step", sa.Enum("before", "due", "overdue", name="reminderstep", native_enum=False, length=20),
                  nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["facility_id"], ["facilities.id"],
                                name=op.f("fk_reminder_sends_facility_id_facilities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_sends")),
        sa.UniqueConstraint("facility_id", "period", "step", name=op.f("uq_reminder_sends_facility_id_period_step")),
    )


def downgrade() -> None:
    op.drop_table("reminder_sends")
    op.drop_table("alert_sweep_states")
    op.drop_index(op.f("ix_alerts_facility_id"), table_name="alerts")
    op.drop_index("ix_alerts_status_raised_at", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_attendance_entries_updated_at", table_name="attendance_entries")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("email")
