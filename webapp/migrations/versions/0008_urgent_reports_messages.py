"""Urgent reports (F-URGENT) and per-child message threads with read status (F-MSG).

Notifications go to accounts' email addresses (added in 0007), without personal data (F-NOTIFY).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_URGENT_CATEGORY = sa.Enum("injury", "disclosure", "guardian", "unexplained_absence", "long_absence", "not_seen",
                           "abduction", "other", name="urgentcategory", native_enum=False, length=30)
_URGENT_STATUS = sa.Enum("received", "acknowledged", "responding", "closed", name="urgentstatus",
                         native_enum=False, length=20)
_SIDE = sa.Enum("centre", "facility", name="side", native_enum=False, length=20)


def _timestamps():
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "urgent_reports",
        *_timestamps(),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=True),
        sa.Column("category", _URGENT_CATEGORY, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", _URGENT_STATUS, nullable=False),
        sa.Column("reported_by_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["facility_id"], ["facilities.id"], name=op.f("fk_urgent_reports_facility_id_facilities")),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name=op.f("fk_urgent_reports_centre_id_centres")),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_urgent_reports_child_id_children")),
        sa.ForeignKeyConstraint(["reported_by_id"], ["accounts.id"],
                                name=op.f("fk_urgent_reports_reported_by_id_accounts")),
        sa.ForeignKeyConstraint(["acknowledged_by_id"], ["accounts.id"],
                                name=op.f("fk_urgent_reports_acknowledged_by_id_accounts")),
        sa.ForeignKeyConstraint(["closed_by_id"], ["accounts.id"], name=op.f("fk_urgent_reports_closed_by_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_urgent_reports")),
    )
    op.create_index("ix_urgent_reports_facility_id", "urgent_reports", ["facility_id"])
    op.create_index("ix_urgent_reports_child_id", "urgent_reports", ["child_id"])
    op.create_index("ix_urgent_reports_centre_id_status", "urgent_reports", ["centre_id", "status"])

    op.create_table(
        "urgent_responses",
        *_timestamps(),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["urgent_reports.id"],
                                name=op.f("fk_urgent_responses_report_id_urgent_reports")),
        sa.ForeignKeyConstraint(["author_id"], ["accounts.id"], name=op.f("fk_urgent_responses_author_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_urgent_responses")),
    )
    op.create_index("ix_urgent_responses_report_id", "urgent_responses", ["report_id"])

    op.create_table(
        "messages",
        *_timestamps(),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("side", _SIDE, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_messages_child_id_children")),
        sa.ForeignKeyConstraint(["facility_id"], ["facilities.id"], name=op.f("fk_messages_facility_id_facilities")),
        sa.ForeignKeyConstraint(["author_id"], ["accounts.id"], name=op.f("fk_messages_author_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index("ix_messages_child_id_facility_id", "messages", ["child_id", "facility_id"])

    op.create_table(
        "message_reads",
        *_timestamps(),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("last_read_message_id", sa.Integer(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_message_reads_account_id_accounts")),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_message_reads_child_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_reads")),
        sa.UniqueConstraint("account_id", "child_id", name=op.f("uq_message_reads_account_id_child_id")),
    )
    op.create_index("ix_message_reads_child_id", "message_reads", ["child_id"])


def downgrade() -> None:
    op.drop_index("ix_message_reads_child_id", table_name="message_reads")
    op.drop_table("message_reads")
    op.drop_index("ix_messages_child_id_facility_id", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_urgent_responses_report_id", table_name="urgent_responses")
    op.drop_table("urgent_responses")
    op.drop_index("ix_urgent_reports_centre_id_status", table_name="urgent_reports")
    op.drop_index("ix_urgent_reports_child_id", table_name="urgent_reports")
    op.drop_index("ix_urgent_reports_facility_id", table_name="urgent_reports")
    op.drop_table("urgent_reports")
