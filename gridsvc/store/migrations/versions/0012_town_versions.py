"""layer versions per town: the town whose planner redrew it, and what it was spliced onto

A town's planner redraws its own town's grids (units, committees, cells,
streets) without touching the others' (issue 23 item 4): the draft is the
active layer with that town's features replaced, and ``based_on`` keeps the
active version it was spliced onto, so a publish after another town's can
splice the same features onto the newer one. ``town_code`` stays on the
version once published (the history per town); none: a district version.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # as 0009 left the other ids


def upgrade() -> None:
    with op.batch_alter_table("layer_versions") as batch:
        batch.add_column(sa.Column("town_code", sa.String(40), nullable=True))
        batch.add_column(sa.Column("based_on", Id, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("layer_versions") as batch:
        batch.drop_column("based_on")
        batch.drop_column("town_code")
