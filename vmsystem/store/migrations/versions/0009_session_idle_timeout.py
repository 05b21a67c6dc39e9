"""Idle timeouts per session: sessions get ``idle_timeout_s`` (seconds without activity after
which the daemon closes the session; 0: never; NULL: the daemon's ``--session-idle-timeout``).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``sessions.idle_timeout_s``."""
    op.add_column("sessions", sa.Column("idle_timeout_s", sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop it (in place, as 0003 does)."""
    op.execute("ALTER TABLE sessions DROP COLUMN idle_timeout_s")
