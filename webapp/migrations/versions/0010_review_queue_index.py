"""The review queue (issue #18): an index for counting and paging submitted reports by submission time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_monthly_reports_status_submitted_at", "monthly_reports", ["status", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_monthly_reports_status_submitted_at", table_name="monthly_reports")
