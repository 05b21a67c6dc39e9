"""Forks: executions get ``replay_of``, the id of the execution a fork replayed (NULL for
every other execution).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``executions.replay_of``."""
    op.add_column("executions", sa.Column("replay_of", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop it (in place, as 0003 does: no table copy cascading into the events)."""
    op.execute("ALTER TABLE executions DROP COLUMN replay_of")
