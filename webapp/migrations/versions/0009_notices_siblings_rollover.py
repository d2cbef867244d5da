"""Notices from the ward (F-NOTICE, O-247), sibling links (F-SIB) and the April roll-over (F-ROLLOVER).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _base():
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "notices",
        *_base(),
        sa.Column("kind", sa.Enum("general", "maintenance", name="noticekind", native_enum=False, length=20),
                  nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience_all", sa.Boolean(), nullable=False),
        sa.Column("audience_types", sa.String(length=200), nullable=False),
        sa.Column("publish_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("publish_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("maintenance_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("maintenance_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("publish_until IS NULL OR publish_until > publish_from",
                           name=op.f("ck_notices_publication_ordered")),
        sa.CheckConstraint(
            "(kind = 'maintenance') = (maintenance_start IS NOT NULL AND maintenance_end IS NOT NULL)",
            name=op.f("ck_notices_maintenance_has_window")),
        sa.ForeignKeyConstraint(["author_id"], ["accounts.id"], name=op.f("fk_notices_author_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_table(
        "notice_reads",
        *_base(),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_notice_reads_account_id_accounts")),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_notice_reads_notice_id_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_reads")),
        sa.UniqueConstraint("notice_id", "account_id", name=op.f("uq_notice_reads_notice_id_account_id")),
    )
    op.create_index(op.f("ix_notice_reads_account_id"), "notice_reads", ["account_id"])

    op.create_table(
        "sibling_links",
        *_base(),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("sibling_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("child_id < sibling_id", name=op.f("ck_sibling_links_ordered_pair")),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_sibling_links_child_id_children")),
        sa.ForeignKeyConstraint(["sibling_id"], ["children.id"], name=op.f("fk_sibling_links_sibling_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sibling_links")),
        sa.UniqueConstraint("child_id", "sibling_id", name=op.f("uq_sibling_links_child_id_sibling_id")),
    )
    op.create_index(op.f("ix_sibling_links_sibling_id"), "sibling_links", ["sibling_id"])

    op.create_table(
        "rollover_runs",
        *_base(),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["applied_by_id"], ["accounts.id"],
                                name=op.f("fk_rollover_runs_applied_by_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollover_runs")),
        sa.UniqueConstraint("year", name=op.f("uq_rollover_runs_year")),
    )
    op.create_table(
        "child_transfers",
        *_base(),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("from_facility_id", sa.Integer(), nullable=False),
        sa.Column("to_facility_id", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("rollover_year", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_child_transfers_child_id_children")),
        sa.ForeignKeyConstraint(["from_facility_id"], ["facilities.id"],
                                name=op.f("fk_child_transfers_from_facility_id_facilities")),
        sa.ForeignKeyConstraint(["to_facility_id"], ["facilities.id"],
                                name=op.f("fk_child_transfers_to_facility_id_facilities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_transfers")),
    )
    op.create_index(op.f("ix_child_transfers_child_id"), "child_transfers", ["child_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_child_transfers_child_id"), table_name="child_transfers")
    op.drop_table("child_transfers")
    op.drop_table("rollover_runs")
    op.drop_index(op.f("ix_sibling_links_sibling_id"), table_name="sibling_links")
    op.drop_table("sibling_links")
    op.drop_index(op.f("ix_notice_reads_account_id"), table_name="notice_reads")
    op.drop_table("notice_reads")
    op.drop_table("notices")
