"""Several daemons over one store: ``daemons`` (each daemon's lease: registered at start,
renewed by its heartbeat) and the daemon that holds each session's runtime
(``sessions.daemon_id``) and runs each execution (``executions.daemon_id``); NULL for rows
written before this revision (treated as a dead daemon's).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# A frozen copy of the timestamp type (never import the live schema into a migration).
TIMESTAMP = sa.BigInteger().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    """Create ``daemons``; add ``sessions.daemon_id`` and ``executions.daemon_id``."""
    op.create_table(
        "daemons",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("hostname", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_daemons"),
    )
    op.add_column("sessions", sa.Column("daemon_id", sa.Text(), nullable=True))
    op.add_column("executions", sa.Column("daemon_id", sa.Text(), nullable=True))
    op.create_index("ix_sessions_daemon_id", "sessions", ["daemon_id"])
    op.create_index("ix_executions_daemon_id", "executions", ["daemon_id"])


def downgrade() -> None:
    """Drop them again (in place, as 0003 does)."""
    op.drop_index("ix_executions_daemon_id", "executions")
    op.drop_index("ix_sessions_daemon_id", "sessions")
    op.execute("ALTER TABLE executions DROP COLUMN daemon_id")
    op.execute("ALTER TABLE sessions DROP COLUMN daemon_id")
    op.drop_table("daemons")
