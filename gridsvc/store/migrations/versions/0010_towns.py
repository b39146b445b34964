"""towns under a district: each case's town, each key's town

A district's deployment holds several towns (街镇); every case belongs to
the town whose territory covers its point, and a key may be scoped to one
town, whose cases alone it reads and acts on (issue 23). A single town's
deployment has one town, its jurisdiction.

Existing cases get their town from their unit's parent code in the
published units layer: a district's units nest in its towns, a single
town's units in its jurisdiction, so both come out right. A case without
a unit keeps no town until it is matched again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE cases SET town_code = (
    SELECT f.parent_code FROM features f JOIN layer_versions v ON v.id = f.version_id
    WHERE v.kind = 'units' AND v.status = 'published' AND f.code = cases.unit_code
      AND f.parent_code <> ''
    LIMIT 1
)
WHERE town_code IS NULL AND unit_code IS NOT NULL
"""


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("town_code", sa.String(40), nullable=True))
        batch.create_index("ix_cases_town_created", ["town_code", "created_at"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("town_code", sa.String(40), nullable=True))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("town_code")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_town_created")
        batch.drop_column("town_code")
