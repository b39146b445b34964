"""duplicate search bounded by time in the index

The duplicate search asks for open cases of one category in a few cells
reported in the last hours. With (category, cell) alone SQLite reads every
case those cells ever had of that category (a busy corner collects hundreds
a year) and filters by time afterwards; with created_at in the index it
reads only the window.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_category_cell_created", "cases", ["category", "cell", "created_at"], unique=False
    )
    op.drop_index("ix_cases_category_cell", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_category_cell", "cases", ["category", "cell"], unique=False)
    op.drop_index("ix_cases_category_cell_created", table_name="cases")
