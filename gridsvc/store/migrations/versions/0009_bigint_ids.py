"""64-bit ids on PostgreSQL

The API takes ids, cursors and If-Match versions up to 2^63 - 1 (and says
so in its OpenAPI). On PostgreSQL the id columns were int4, so looking up
an id past 2^31 - 1 failed in the database ("integer out of range", a 500)
instead of finding nothing. Ids, the foreign keys to them, the case's
version and the id sequences become bigint. The view over published
features depends on features.id and is made again around the change.

On SQLite nothing changes: an INTEGER PRIMARY KEY is 64-bit there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: table → its integer columns that hold ids (the primary key first)
ID_COLUMNS = {
    "layer_versions": ("id",),
    "features": ("id", "version_id"),
    "matter_lists": ("id",),
    "matter_list_rows": ("id", "version_id"),
    "cases": ("id", "duplicate_of", "version"),
    "case_events": ("id", "case_id"),
    "attachments": ("id", "case_id"),
    "api_keys": ("id",),
}

VIEW = """
CREATE VIEW published_features AS
    SELECT f.id, v.kind, f.version_id, f.code, f.name, f.parent_code, f.attrs, f.geom
    FROM features f JOIN layer_versions v ON v.id = f.version_id
    WHERE v.status = 'published';
"""


def _retype(sql_type: str) -> None:
    op.execute("DROP VIEW IF EXISTS published_features")
    for table, columns in ID_COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {c} TYPE {sql_type}" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
        op.execute(f"ALTER SEQUENCE IF EXISTS {table}_id_seq AS {sql_type}")
    op.execute(VIEW)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _retype("bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _retype("integer")
