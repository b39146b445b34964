"""versions of the responsibility list

The responsibility list (属地管理清单) changes like the boundaries do: a new
list is a draft, published atomically, and the old one retired but kept, so
every case can say under which list it was routed. ``matters`` stays the
active list (what routing reads); ``matter_lists`` and ``matter_list_rows``
hold every version. An existing list becomes version 1.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:40:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import gridsvc.store.schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lists = op.create_table(
        "matter_lists",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "matter_list_rows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("matter_lists.id"), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("record", gridsvc.store.schema.Json, nullable=False),
        sa.UniqueConstraint("version_id", "code", name="uq_matter_list_rows_version_code"),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT code, record FROM matters ORDER BY code")).all()
    if rows:
        now = datetime.now(UTC)
        op.bulk_insert(
            lists,
            [{"id": 1, "label": "initial", "status": "published", "created_at": now,
              "published_at": now}],
        )  # fmt: skip
        conn.execute(
            sa.text(
                "INSERT INTO matter_list_rows (version_id, code, record) "
                "SELECT 1, code, record FROM matters"
            )
        )


def downgrade() -> None:
    op.drop_table("matter_list_rows")
    op.drop_table("matter_lists")
