"""Ordinals: every execution gets ``ordinal``, its position in its session (1, 2, 3...),
unique per session. Existing executions are numbered in their old order (``started_at``,
then ``id``). History, exports and session-stream resumption sort and seek by it.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``executions.ordinal``, number existing executions, and index it (unique)."""
    op.add_column(
        "executions",
        sa.Column("ordinal", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    # A window function numbers every session's executions in one statement (SQLite >= 3.25).
    op.execute(
        "UPDATE executions SET ordinal = ("
        " SELECT numbered.n FROM ("
        "  SELECT id, ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY started_at, id) AS n"
        "  FROM executions"
        " ) AS numbered WHERE numbered.id = executions.id"
        ")"
    )
    op.create_index(
        "uq_executions_session_id_ordinal", "executions", ["session_id", "ordinal"], unique=True
    )


def downgrade() -> None:
    """Drop the index and the column (in place, as 0003 does)."""
    op.drop_index("uq_executions_session_id_ordinal", table_name="executions")
    op.execute("ALTER TABLE executions DROP COLUMN ordinal")
