"""Urgent reports (F-URGENT) and per-child message threads with read status (F-MSG).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Reserved so that issue 7's parts can land in any order with one head: each
# part fills in its own revision's upgrade and downgrade.


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
