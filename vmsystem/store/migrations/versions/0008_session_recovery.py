"""Durable sessions: sessions get ``recovered_at`` (the last time the session was rebuilt by
replay after its runtime was lost; NULL if never) and ``recovery_count`` (how many times).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# A frozen copy of the timestamp type (never import the live schema into a migration).
TIMESTAMP = sa.BigInteger().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    """Add ``sessions.recovered_at`` and ``sessions.recovery_count``."""
    op.add_column("sessions", sa.Column("recovered_at", TIMESTAMP, nullable=True))
    op.add_column(
        "sessions",
        sa.Column("recovery_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    """Drop both columns (in place, as 0003 does)."""
    op.execute("ALTER TABLE sessions DROP COLUMN recovery_count")
    op.execute("ALTER TABLE sessions DROP COLUMN recovered_at")
