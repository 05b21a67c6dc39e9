"""Provenance: templates get a ``revision`` (1 for existing ones; every change adds one) and
executions a ``provenance`` JSON object (NULL for executions recorded before).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``templates.revision`` and ``executions.provenance``."""
    op.add_column(
        "templates",
        sa.Column("revision", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    op.add_column("executions", sa.Column("provenance", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop both columns (in place: SQLite >= 3.35 drops a column without copying the table,
    which with foreign keys on would cascade into the events)."""
    op.execute("ALTER TABLE executions DROP COLUMN provenance")
    op.execute("ALTER TABLE templates DROP COLUMN revision")
