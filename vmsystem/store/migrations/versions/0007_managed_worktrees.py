"""Managed worktrees: sessions get ``worktree_managed`` (the daemon created the directory and
removes it) and ``worktree_removed_at`` (when the retention removed it).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# A frozen copy of the timestamp type (as in 0001: never import the live schema here).
TIMESTAMP = sa.BigInteger().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    """Add the two columns (every existing session has an explicit worktree)."""
    op.add_column(
        "sessions",
        sa.Column("worktree_managed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("sessions", sa.Column("worktree_removed_at", TIMESTAMP, nullable=True))


def downgrade() -> None:
    """Drop them (in place, as 0005 does)."""
    op.execute("ALTER TABLE sessions DROP COLUMN worktree_removed_at")
    op.execute("ALTER TABLE sessions DROP COLUMN worktree_managed")
