"""at most one published responsibility list

Two publishes at once could both be saved (issue 19): two lists stayed
"published" and the service refused to start. A partial unique index on
``matter_lists.status`` where it is 'published' makes that impossible (SQLite
and PostgreSQL both have partial indexes).

A database that already has several published lists keeps the newest (latest
``published_at``, then highest id) and retires the others, with ``retired_at``
set now; ``matters`` (what routing reads) is rewritten from the one kept, since
it held the rows of whichever publish committed last. Each retired version is
named in a warning of the migration's log. Cases keep the version they were
routed under.

Revision ID: 0006
Revises: 0005
Create Date: 2027-03-16 10:00:00
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "uq_matter_lists_one_published"
PUBLISHED = sa.text("status = 'published'")

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    _retire_all_but_newest(op.get_bind())
    op.create_index(
        INDEX,
        "matter_lists",
        ["status"],
        unique=True,
        sqlite_where=PUBLISHED,
        postgresql_where=PUBLISHED,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="matter_lists")


def _retire_all_but_newest(conn: sa.Connection) -> None:
    published = (
        conn.execute(
            sa.text(
                "SELECT id FROM matter_lists WHERE status = 'published' "
                "ORDER BY published_at DESC, id DESC"
            )
        )
        .scalars()
        .all()
    )
    if len(published) < 2:
        return
    kept, retired = published[0], list(published[1:])
    lists = sa.table(
        "matter_lists",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("retired_at", sa.DateTime(timezone=True)),
    )
    conn.execute(
        sa.update(lists)
        .where(lists.c.id.in_(retired))
        .values(status="retired", retired_at=datetime.now(UTC))
    )
    conn.execute(sa.text("DELETE FROM matters"))
    conn.execute(
        sa.text(
            "INSERT INTO matters (code, record) "
            "SELECT code, record FROM matter_list_rows WHERE version_id = :kept"
        ),
        {"kept": kept},
    )
    log.warning(
        "%d responsibility lists were published: kept version %s (the newest), retired %s",
        len(published), kept, ", ".join(map(str, retired)),
    )  # fmt: skip
