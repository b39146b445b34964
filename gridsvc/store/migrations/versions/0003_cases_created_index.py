"""cases by report time

Evaluation reads the cases reported in a window (and the histories joined to
them); without this index every report would scan the whole cases table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_created", "cases", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_created", table_name="cases")
