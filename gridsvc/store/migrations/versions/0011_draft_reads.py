"""the ETag each key last read of a draft's features

QGIS's OAPIF provider edits a draft without If-Match (it keeps no ETags):
a write without one is checked against the ETag the same key was last
served, or last wrote, of that feature. One row per key, draft and feature
code; ``wrote`` marks a version the key wrote itself, so a 412 can say who
changed the feature and when.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gridsvc.store.schema

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # as 0009 left the other ids


def upgrade() -> None:
    op.create_table(
        "draft_reads",
        sa.Column("key_id", Id, sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("version_id", Id, sa.ForeignKey("layer_versions.id"), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("at", gridsvc.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("wrote", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "version_id", "code"),
    )
    op.create_index("ix_draft_reads_feature", "draft_reads", ["version_id", "code"])


def downgrade() -> None:
    op.drop_index("ix_draft_reads_feature", table_name="draft_reads")
    op.drop_table("draft_reads")
