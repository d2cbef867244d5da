"""Daily attendance (F-DAILY) and per-facility closures (休業期間・特別開所日).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATUS = sa.Enum("present", "absent", "late", "left_early", name="attendance", native_enum=False, length=20)
REASON = sa.Enum(
    "illness", "family", "bereavement", "other", "unknown", name="absencereason", native_enum=False, length=20
)


def _content_columns() -> list[sa.Column]:
    """The payload shared by attendance_entries and attendance_entry_versions."""
    return [
        sa.Column("status", STATUS, nullable=False),
        sa.Column("absence_reason", REASON, nullable=True),
        sa.Column("no_contact", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "attendance_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_content_columns(),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_attendance_entries_child_id_children")),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_attendance_entries_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["accounts.id"], name=op.f("fk_attendance_entries_recorded_by_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_entries")),
        sa.UniqueConstraint("child_id", "day", name=op.f("uq_attendance_entries_child_id_day")),
    )
    op.create_index("ix_attendance_entries_child_id", "attendance_entries", ["child_id"])
    op.create_index("ix_attendance_entries_facility_id_day", "attendance_entries", ["facility_id", "day"])

    op.create_table(
        "attendance_entry_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
        *_content_columns(),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["attendance_entries.id"], name=op.f("fk_attendance_entry_versions_entry_id_attendance_entries")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_attendance_entry_versions_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_attendance_entry_versions_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["accounts.id"], name=op.f("fk_attendance_entry_versions_recorded_by_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_entry_versions")),
        sa.UniqueConstraint("entry_id", "version", name=op.f("uq_attendance_entry_versions_entry_id_version")),
    )
    op.create_index("ix_attendance_entry_versions_entry_id", "attendance_entry_versions", ["entry_id"])

    op.create_table(
        "facility_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "kind", sa.Enum("closed", "extra_open", name="closurekind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_facility_closures_range_ordered")),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_facility_closures_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["accounts.id"], name=op.f("fk_facility_closures_created_by_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility_closures")),
    )
    op.create_index("ix_facility_closures_facility_id", "facility_closures", ["facility_id"])


def downgrade() -> None:
    op.drop_index("ix_facility_closures_facility_id", table_name="facility_closures")
    op.drop_table("facility_closures")
    op.drop_index("ix_attendance_entry_versions_entry_id", table_name="attendance_entry_versions")
    op.drop_table("attendance_entry_versions")
    op.drop_index("ix_attendance_entries_facility_id_day", table_name="attendance_entries")
    op.drop_index("ix_attendance_entries_child_id", table_name="attendance_entries")
    op.drop_table("attendance_entries")
