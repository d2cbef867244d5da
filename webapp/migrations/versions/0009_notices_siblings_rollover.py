"""Notices from the ward (F-NOTICE, O-247), sibling links (F-SIB) and the April roll-over (F-ROLLOVER).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Reserved so that issue 7's parts can land in any order with one head: each
# part fills in its own revision's upgrade and downgrade.


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
