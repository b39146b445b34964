"""a patrol key's own grid

A patrol (网格员) walks one responsibility grid; the patrol app shows that
grid's open cases on its map ("my grid"), and the privacy rule lets a patrol
read its own reports and the open cases of its grid, no others. The grid is
the key's, set when the key is created, by the grid's code.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("grid_code", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("grid_code")
