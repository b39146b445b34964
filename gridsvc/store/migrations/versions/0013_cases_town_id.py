"""a town's case list, newest first, without sorting the town

A town-scoped ``/api/v1/cases`` page is ``WHERE town_code = ? [AND id < cursor]
ORDER BY id DESC LIMIT n``. With only ``(town_code, created_at)`` both SQLite and
PostgreSQL read every case of the town and sort them for each page: 45,000 rows a
page for a town of a 10 M-case city (benchmarks/bench_district.py). On
``(town_code, id)`` the page is the index's last ``n`` entries of the town.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 10:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_town_id", "cases", ["town_code", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_town_id", table_name="cases")
