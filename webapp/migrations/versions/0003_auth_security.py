"""Authentication security: lockout and second-factor columns, auth events, access log (S-AUTH, S-ACCESSLOG).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_enrolled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("recovery_codes", sa.Text(), nullable=True))
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(sa.Column("second_factor_pending", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "auth_events",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("login", sa.String(length=64), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("client_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_events")),
    )
    op.create_index(op.f("ix_auth_events_occurred_at"), "auth_events", ["occurred_at"])
    op.create_index(op.f("ix_auth_events_account_id"), "auth_events", ["account_id"])
    op.create_index("ix_auth_events_client_address_occurred_at", "auth_events", ["client_address", "occurred_at"])

    op.create_table(
        "access_log",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("login", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("organisation", sa.String(length=100), nullable=True),
        sa.Column("client_address", sa.String(length=45), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("route", sa.String(length=50), nullable=True),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("object_ids", sa.String(length=200), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index(op.f("ix_access_log_occurred_at"), "access_log", ["occurred_at"])
    op.create_index(op.f("ix_access_log_account_id"), "access_log", ["account_id"])


def downgrade() -> None:
    op.drop_table("access_log")
    op.drop_table("auth_events")
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("second_factor_pending")
    with op.batch_alter_table("accounts") as batch:
        for column in ("recovery_codes", "totp_enrolled_at", "totp_secret", "locked_until", "failed_logins"):
            batch.drop_column(column)
