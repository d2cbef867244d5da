"""History-independent pages (issue #19 items 2 and 3): indexes for the paths that read a scope's period.

- attendance_entry_versions (child_id, day): the child's timeline reads one month
  of superseded attendance versions; only entry_id was indexed, so the month
  was found by walking every version ever written.
- monthly_reports (facility_id, period): a facility's month (its report list,
  its export) without reading the facility's other years.
- monthly_reports (status, child_id): the reports waiting in a scope (the
  menu's count on every page, the review queue's count and filters) found
  among the few submitted ones; SQLite otherwise walks every year of each
  child's reports through (child_id, period), since its statistics cannot tell
  that "submitted" is rare.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_attendance_entry_versions_child_id_day", "attendance_entry_versions", ["child_id", "day"])
    op.create_index("ix_monthly_reports_facility_id_period", "monthly_reports", ["facility_id", "period"])
    op.create_index("ix_monthly_reports_status_child_id", "monthly_reports", ["status", "child_id"])


def downgrade() -> None:
    op.drop_index("ix_monthly_reports_status_child_id", table_name="monthly_reports")
    op.drop_index("ix_monthly_reports_facility_id_period", table_name="monthly_reports")
    op.drop_index("ix_attendance_entry_versions_child_id_day", table_name="attendance_entry_versions")
