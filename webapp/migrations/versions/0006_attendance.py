"""Daily attendance (F-DAILY) and per-facility closures (休業期間・特別開所日).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# Reserved so that issue 7's parts can land in any order with one head: each
# part fills in its own revision's upgrade and downgrade.


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
