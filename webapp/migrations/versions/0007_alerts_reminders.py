"""Absence-streak alerts with their lifecycle (F-ALERT) and reminder steps sent (F-REMIND).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# Reserved so that issue 7's parts can land in any order with one head: each
# part fills in its own revision's upgrade and downgrade.


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
