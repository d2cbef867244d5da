"""History-independent pages (issue #19 items 2 and 3): indexes for the paths that read a scope's period.

- attendance_entry_versions (child_id, day): the child's timeline reads one month
  of superseded attendance versions; only entry_id was indexed, so the month
  was found by walking every version ever written.
- monthly_reports (facility_id, period): a facility's month (its report list,
  its export) without reading the facility's other years.

Revision ID: 0011_hist
Revises: 0010
Create Date: 2026-12-07
"""

from alembic import op

revision = "0011_hist"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_attendance_entry_versions_child_id_day", "attendance_entry_versions", ["child_id", "day"])
    op.create_index("ix_monthly_reports_facility_id_period", "monthly_reports", ["facility_id", "period"])


def downgrade() -> None:
    op.drop_index("ix_monthly_reports_facility_id_period", table_name="monthly_reports")
    op.drop_index("ix_attendance_entry_versions_child_id_day", table_name="attendance_entry_versions")
